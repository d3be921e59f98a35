"""Issue 7, Faults: a ``run`` killed with SIGKILL anywhere, then rerun, loses and repeats nothing.

A ``fiveo-sync run`` child (JSON log, ``-v``) against in-process sandboxes is killed with
SIGKILL when the N-th occurrence of a log event appears — points spread over pull
(``page_committed``, ``stream_pulled``), compute (``indicators_computed``) and push
(``plan_built``, ``write_applied``, ``dashboard_written``). Right after the kill no stored
bookmark may claim a record the store lacks; after a rerun the end state is exactly the
fault-free one: no record lost, no ServiceNow record or Jira scorecard twice.
"""

from __future__ import annotations

import pytest

from .reliability_cli import run_cli, save, start_cli, wall_now
from .reliability_crash import bookmarks_ahead, run_until
from .reliability_world import diff_summary, end_state, start_platforms, stored_state

# (event, occurrence, platform or None)
KILL_POINTS = [
    ("page_committed", 1, None),
    ("page_committed", 12, None),
    ("page_committed", 35, None),
    ("stream_pulled", 9, None),
    ("page_committed", 70, None),
    ("indicators_computed", 1, None),
    ("plan_built", 1, None),
    ("write_applied", 40, "servicenow"),
    ("write_applied", 300, "servicenow"),
    ("write_applied", 2, "jira"),
    ("dashboard_written", 1, None),
]


def _kill_id(point):
    event, nth, platform = point
    return f"{event}#{nth}" + (f"@{platform}" if platform else "")


@pytest.mark.parametrize("point", KILL_POINTS, ids=_kill_id)
def test_sigkill_then_rerun_ends_in_the_fault_free_state(point, tmp_path, artifacts_dir,
                                                         fault_free_state):
    event, nth, platform = point
    folder = artifacts_dir / "crash" / _kill_id(point)
    with start_platforms(tmp_path / "out") as platforms:
        started = wall_now()
        child = start_cli(platforms, started, "run")
        killed, log = run_until(child, event, nth, platform)
        save(folder, "killed", "", log)
        assert killed, f"the run ended (exit {child.returncode}) before {_kill_id(point)}"
        assert child.returncode == -9

        state_path = platforms.settings.state.path
        if state_path.exists():
            after_kill = stored_state(state_path)
            ahead = bookmarks_ahead(
                after_kill["bookmarks"], set(after_kill["records"]),
                {t: platforms.sn.table(t) for t in ("incident", "change_request", "problem",
                                                    "task_sla", "contract_sla",
                                                    "cmdb_ci_service", "sys_user_group",
                                                    "sys_user")},
                fault_free_state["store"]["records"])
            assert not ahead, f"bookmarks ahead of the stored records: {ahead[:5]}"

        code, out, err = run_cli(platforms, started, "run")
        save(folder, "rerun", out, err)
        assert code == 0, err[-2000:]
        differences = diff_summary(fault_free_state, end_state(platforms))
    assert not differences, differences
