"""Issue 7, Faults: two ``run``s started together — one works, the other exits 75 at once."""

from __future__ import annotations

import time

from .reliability_cli import save, start_cli, wall_now
from .reliability_world import diff_summary, end_state, start_platforms


def test_two_runs_started_together_one_works_the_other_exits_75(tmp_path, artifacts_dir,
                                                                fault_free_state):
    with start_platforms(tmp_path / "out") as platforms:
        started = wall_now()
        children = [start_cli(platforms, started, "run") for _ in range(2)]
        # Wait for whichever ends first: the refused one must end while the other works.
        first = None
        while first is None:
            first = next((c for c in children if c.poll() is not None), None)
            if first is None:
                time.sleep(0.02)
        other = children[1] if first is children[0] else children[0]
        still_running = other.poll() is None
        outputs = [child.communicate(timeout=120) for child in children]
        for i, (out, err) in enumerate(outputs):
            save(artifacts_dir / "concurrency", f"run{i}", out, err)
        first_err = outputs[children.index(first)][1]
        assert first.returncode == 75, first_err[-2000:]
        assert still_running, "the refused run did not end while the other was working"
        assert other.returncode == 0, outputs[children.index(other)][1][-2000:]
        assert "another fiveo-sync run holds the lock" in first_err
        assert "Traceback" not in first_err
        differences = diff_summary(fault_free_state, end_state(platforms))
    assert not differences, differences
