"""Quarter periods (issue 15): calendar quarters in the reporting zone, ids ``2026-Q3``."""

from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.engine.periods import period_of, previous
from fiveo_sync.engine.placement import window_periods
from fiveo_sync.engine.series import previous_ids
from fiveo_sync.report.chart import _next_period, period_label


def test_quarter_of_a_moment_in_utc():
    quarter = period_of("quarter", datetime(2026, 8, 15, 9, 0, tzinfo=UTC))
    assert quarter.id == "2026-Q3"
    assert quarter.start == datetime(2026, 7, 1, tzinfo=UTC)
    assert quarter.end == datetime(2026, 10, 1, tzinfo=UTC)


def test_quarter_boundary_is_local_midnight():
    # 30 Sep 23:30 UTC is already 1 Oct 01:30 in Berlin (CEST, UTC+2): Q4 there.
    moment = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    assert period_of("quarter", moment).id == "2026-Q3"
    berlin = period_of("quarter", moment, "Europe/Berlin")
    assert berlin.id == "2026-Q4"
    assert berlin.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert berlin.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # CET, UTC+1


def test_previous_quarter_crosses_the_year():
    q1 = period_of("quarter", datetime(2027, 2, 1, tzinfo=UTC))
    assert previous(q1).id == "2026-Q4"
    assert previous_ids("2027-Q2", "quarter", 3) == ["2027-Q1", "2026-Q4", "2026-Q3"]


def test_restatement_window_of_quarters():
    now = datetime(2026, 10, 20, tzinfo=UTC)
    assert [p.id for p in window_periods("quarter", now, "UTC", 35)] == ["2026-Q3", "2026-Q4"]
    assert [p.id for p in window_periods("quarter", now, "UTC", 10)] == ["2026-Q4"]


def test_chart_labels_and_next_quarter():
    assert period_label("2026-Q1") == ("Q1", "2026")
    assert period_label("2026-Q3") == ("Q3", "")
    assert _next_period("2026-Q3") == "2026-Q4"
    assert _next_period("2026-Q4") == "2027-Q1"
