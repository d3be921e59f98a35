"""Issue 7, Faults: the state store unwritable or its disk full.

The disk filling up is simulated where SQLite would report it: inside the store's own
write transaction, the N-th write raises ``sqlite3.OperationalError("database or disk is
full")``. The CLI must exit 74 with one clear line and no traceback; the database must pass
``PRAGMA integrity_check`` and the next run must complete with the fault-free end state.
"""

from __future__ import annotations

import functools
import io
import sqlite3
from contextlib import redirect_stderr, redirect_stdout

import pytest

from fiveo_sync import cli
from fiveo_sync.state import StateStore

from .reliability_cli import save
from .reliability_world import diff_summary, end_state, settings_env, start_platforms

DISK_FULL = "database or disk is full"


def _run_cli(platforms, monkeypatch, *args: str) -> tuple[int, str, str]:
    """``fiveo-sync`` in this process, on the sandboxes' clock, output captured."""
    for name, value in settings_env(platforms).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli, "Context", functools.partial(cli.Context, clock=platforms.clock))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["--log-format", "console", *args])
    return code, out.getvalue(), err.getvalue()


def _fill_disk_on(monkeypatch, method: str, nth: int) -> list[int]:
    """Make the ``nth`` call of ``StateStore.<method>`` fail as a full disk would."""
    calls: list[int] = []
    original = getattr(StateStore, method)

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            with self._transaction() as cur:
                cur.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('x', '1')")
                raise sqlite3.OperationalError(DISK_FULL)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StateStore, method, failing)
    return calls


@pytest.mark.parametrize(("method", "nth"), [("save_page", 5), ("save_results", 1)])
def test_disk_full_exits_74_cleanly_and_the_next_run_completes(method, nth, tmp_path,
                                                              monkeypatch, artifacts_dir,
                                                              fault_free_state):
    with start_platforms(tmp_path / "out") as platforms:
        with monkeypatch.context() as patch:
            calls = _fill_disk_on(patch, method, nth)
            code, out, err = _run_cli(platforms, patch, "run")
        save(artifacts_dir / "state", f"disk-full-{method}", out, err)
        assert len(calls) >= nth, f"{method} was called {len(calls)} times only"
        assert code == 74, err[-2000:]
        assert f"cannot write state store: {DISK_FULL}" in err
        assert "Traceback" not in err and "OperationalError" not in err

        path = platforms.settings.state.path
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM meta WHERE name = 'x'").fetchone()[0] == 0
        code, out, err = _run_cli(platforms, monkeypatch, "run")
        save(artifacts_dir / "state", f"after-disk-full-{method}", out, err)
        assert code == 0, err[-2000:]
        differences = diff_summary(fault_free_state, end_state(platforms))
    assert not differences, differences


def test_unwritable_state_location_exits_74_before_touching_a_platform(tmp_path, monkeypatch,
                                                                      artifacts_dir):
    with start_platforms(tmp_path / "out") as platforms:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the state folder should be")
        state = platforms.settings.state.model_copy(update={"path": blocker / "state.sqlite"})
        platforms.settings = platforms.settings.model_copy(update={"state": state})
        code, out, err = _run_cli(platforms, monkeypatch, "run")
        save(artifacts_dir / "state", "unwritable", out, err)
        requests = platforms.sn.requests_for("/api/") + len(platforms.jira.request_log)
    assert code == 74, err[-2000:]
    assert str(blocker) in err and "Traceback" not in err
    assert requests == 0
