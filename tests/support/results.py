"""Hand-made indicator results and owner views shared by the writer, report and browser tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fiveo_sync.engine.result import IndicatorResult

_MONTHS = {"2025-01": 1, "2025-02": 2, "2025-03": 3, "2025-04": 4}


def build_result(**overrides: Any) -> IndicatorResult:
    period = overrides.get("period", "2025-03")
    month = _MONTHS.get(period, 3)
    base: dict[str, Any] = dict(
        indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
        view="service", scope_type="service", scope="payments", breakdown="all",
        period=period, period_kind="month",
        period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC),
        value=12.345, unit="h", n=40, excluded=1, target="≤ 24", target_low=None,
        target_high=24.0, direction="down", status="met", baseline=14.0, trend="improving",
        delta=-1.655, sources=("servicenow",), flags={}, snapshot=False)
    base.update(overrides)
    return IndicatorResult(**base)




class FakeView:
    def __init__(self, kind, id, name, owner, results, history=None, linked=()):
        self.kind, self.id, self.name, self.owner = kind, id, name, owner
        self.results, self.history, self.linked = results, history or {}, list(linked)


def build_views():
    hostile = "<script>alert(1)</script>"
    service_results = [
        build_result(),
        build_result(indicator="observe.change_failure_rate", name="Change failure rate",
                     o="observe", unit="%", value=18.0, target="≤ 15", status="missed",
                     trend="worsening", view="combined", sources=("servicenow", "jira")),
        build_result(indicator="organise.service_attribution", name="Service attribution",
                     o="organise", unit="%", value=None, status="no_data", trend="none"),
        build_result(scope=hostile, name="|*_{x} & <b>bold</b>", indicator="orient.backlog",
                     o="orient", unit="items", value=7.0, status="at_risk", trend="stable"),
    ]
    history = {service_results[0].series_key: [("2025-01", 20.0, "missed"),
                                               ("2025-02", 14.0, "met"),
                                               ("2025-03", 12.345, "met")]}
    product_results = [build_result(view="product", scope_type="product",
                                    scope="payments-web", indicator="optimise.velocity",
                                    name="Velocity", o="optimise", unit="SP", value=34.0,
                                    sources=("jira",))]
    return [FakeView("service", "payments", "Payments", "alice.martin", service_results,
                     history, linked=["payments-web"]),
            FakeView("service", hostile, hostile, hostile, service_results[3:]),
            FakeView("product", "payments-web", "Payments Web", "bruno", product_results,
                     linked=["payments"])]
