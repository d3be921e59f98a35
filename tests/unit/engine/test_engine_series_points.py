"""History read as series points gives the same book as the stored results decoded whole."""

from datetime import UTC, datetime

from fiveo_sync.compute import load_history, load_series
from fiveo_sync.engine.periods import Period
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.engine.scope import Scope
from fiveo_sync.engine.series import SeriesBook
from fiveo_sync.state import StateStore

PAYMENTS = Scope("service", "service", "payments", "payments", frozenset(), frozenset(),
                 frozenset())


def _result(period: str, month: int, **over) -> IndicatorResult:
    base = dict(
        indicator="operate.mttr", name="MTTR", o="operate", view="service",
        scope_type="service", scope="payments", breakdown="all", period=period,
        period_kind="month", period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC), value=9.0, unit="h", n=4,
        excluded=0, target="≤ 24", target_low=None, target_high=24.0, direction="down",
        status="met", baseline=None, trend="none", delta=None, sources=("servicenow",))
    base.update(over)
    return IndicatorResult(**base)


def test_points_give_the_book_of_the_decoded_results(tmp_path):
    saved = [
        _result("2025-01", 1, value=0.1 + 0.2),          # a float that needs every digit
        _result("2025-02", 2, value=None, status="no_data"),
        _result("2025-03", 3, value=7, flags={"no_baseline": True}),
        _result("2025-04", 4, value=1e-7, flags={"no_baseline": False}, status="missed"),
        _result("2025-03", 3, breakdown="priority=1", value=2.5),
    ]
    with StateStore(tmp_path / "s.sqlite") as store:
        store.save_results("r1", "t", [r.to_dict() for r in saved])
        from_points, decoded = load_series(store), SeriesBook(load_history(store))
    assert from_points._series == decoded._series
    may = Period(datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC),
                 "2025-05", "month")
    assert from_points.preceding("operate.mttr", PAYMENTS, "all", may)[:4] == [
        (1e-7, "missed"), (7.0, "baseline_only"), (None, "no_data"), (0.30000000000000004, "met")]
    assert from_points.periods_done("operate.mttr", "service") == {
        ("payments", p) for p in ("2025-01", "2025-02", "2025-03", "2025-04")}
    assert from_points.periods_done("operate.mttr", "product") == set()
