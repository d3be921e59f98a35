from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.settings import ServiceNowSettings, ServiceNowWriteSettings
from fiveo_sync.commands.push import push_all
from fiveo_sync.engine.result import IndicatorResult

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>|*_{x}"


def _result(period: str, month: int, **overrides) -> IndicatorResult:
    base = dict(indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
                view="service", scope_type="service", scope="payments", breakdown="all",
                period=period, period_kind="month",
                period_start=datetime(2025, month, 1, tzinfo=UTC),
                period_end=datetime(2025, month + 1, 1, tzinfo=UTC), value=10.0 + month,
                unit="h", n=30, excluded=0, target="≤ 24", target_low=None, target_high=24.0,
                direction="down", status="met", baseline=None, trend="none", delta=None,
                sources=("servicenow",))
    base.update(overrides)
    return IndicatorResult(**base)


RESULTS = [_result("2025-01", 1), _result("2025-02", 2),
           _result("2025-02", 2, view="combined", indicator="observe.cfr", scope=HOSTILE,
                   sources=("servicenow", "jira"), value=33.3333),
           _result("2025-02", 2, view="product", scope_type="product", scope="payments-web")]


class SandboxEndpoint:
    def __init__(self, sandbox: ServiceNowSandbox):
        session = build_session(verify=sandbox.ca_bundle)
        session.auth = sandbox.credentials["integration"]
        self.http = HttpClient("servicenow", session, RetryPolicy(max_attempts=4, backoff_s=0),
                               sleep=lambda _s: None)
        self.base_url = sandbox.url

    def close(self):
        self.http.session.close()


@pytest.fixture
def sandbox():
    with ServiceNowSandbox(seed=5, now=NOW, incidents=50, changes=10, problems=5,
                           tls=True) as sb:
        yield sb


def _settings(sandbox, mode):
    return SimpleNamespace(jira=None, servicenow=ServiceNowSettings(
        instance_url=sandbox.url, write=ServiceNowWriteSettings(mode=mode)))


def _push(sandbox, mode, results):
    endpoint = SandboxEndpoint(sandbox)
    try:
        return push_all(_settings(sandbox, mode), None, results, dry_run=False,
                        clock=lambda: NOW, connectors={"servicenow": endpoint})
    finally:
        endpoint.close()


def _records(sandbox):
    return {r["u_key"]: r for r in sandbox.table("u_fiveo_indicator")}


@pytest.mark.parametrize("mode", ["table", "import_set"])
def test_two_pushes_write_each_record_once_then_nothing(sandbox, mode):
    first = _push(sandbox, mode, RESULTS)
    assert first.failed_targets == {}
    (report,) = first.reports
    assert Counter(o.action for o in report.outcomes) == {"created": 3}
    records = _records(sandbox)
    assert len(sandbox.table("u_fiveo_indicator")) == 3
    hostile = records[f"fiveo:observe.cfr:service:{HOSTILE}:all:2025-02"]
    assert hostile["u_scope"] == HOSTILE and hostile["u_value"] in ("33.33", "33.330")
    assert records["fiveo:operate.mttr:service:payments:all:2025-01"]["u_period_start"] == (
        "2025-01-01 00:00:00")

    second = _push(sandbox, mode, RESULTS)
    assert Counter(o.action for o in second.reports[0].outcomes) == {"unchanged": 3}

    changed = [_result("2025-02", 2, value=99.0, status="missed"), RESULTS[2]]
    third = _push(sandbox, mode, changed)
    assert Counter(o.action for o in third.reports[0].outcomes) == {
        "updated": 1, "unchanged": 1, "marked": 1}
    records = _records(sandbox)
    assert len(records) == 3
    assert records["fiveo:operate.mttr:service:payments:all:2025-01"]["u_status"] == "retired"
    assert records["fiveo:operate.mttr:service:payments:all:2025-02"]["u_status"] == "missed"
