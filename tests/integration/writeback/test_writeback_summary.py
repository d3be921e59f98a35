"""One summary record per service and product in the ServiceNow sandbox, written by push.

Through ``push_all`` and real HTTPS: the first push creates one record per element, a rerun
writes nothing, a changed status is one PATCH, a create whose answer is lost stays one
record, a dry run writes nothing, and a missing table fails only this target.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.commands.push import push_all
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.settings import WritebackSettings
from fiveo_sync.state import StateStore
from tests.integration.writeback.test_writeback_servicenow import SandboxEndpoint, _result

NOW = datetime(2025, 4, 3, 12, 0, tzinfo=UTC)
MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
TABLE = "u_fiveo_summary"


@pytest.fixture
def sandbox():
    with ServiceNowSandbox(seed=5, now=NOW, incidents=20, changes=5, problems=2,
                           tls=True) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with StateStore(tmp_path / "state.sqlite") as st:
        yield st


@pytest.fixture(scope="module")
def mappings():
    shipped = load_mappings(MAPPINGS)
    return SimpleNamespace(portfolio=shipped.portfolio, improvement=None)


def _settings(sandbox, table=TABLE):
    return SimpleNamespace(
        jira=None, servicenow=ServiceNowSettings(instance_url=sandbox.url),
        writeback=WritebackSettings(servicenow={"summary": True, "summary_table": table}))


def _availability(status, value):
    return _result("2025-03", 3, indicator="operate.availability", name="Availability",
                   characteristic="availability", scope="customer-portal", unit="%",
                   value=value, status=status, target="≥ 99.9")


def _save(store, *results):
    store.save_results("run", "2025-04-03T12:00:00Z", [r.to_dict() for r in results])


def _push(sandbox, store, mappings, *, dry_run=False, table=TABLE):
    endpoint = SandboxEndpoint(sandbox)
    try:
        return push_all(_settings(sandbox, table), store, None, dry_run=dry_run,
                        clock=lambda: NOW, connectors={"servicenow": endpoint},
                        mappings=mappings)
    finally:
        endpoint.close()


def _summary_report(pushed):
    (report,) = [r for r in pushed.reports if r.target == "servicenow-summary"]
    return Counter(o.action for o in report.outcomes)


def _records(sandbox):
    return {r["u_key"]: r for r in sandbox.table(TABLE)}


def _elements(mappings):
    return len(mappings.portfolio.services) + len(mappings.portfolio.products)


def test_created_once_then_unchanged_then_one_patch_for_a_changed_status(sandbox, store,
                                                                        mappings):
    _save(store, _availability("missed", 99.5))
    first = _push(sandbox, store, mappings)
    assert first.failed_targets == {}
    assert _summary_report(first) == {"created": _elements(mappings)}
    records = _records(sandbox)
    assert len(sandbox.table(TABLE)) == len(records) == _elements(mappings)
    portal = records["fiveo-summary:service:customer-portal"]
    assert (portal["u_availability"], portal["u_operate"], portal["u_period"]) == (
        "missed", "missed", "2025-03")
    assert portal["u_scope_name"] == "Customer Portal" and portal["u_missed"] in ("1", 1)
    assert records["fiveo-summary:service:payments"]["u_availability"] == ""

    sandbox.clear_log()
    second = _push(sandbox, store, mappings)
    assert _summary_report(second) == {"unchanged": _elements(mappings)}
    assert sandbox.requests_for(TABLE, "POST") == sandbox.requests_for(TABLE, "PATCH") == 0

    _save(store, _availability("met", 99.95))
    third = _push(sandbox, store, mappings)
    assert _summary_report(third) == {"updated": 1, "unchanged": _elements(mappings) - 1}
    assert sandbox.requests_for(TABLE, "PATCH") == 1
    portal = _records(sandbox)["fiveo-summary:service:customer-portal"]
    assert portal["u_availability"] == "met" and portal["u_missed"] in ("0", 0)
    assert len(sandbox.table(TABLE)) == _elements(mappings)


def test_a_create_whose_answer_is_lost_is_not_written_twice(sandbox, store, mappings):
    _save(store, _availability("missed", 99.5))

    def drop_the_first_create(table, _request):
        if table == TABLE:
            sandbox.fail_next("drop")  # the POST after the read-back lands, its answer is lost
            sandbox.on_list(None)

    sandbox.on_list(drop_the_first_create)
    pushed = _push(sandbox, store, mappings)
    assert pushed.failed_targets == {}
    assert sandbox.faults.injected.get("drop") == 1
    keys = Counter(r["u_key"] for r in sandbox.table(TABLE))
    assert len(keys) == _elements(mappings) and set(keys.values()) == {1}
    # the lost POST was looked up by its key, not sent again
    assert sandbox.requests_for(TABLE, "POST") == _elements(mappings)


def test_dry_run_plans_and_writes_nothing(sandbox, store, mappings):
    _save(store, _availability("missed", 99.5))
    pushed = _push(sandbox, store, mappings, dry_run=True)
    assert _summary_report(pushed) == {"created": _elements(mappings)}
    assert [op.key for op in pushed.plan if op.key.startswith("fiveo-summary:")]
    assert sandbox.table(TABLE) == []


def test_a_missing_table_fails_only_the_summary_target(sandbox, store, mappings):
    _save(store, _availability("missed", 99.5))
    pushed = _push(sandbox, store, mappings, table="u_not_created")
    assert set(pushed.failed_targets) == {"servicenow-summary"}
    assert "deploy/servicenow/README.md" in pushed.failed_targets["servicenow-summary"]
    assert any(r["u_key"].startswith("fiveo:operate.availability")
               for r in sandbox.table("u_fiveo_indicator"))
