"""A second run over unchanged demo data writes nothing to Jira and notifies no one."""

from __future__ import annotations

from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner

LOG = get_logger("test")


def test_second_unchanged_run_makes_no_jira_write_and_no_notification(platforms):
    runner = Runner(platforms.settings, clock=platforms.clock, log=LOG)
    first = runner.run()
    assert first.exit_code == 0
    assert first.writes["jira"]["created"] == len(platforms.jira.world.products)
    jira = platforms.jira
    writes, notes = len(jira.writes), len(jira.notifications)

    second = runner.run()
    assert second.exit_code == 0
    assert second.writes["jira"] == {"created": 0, "updated": 0, "unchanged": len(
        platforms.jira.world.products), "marked": 0, "failed": 0}
    assert jira.writes[writes:] == []
    assert jira.notifications[notes:] == []
