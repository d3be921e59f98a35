"""Interval maths of the outage measures (outages.py) and overlap placement."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from fiveo_sync.engine.outages import (
    Interval,
    availability_pct,
    build_intervals,
    build_window,
    downtime,
    mtbf,
    union_seconds,
)
from fiveo_sync.engine.periods import month_of
from fiveo_sync.engine.placement import PeriodCache, place_intervals

MARCH = month_of(datetime(2025, 3, 15, tzinfo=UTC))  # 31 days = 44 640 min
AFTER_MARCH = datetime(2025, 4, 10, tzinfo=UTC)


def at(day, hour=0, minute=0, month=3):
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def outage(begin, end):
    return SimpleNamespace(begin=begin, end=end)


def window_of(*outages, now=AFTER_MARCH, period=MARCH):
    intervals, excluded = build_intervals(outages, getattr, "begin", "end", now)
    return build_window(intervals, period, now, excluded)


def test_overlapping_intervals_are_counted_once():
    window = window_of(outage(at(10, 10), at(10, 11)), outage(at(10, 10, 30), at(10, 11, 30)))
    assert downtime(window, "min") == 90.0
    assert len(window.overlapping) == 2


def test_an_interval_inside_another_adds_nothing():
    window = window_of(outage(at(10, 8), at(10, 12)), outage(at(10, 9), at(10, 10)))
    assert downtime(window, "h") == 4.0


def test_touching_intervals_add_up_without_overlap():
    window = window_of(outage(at(10, 10), at(10, 11)), outage(at(10, 11), at(10, 12)))
    assert downtime(window, "min") == 120.0
    assert window.starts == 2


def test_an_interval_wholly_outside_the_period_is_not_in_it():
    window = window_of(outage(at(10, 10, month=2), at(10, 11, month=2)))
    assert window.overlapping == ()
    assert availability_pct(window) == 100.0
    assert downtime(window, "min") == 0.0


def test_an_interval_ending_exactly_at_the_period_start_is_not_in_it():
    window = window_of(outage(at(28, 23, month=2), at(1, 0)))
    assert window.overlapping == ()


def test_an_interval_crossing_the_period_start_counts_its_part_inside_but_no_failure():
    window = window_of(outage(at(28, 23, month=2), at(1, 1)))
    assert downtime(window, "min") == 60.0
    assert window.starts == 0
    assert mtbf(window, "h") is None


def test_end_before_begin_is_excluded_and_counted():
    window = window_of(outage(at(15, 10), at(15, 9)), outage(at(16, 10), at(16, 11)))
    assert window.excluded == 1
    assert len(window.overlapping) == 1
    assert downtime(window, "min") == 60.0


def test_a_record_without_begin_is_skipped_not_excluded():
    intervals, excluded = build_intervals([outage(None, at(1))], getattr, "begin", "end",
                                          AFTER_MARCH)
    assert intervals == [] and excluded == 0


def test_an_open_interval_lasts_until_now_and_the_period_counts_elapsed_time_only():
    now = at(10, 12, month=4)
    april = month_of(now)
    window = window_of(outage(at(10, 10, month=4), None), now=now, period=april)
    assert window.elapsed_s == (9 * 24 + 12) * 3600
    assert downtime(window, "min") == 120.0
    # 100 × (1 − 120 / 13 680)
    assert availability_pct(window) == pytest.approx(99.122807, abs=1e-6)


def test_an_interval_reaching_past_now_is_cut_at_now():
    now = at(10, 12, month=4)
    window = window_of(outage(at(10, 11, month=4), at(10, 15, month=4)), now=now,
                       period=month_of(now))
    assert downtime(window, "min") == 60.0


def test_availability_of_a_full_month():
    window = window_of(outage(at(5), at(5, 0, 30)))
    # 100 × (1 − 30 / 44 640)
    assert availability_pct(window) == pytest.approx(99.932796, abs=1e-6)


def test_no_elapsed_time_gives_no_availability():
    april = month_of(at(1, month=4))
    window = window_of(now=april.start, period=april)
    assert availability_pct(window) is None


def test_mtbf_of_a_single_failure_is_the_uptime():
    window = window_of(outage(at(10, 10), at(10, 11)))
    assert mtbf(window, "h") == 743.0  # (744 h − 1 h) / 1


def test_mtbf_divides_the_uptime_by_the_failures_beginning_in_the_period():
    window = window_of(outage(at(28, 23, month=2), at(1, 1)),
                       outage(at(10, 10), at(10, 11)), outage(at(10, 10, 30), at(10, 11, 30)))
    assert mtbf(window, "h") == pytest.approx((744 - 2.5) / 2)


def test_mtbf_without_failures_is_none():
    assert mtbf(window_of(), "h") is None


def test_a_zero_length_interval_is_a_failure_without_downtime():
    window = window_of(outage(at(10, 10), at(10, 10)))
    assert window.starts == 1
    assert downtime(window, "s") == 0.0
    assert mtbf(window, "h") == 744.0


def test_union_of_no_intervals_is_zero():
    assert union_seconds([]) == 0.0
    assert union_seconds([Interval(at(1), at(1, 0, 1))]) == 60.0


# -- overlap placement ---------------------------------------------------------------------------

def _placed(units, now):
    return {pid: sorted(u for u in slot[1]) for pid, slot in
            place_intervals(units, PeriodCache("month", "UTC"), now).items()}


def test_overlap_placement_puts_an_interval_in_every_month_it_touches():
    placed = _placed([("span", at(28, 23, month=2), at(1, 1)),
                      ("long", at(20, month=1), at(5, month=3))], AFTER_MARCH)
    assert placed == {"2025-01": ["long"], "2025-02": ["long", "span"],
                      "2025-03": ["long", "span"]}


def test_overlap_placement_stops_at_an_end_on_a_boundary():
    assert _placed([("a", at(28, 23, month=2), at(1))], AFTER_MARCH) == {"2025-02": ["a"]}


def test_an_open_interval_is_placed_up_to_now():
    now = at(2, month=5)
    assert _placed([("open", at(30), None)], now) == {
        "2025-03": ["open"], "2025-04": ["open"], "2025-05": ["open"]}


def test_an_interval_ending_after_now_is_not_placed_in_future_periods():
    now = at(10, month=3)
    assert _placed([("a", at(9), at(10, month=5))], now) == {"2025-03": ["a"]}


def test_future_and_undated_intervals_are_not_placed():
    now = at(10)
    assert _placed([("future", now + timedelta(hours=1), None), ("none", None, at(9))],
                   now) == {}


def test_an_inverted_interval_is_placed_where_it_begins_only():
    assert _placed([("bad", at(15), at(1, month=1))], AFTER_MARCH) == {"2025-03": ["bad"]}


def test_overlap_placement_in_a_reporting_time_zone():
    # 2025-02-28 23:30 UTC is already March in Berlin.
    cache = PeriodCache("month", "Europe/Berlin")
    placed = place_intervals([("a", at(28, 23, 30, month=2), at(1, 1))], cache, AFTER_MARCH)
    assert sorted(placed) == ["2025-03"]
