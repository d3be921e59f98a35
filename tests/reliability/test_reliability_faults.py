"""Issue 7, Faults: every fault kind at 20 % on each platform ends in the fault-free state.

Each cell runs the whole job once over real loopback HTTP with one kind of fault injected
by a sandbox (429 with ``Retry-After``, 500, 503, answers slower than the client timeout,
dropped connections, bodies cut in half; ServiceNow's OAuth tokens expiring mid-run; a
storm of 429s): the run must still exit 0 and leave exactly the store (records and
bookmarks) and the written records (ServiceNow indicator rows, Jira scorecards and their
property) of a fault-free run of the same data. Each cell adds a row to the fault matrix
printed at the end of the session.
"""

from __future__ import annotations

import pytest
from support.fault_matrix import MATRIX, MatrixRow

from connectors.http import HttpClient, RetryPolicy, build_session
from fiveo_sync.errors import UnavailableError

from .reliability_matrix import CELLS, STORM, STORM_RETRY_AFTER_S, Cell, run_cell
from .reliability_world import diff_summary, start_platforms


def _record(cell: Cell, run, outcome: str) -> None:
    platform = cell.platform
    MATRIX.rows.append(MatrixRow(cell.name, platform, run.report.requests.get(platform, 0),
                                 run.report.retries.get(platform, 0), run.injector.injected(),
                                 outcome))


@pytest.mark.parametrize("cell", [c for c in CELLS if c.kind != "429_storm"],
                         ids=lambda c: c.name)
def test_fault_cell_ends_in_the_fault_free_state(cell, tmp_path, artifacts_dir,
                                                 fault_free_state):
    with start_platforms(tmp_path / "out", oauth=cell.oauth) as platforms:
        run = run_cell(cell, platforms, artifacts_dir)
    differences = diff_summary(fault_free_state, run.state)
    outcome = ("same end state" if run.report.exit_code == 0 and not differences
               else f"exit {run.report.exit_code}, {'differs' if differences else 'same'}")
    _record(cell, run, outcome)
    assert run.report.exit_code == 0, run.report.summary()
    assert not differences, differences
    if cell.oauth:
        assert run.injector.expired >= 5, "the tokens never expired during the run"
        # New tokens were obtained after the expiries, not just once at the start.
        assert len(platforms.sn.auth._access) > 1
    else:
        assert run.report.retries.get(cell.platform, 0) > 0, "no fault reached the client"


@pytest.mark.parametrize("cell", [c for c in CELLS if c.kind == "429_storm"],
                         ids=lambda c: c.name)
def test_429_storm_waits_as_told_by_retry_after(cell, tmp_path, artifacts_dir,
                                                fault_free_state, monkeypatch):
    waits: list[tuple[str, float]] = []
    original = HttpClient._wait

    def recording_wait(self, state):
        seconds = original(self, state)
        waits.append((self.platform, seconds))
        return seconds

    monkeypatch.setattr(HttpClient, "_wait", recording_wait)
    with start_platforms(tmp_path / "out") as platforms:
        run = run_cell(cell, platforms, artifacts_dir)
    differences = diff_summary(fault_free_state, run.state)
    told = [s for p, s in waits if p == cell.platform and s == STORM_RETRY_AFTER_S]
    outcome = (f"same end state, waited {len(told)}x{STORM_RETRY_AFTER_S}s"
               if run.report.exit_code == 0 and not differences
               else f"exit {run.report.exit_code}, {'differs' if differences else 'same'}")
    _record(cell, run, outcome)
    assert run.report.exit_code == 0, run.report.summary()
    assert not differences, differences
    assert len(told) == STORM, waits
    # More retries only when the busy machine let an answer miss the short timeout.
    assert run.report.retries[cell.platform] >= STORM


@pytest.mark.parametrize("kind", ["truncate", "drop"])
def test_a_write_whose_answer_is_lost_is_not_sent_twice(kind, tmp_path):
    """The Jira sandbox creates the issue, then cuts or drops the answer: one issue only."""
    with start_platforms(tmp_path / "out") as platforms:
        jira = platforms.jira
        session = build_session(verify=jira.ca_bundle)
        session.auth = (jira.credentials["email"], jira.credentials["api_token"])
        http = HttpClient("jira", session, RetryPolicy(timeout_s=2, max_attempts=5,
                                                      backoff_s=0.01))
        product = jira.world.products[0].key
        jira.fail_next(kind)
        with pytest.raises(UnavailableError):
            http.request("POST", f"{jira.url}/rest/api/3/issue", json={"fields": {
                "project": {"key": product}, "issuetype": {"name": "Task"},
                "summary": "Sent once"}})
        created = [i for i in jira.data.iter_issues() if i.summary == "Sent once"]
    assert len(created) == 1
