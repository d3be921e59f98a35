"""Periods (§2.2): restatement window, backfill of final periods, snapshots, time zones."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from fiveo_sync.compute import compute_records
from fiveo_sync.engine.periods import month_of, week_of
from fiveo_sync.engine.spec import IndicatorSpec
from fiveo_sync.records import CanonicalData, Incident

NOW = datetime(2025, 4, 3, tzinfo=UTC)
PORTFOLIO = SimpleNamespace(
    services=[SimpleNamespace(id="payments", support_groups=(), products=())], products=[])
MTTR = IndicatorSpec.model_validate({
    "id": "operate.mttr", "name": "MTTR", "view": "service", "source": "incident",
    "filters": [{"op": "ne", "field": "state", "value": "canceled"}],
    "period": {"kind": "month", "timestamp": "resolved_at"},
    "measure": {"kind": "median",
                "of": {"kind": "duration", "start": "opened_at", "end": "resolved_at"}},
    "unit": "h", "direction": "down", "target": {"kind": "max", "value": 24}})
AGE = IndicatorSpec.model_validate({
    "id": "observe.open_incident_age", "name": "Age", "view": "service", "source": "incident",
    "snapshot": True, "filters": [{"op": "eq", "field": "state", "value": "new"}],
    "measure": {"kind": "mean", "of": {"kind": "duration", "start": "opened_at", "end": "now",
                                       "unit": "d"}},
    "unit": "d", "direction": "down", "target": {"kind": "max", "value": 5}})


def _incident(i, resolved, hours=2.0, state="resolved"):
    return Incident(id=f"i{i}", number=f"INC{i}", state=state, priority=3,
                    opened_at=resolved - timedelta(hours=hours), resolved_at=resolved,
                    service="payments", assignment_group=None, caused_by=None, rfc=None,
                    problem=None, reopen_count=0, ci=None, category=None, major=False)


DATA = CanonicalData(incidents=(
    _incident(1, datetime(2024, 11, 5, tzinfo=UTC)),
    _incident(2, datetime(2025, 3, 5, tzinfo=UTC)),
    _incident(3, datetime(2025, 3, 20, tzinfo=UTC), state="new"),
))


def _periods(results, indicator="operate.mttr"):
    return sorted(r.period for r in results if r.indicator == indicator)


def test_first_run_backfills_final_periods_with_data_and_fills_the_window():
    first = compute_records([MTTR], DATA, PORTFOLIO, NOW)
    # November is final but history lacks it; Feb 2025 ended 33 days ago (< 35): restated.
    assert _periods(first) == ["2024-11", "2025-02", "2025-03", "2025-04"]
    again = compute_records([MTTR], DATA, PORTFOLIO, NOW, history=[r.to_dict() for r in first])
    assert _periods(again) == ["2025-02", "2025-03", "2025-04"]


def test_snapshot_indicators_exist_for_the_current_period_only():
    results = compute_records([AGE], DATA, PORTFOLIO, NOW)
    assert _periods(results, "observe.open_incident_age") == ["2025-04"]
    # INC3 (state new) was opened 2025-03-19 22:00: 14 d 2 h before now.
    assert round(results[0].value, 4) == round(14 + 2 / 24, 4)
    assert results[0].snapshot is True


def test_period_boundaries_follow_the_reporting_timezone():
    moment = datetime(2025, 2, 28, 23, 30, tzinfo=UTC)
    assert month_of(moment).id == "2025-02"
    paris = month_of(moment, "Europe/Paris")
    assert paris.id == "2025-03"
    assert paris.start == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
    week = week_of(datetime(2025, 3, 10, 0, 0, tzinfo=UTC))
    assert (week.id, week.start.weekday()) == ("2025-W11", 0)
    assert week_of(datetime(2024, 12, 30, tzinfo=UTC)).id == "2025-W01"


def test_snapshot_ages_are_measured_as_of_the_start_of_the_hour():
    at_ten = compute_records([AGE], DATA, PORTFOLIO, NOW + timedelta(hours=10))[0].value
    at_ten_forty = compute_records([AGE], DATA, PORTFOLIO, NOW + timedelta(hours=10, minutes=40))[0]
    at_eleven = compute_records([AGE], DATA, PORTFOLIO, NOW + timedelta(hours=11))[0].value
    assert at_ten_forty.value == at_ten  # a rerun within the hour computes the same age
    assert round(at_eleven - at_ten, 6) == round(1 / 24, 6)
