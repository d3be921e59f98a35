"""Issue 7, Faults: records change and vanish mid-run; platforms down for a whole run.

A platform that answers nothing useful for the whole run costs the run that platform only
(exit 3 naming it) or, when nothing could be read, exit 69 with a clear message after the
retry budget; either way no stored bookmark moves, so the next run reads what was missed.
"""

from __future__ import annotations

from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner

from .reliability_cli import run_cli, save, wall_now
from .reliability_world import start_platforms, stored_state

LOG = get_logger("fiveo_sync.reliability")
DOWN = 100_000  # more failures than any retry budget uses


def _first_run(platforms) -> dict:
    """A fault-free run; then a smaller retry budget for the outage run that follows."""
    report = Runner(platforms.settings, clock=platforms.clock, log=LOG).run()
    assert report.exit_code == 0, report.summary()
    http = platforms.settings.http  # keeps the sandbox CA bundle (verified TLS)
    platforms.settings = platforms.settings.model_copy(update={"http": http.model_copy(
        update={"max_attempts": 3})})
    return stored_state(platforms.settings.state.path)


def test_records_changing_and_disappearing_while_paging_end_up_stored_as_they_are(tmp_path):
    with start_platforms(tmp_path / "out") as platforms:
        sn, jira = platforms.sn, platforms.jira
        incidents = sorted(sn.table("incident"), key=lambda r: r["sys_updated_on"])
        changed, deleted = incidents[0]["sys_id"], incidents[1]["sys_id"]
        issues = sorted(jira.data.iter_issues(), key=lambda i: i.id)
        jira_changed, jira_deleted = issues[0].key, issues[1].key
        pages = []

        def change_while_paging(table, _req):
            pages.append(table)
            if table == "incident" and pages.count("incident") == 2:
                # Both rows were on the first page already read.
                sn.update("incident", changed, short_description="Changed mid-run")
                sn.delete("incident", deleted)

        sn.on_list(change_while_paging)
        jira.after_next_search_page(lambda sb: (
            sb.update_issue(jira_changed, summary="Renamed mid-run"),
            sb.delete_issue(jira_deleted)))
        runner = Runner(platforms.settings, clock=platforms.clock, log=LOG)
        first = runner.run()
        sn.on_list(None)
        assert first.exit_code == 0, first.summary()
        # A pull reads only whole past seconds (a change stamped in the current second is
        # read by the next run): let the second of the mid-run change pass for certain.
        sn.advance(2)
        second = runner.run()
        assert second.exit_code == 0, second.summary()

        stored = stored_state(platforms.settings.state.path)["records"]
        assert f"servicenow.incident:{deleted}" not in stored
        assert "Changed mid-run" in stored[f"servicenow.incident:{changed}"][1]
        jira_keys = {k: v for k, v in stored.items() if k.startswith("jira.issue:")}
        payloads = "".join(v[1] for v in jira_keys.values())
        assert "Renamed mid-run" in payloads
        assert f'"key":"{jira_deleted}"' not in payloads
        # fiveo-sync's own issues (scorecards, improvement items) are never pulled.
        live = {str(i.id) for i in jira.data.iter_issues()
                if "fiveo-scorecard" not in i.labels and "fiveo-improvement" not in i.labels}
        assert {k.split(":", 1)[1] for k in jira_keys} == live


def test_jira_down_for_the_whole_run_costs_jira_only_and_moves_no_bookmark(
        tmp_path, artifacts_dir):
    with start_platforms(tmp_path / "out") as platforms:
        before = _first_run(platforms)["bookmarks"]
        platforms.sn.create("incident", short_description="New while Jira is down",
                            priority="3", state="1")
        platforms.jira.fail_next(500, times=DOWN)
        code, out, err = run_cli(platforms, wall_now(), "run")
        save(artifacts_dir / "outage", "jira-down", out, err)
        after = stored_state(platforms.settings.state.path)["bookmarks"]
    assert code == 3, err[-2000:]
    assert "fiveo-sync run: jira failed: jira unavailable after retries" in err
    assert {k: v for k, v in after.items() if k.startswith("jira.")} == \
        {k: v for k, v in before.items() if k.startswith("jira.")}


def test_both_platforms_down_exit_69_with_a_clear_message_and_no_bookmark_moves(
        tmp_path, artifacts_dir):
    with start_platforms(tmp_path / "out") as platforms:
        before = _first_run(platforms)
        platforms.sn.fail_next(503, times=DOWN)
        platforms.jira.fail_next(500, times=DOWN)
        code, out, err = run_cli(platforms, wall_now(), "run")
        save(artifacts_dir / "outage", "both-down", out, err)
        after = stored_state(platforms.settings.state.path)
    assert code == 69, err[-2000:]
    assert "unavailable after retries" in err.splitlines()[-1] or \
        any(line.startswith("fiveo-sync run: ") and "unavailable after retries" in line
            for line in err.splitlines())
    assert "Traceback" not in err
    assert after == before


def test_one_platform_run_against_it_while_down_exits_69(tmp_path, artifacts_dir):
    with start_platforms(tmp_path / "out") as platforms:
        before = _first_run(platforms)["bookmarks"]
        platforms.sn.fail_next(503, times=DOWN)
        code, out, err = run_cli(platforms, wall_now(), "run", "--source", "servicenow")
        save(artifacts_dir / "outage", "servicenow-only-down", out, err)
        after = stored_state(platforms.settings.state.path)["bookmarks"]
    assert code == 69, err[-2000:]
    assert "servicenow unavailable after retries" in err
    assert after == before
