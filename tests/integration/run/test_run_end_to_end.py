"""Issue 6 acceptance: run twice over both sandboxes, exactly one record per key, no rewrites."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from fiveo_sync.compute import load_history
from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner
from fiveo_sync.settings import MappingsSettings
from fiveo_sync.state import StateStore

from .conftest import start_platforms

LOG = get_logger("test")


def _stored_results(settings):
    with StateStore(settings.state.path) as store:
        return load_history(store)


def _assert_servicenow_matches(platforms, results):
    rows = platforms.sn.table("u_fiveo_indicator")
    keys = Counter(row["u_key"] for row in rows)
    assert keys and max(keys.values()) == 1, "a u_key was written twice"
    expected = {r.key: r for r in results if r.scope_type == "service"}
    live = {row["u_key"]: row for row in rows if row["u_status"] != "retired"}
    assert live.keys() == expected.keys()
    for key, result in expected.items():
        row = live[key]
        assert row["u_status"] == result.status, key
        assert row["u_period"] == result.period
        if result.value is None:
            assert row["u_value"] == ""
        else:
            assert float(row["u_value"]) == pytest.approx(round(result.value, 2), abs=0.006)


def _scorecards(platforms):
    label = platforms.settings.jira.scorecard.label
    return [issue for issue in platforms.jira.data.iter_issues() if label in issue.labels]


def _assert_jira_matches(platforms, results):
    cards = _scorecards(platforms)
    products = {p.key for p in platforms.jira.world.products}
    assert sorted(card.project for card in cards) == sorted(products)
    by_key = {r.key: r for r in results}
    for card in cards:
        value = platforms.jira.properties[(str(card.id), "fiveo.scorecard")]
        assert value["results"], card.key
        for item in value["results"]:
            stored = by_key[f"fiveo:{item['indicator']}:{item['scope_type']}:{item['scope']}:"
                            f"{item['breakdown']}:{item['period']}"]
            assert item["status"] == stored.status
            if stored.value is None:
                assert item["value"] is None
            else:
                assert item["value"] == pytest.approx(round(stored.value, 2), abs=0.006)


@pytest.mark.parametrize(("deployment", "write_mode"),
                         [("cloud", "table"), ("datacenter", "import_set")])
def test_run_twice_writes_each_record_once_then_nothing(tmp_path, deployment, write_mode):
    for platforms in start_platforms(tmp_path, deployment, write_mode):
        runner = Runner(platforms.settings, clock=platforms.clock, log=LOG)
        first = runner.run()
        assert first.exit_code == 0, first.summary()
        assert first.writes["servicenow"]["created"] > 0
        assert first.writes["jira"]["created"] == len(platforms.jira.world.products)
        results = _stored_results(platforms.settings)
        _assert_servicenow_matches(platforms, results)
        _assert_jira_matches(platforms, results)

        second = runner.run()
        assert second.exit_code == 0, second.summary()
        assert second.compute_skipped  # nothing pulled, same mappings, same quarter hour
        for target in ("servicenow", "jira"):
            counts = second.writes[target]
            assert counts["created"] == counts["updated"] == counts["failed"] == 0, counts
            assert counts["unchanged"] > 0
        results = _stored_results(platforms.settings)
        _assert_servicenow_matches(platforms, results)
        _assert_jira_matches(platforms, results)


def test_failing_jira_still_gets_servicenow_written(platforms):
    platforms.jira.fail_next(503, times=100_000)
    report = Runner(platforms.settings, clock=platforms.clock, log=LOG).run()
    assert report.exit_code == 3
    assert "jira" in report.failed_sources and "jira" in report.failed_targets
    assert report.writes["servicenow"]["created"] > 0
    assert not _scorecards(platforms)
    _assert_servicenow_matches(platforms, _stored_results(platforms.settings))


def test_a_mapping_edit_or_a_later_quarter_hour_recomputes(tmp_path):
    for platforms in start_platforms(tmp_path):
        mappings = tmp_path / "mappings"
        shutil.copytree(platforms.settings.mappings.dir, mappings)
        settings = platforms.settings.model_copy(
            update={"mappings": MappingsSettings(dir=mappings)})
        runner = Runner(settings, clock=platforms.clock, log=LOG)
        assert not runner.run().compute_skipped
        assert runner.run().compute_skipped
        operate = mappings / "indicators" / "operate.yaml"
        operate.write_text(operate.read_text().replace("value: 24}", "value: 30}", 1))
        edited = runner.run()
        assert not edited.compute_skipped and edited.writes["servicenow"]["updated"] > 0
        platforms.sn.advance(15 * 60)
        later = Runner(settings, clock=platforms.sn.clock, log=LOG).run()
        assert not later.compute_skipped
