"""Interval measures of outages in the SQL engine, against hand-computed values.

``availability``, ``downtime`` and ``mtbf`` with ``placement: overlap`` (as the shipped
``operate.availability``, ``operate.unplanned_downtime`` and ``observe.mtbf``), computed
with :func:`~fiveo_sync.compute.compute_records` for one service. The engine measures as
of the run clock truncated to the hour and places with the clock itself: the clocks here
are on the hour unless a test says otherwise, so both are the same instant.

On a first run (no history) the results are those of the restatement window (35 days by
default) and of the older periods an outage is placed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fiveo_sync.compute import compute_records
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.spec import IndicatorSpec
from fiveo_sync.records import CanonicalData, Outage

PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "Payments"}],
})
AFTER_MARCH = datetime(2025, 4, 10, tzinfo=UTC)  # reports March (31 days = 44 640 min), April
OVERLAP = {"kind": "month", "placement": "overlap", "timestamp": "begin", "until": "end"}
NAMES = {"operate.availability": "availability", "operate.unplanned_downtime": "downtime",
         "observe.mtbf": "mtbf"}


def at(day, hour=0, minute=0, month=3):
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def outage(ident, begin, end):
    return Outage(id=ident, number=None, type="outage", service="payments", begin=begin,
                  end=end, duration_s=None, task=None)


def _spec(ident, measure, unit, direction, zone):
    return IndicatorSpec.model_validate({
        "id": ident, "name": ident, "view": "service", "source": "outage",
        "filters": [{"op": "eq", "field": "type", "value": "outage"}], "period": OVERLAP,
        "measure": measure, "unit": unit, "direction": direction,
        "target": {"kind": "min" if direction == "up" else "max", "value": 0},
        **({"parameters": {"reporting_timezone": zone}} if zone else {})})


def run(*outages, now=AFTER_MARCH, downtime_unit="min", zone=None):
    """``{(measure, period): result}`` of availability, downtime and mtbf (in hours)."""
    shown = "min" if downtime_unit == "s" else downtime_unit  # no display unit for seconds
    specs = [_spec("operate.availability", {"kind": "availability"}, "%", "up", zone),
             _spec("operate.unplanned_downtime", {"kind": "downtime", "unit": downtime_unit},
                   shown, "down", zone),
             _spec("observe.mtbf", {"kind": "mtbf", "unit": "h"}, "h", "up", zone)]
    results = compute_records(specs, CanonicalData(outages=tuple(outages)), PORTFOLIO, now)
    assert {(r.scope, r.breakdown) for r in results} == {("payments", "all")}
    return {(NAMES[r.indicator], r.period): r for r in results}


def placed(results):
    """Period → the outages its availability result lists in its evidence."""
    return {period: list(r.evidence["outage"]) for (name, period), r in results.items()
            if name == "availability" and r.evidence.get("outage")}


# -- downtime: union of the intervals, clipped to the period ------------------------------------

def test_overlapping_intervals_are_counted_once():
    results = run(outage("a", at(10, 10), at(10, 11)), outage("b", at(10, 10, 30), at(10, 11, 30)))
    downtime = results["downtime", "2025-03"]
    assert (downtime.value, downtime.n, downtime.excluded) == (90.0, 2, 0)
    assert results["availability", "2025-03"].n == 2


def test_an_interval_inside_another_adds_nothing():
    results = run(outage("a", at(10, 8), at(10, 12)), outage("b", at(10, 9), at(10, 10)),
                  downtime_unit="h")
    assert results["downtime", "2025-03"].value == 4.0


def test_touching_intervals_add_up_without_overlap():
    results = run(outage("a", at(10, 10), at(10, 11)), outage("b", at(10, 11), at(10, 12)))
    assert results["downtime", "2025-03"].value == 120.0
    assert results["mtbf", "2025-03"].n == 2  # two failures begun


def test_an_interval_wholly_outside_the_period_is_not_in_it():
    results = run(outage("feb", at(10, 10, month=2), at(10, 11, month=2)))
    availability, downtime = results["availability", "2025-03"], results["downtime", "2025-03"]
    assert (availability.value, availability.n, dict(availability.evidence)) == (100.0, 0, {})
    assert (downtime.value, downtime.n) == (0.0, 0)
    assert results["downtime", "2025-02"].value == 60.0  # February holds it (first run)


def test_an_interval_ending_exactly_at_the_period_start_is_not_in_it():
    results = run(outage("a", at(28, 23, month=2), at(1, 0)))
    march = results["downtime", "2025-03"]
    assert (march.value, march.n, dict(march.evidence)) == (0.0, 0, {})


def test_an_interval_crossing_the_period_start_counts_its_part_inside_but_no_failure():
    results = run(outage("a", at(28, 23, month=2), at(1, 1)))
    assert (results["downtime", "2025-03"].value, results["downtime", "2025-03"].n) == (60.0, 1)
    mtbf = results["mtbf", "2025-03"]
    assert (mtbf.value, mtbf.n, mtbf.flags.get("no_failures")) == (None, 0, True)


def test_end_before_begin_is_excluded_and_counted():
    results = run(outage("bad", at(15, 10), at(15, 9)), outage("ok", at(16, 10), at(16, 11)))
    for name in ("availability", "downtime"):
        assert (results[name, "2025-03"].n, results[name, "2025-03"].excluded) == (1, 1)
    assert results["downtime", "2025-03"].value == 60.0
    assert results["availability", "2025-03"].evidence == {"outage": ("bad", "ok")}


def test_a_record_without_begin_is_skipped_not_excluded():
    results = run(outage("none", None, at(1)))
    assert {period for (_, period) in results} == {"2025-03", "2025-04"}
    assert all((r.n, r.excluded, dict(r.evidence)) == (0, 0, {}) for r in results.values())


# -- open intervals and the month to date -------------------------------------------------------

def test_an_open_interval_lasts_until_now_and_the_period_counts_elapsed_time_only():
    now = at(10, 12, month=4)  # 9 days 12 h = 13 680 min of April elapsed
    results = run(outage("open", at(10, 10, month=4), None), now=now)
    assert results["downtime", "2025-04"].value == 120.0
    # 100 × (1 − 120 / 13 680)
    assert results["availability", "2025-04"].value == pytest.approx(99.122807, abs=1e-6)
    assert results["mtbf", "2025-04"].value == 226.0  # (228 h elapsed − 2 h) / 1


def test_an_interval_reaching_past_now_is_cut_at_now():
    now = at(10, 12, month=4)
    results = run(outage("a", at(10, 11, month=4), at(10, 15, month=4)), now=now)
    assert results["downtime", "2025-04"].value == 60.0


def test_availability_of_a_full_month():
    results = run(outage("a", at(5), at(5, 0, 30)))
    # 100 × (1 − 30 / 44 640)
    assert results["availability", "2025-03"].value == pytest.approx(99.932796, abs=1e-6)


def test_no_elapsed_time_gives_no_availability():
    results = run(now=at(1, month=4))
    april = results["availability", "2025-04"]
    assert (april.value, april.n) == (None, 0)
    assert results["availability", "2025-03"].value == 100.0


# -- mtbf: uptime over the failures begun in the period ------------------------------------------

def test_mtbf_of_a_single_failure_is_the_uptime():
    mtbf = run(outage("a", at(10, 10), at(10, 11)))["mtbf", "2025-03"]
    assert (mtbf.value, mtbf.n, mtbf.flags.get("no_failures")) == (743.0, 1, None)  # 744 h − 1 h


def test_mtbf_divides_the_uptime_by_the_failures_beginning_in_the_period():
    results = run(outage("span", at(28, 23, month=2), at(1, 1)),
                  outage("a", at(10, 10), at(10, 11)), outage("b", at(10, 10, 30), at(10, 11, 30)))
    mtbf = results["mtbf", "2025-03"]
    assert mtbf.value == pytest.approx((744 - 2.5) / 2)
    assert mtbf.n == 2  # "span" began in February
    assert results["downtime", "2025-03"].n == 3


def test_mtbf_without_failures_is_none():
    mtbf = run()["mtbf", "2025-03"]
    assert (mtbf.value, mtbf.n, mtbf.excluded) == (None, 0, 0)
    assert mtbf.flags.get("no_failures") is True


def test_a_zero_length_interval_is_a_failure_without_downtime():
    results = run(outage("a", at(10, 10), at(10, 10)), downtime_unit="s")
    assert (results["downtime", "2025-03"].value, results["downtime", "2025-03"].n) == (0.0, 1)
    assert (results["mtbf", "2025-03"].value, results["mtbf", "2025-03"].n) == (744.0, 1)


def test_no_intervals_are_no_downtime_and_one_minute_is_sixty_seconds():
    assert run(downtime_unit="s")["downtime", "2025-03"].value == 0.0
    minute = run(outage("a", at(1), at(1, 0, 1)), downtime_unit="s")
    assert minute["downtime", "2025-03"].value == 60.0


# -- overlap placement: the periods whose results list an outage ---------------------------------

def test_overlap_placement_puts_an_interval_in_every_month_it_touches():
    results = run(outage("span", at(28, 23, month=2), at(1, 1)),
                  outage("long", at(20, month=1), at(5, month=3)))
    assert placed(results) == {"2025-01": ["long"], "2025-02": ["long", "span"],
                               "2025-03": ["long", "span"]}
    assert results["downtime", "2025-02"].value == 28 * 24 * 60  # "long" covers February


def test_overlap_placement_stops_at_an_end_on_a_boundary():
    assert placed(run(outage("a", at(28, 23, month=2), at(1)))) == {"2025-02": ["a"]}


def test_an_open_interval_is_placed_up_to_now():
    results = run(outage("open", at(30), None), now=at(2, month=5))
    assert placed(results) == {"2025-03": ["open"], "2025-04": ["open"], "2025-05": ["open"]}
    assert results["downtime", "2025-05"].value == 24 * 60  # up to May 2, 00:00


def test_an_interval_ending_after_now_is_not_placed_in_future_periods():
    results = run(outage("a", at(9), at(10, month=5)), now=at(10))
    assert placed(results) == {"2025-03": ["a"]}
    assert results["downtime", "2025-03"].value == 24 * 60  # cut at now, March 10


def test_future_and_undated_intervals_are_not_placed():
    now = at(10)
    results = run(outage("future", now + timedelta(hours=1), None), outage("none", None, at(9)),
                  now=now)
    assert placed(results) == {}
    assert all(r.n == 0 for r in results.values())


def test_an_inverted_interval_is_placed_where_it_begins_only():
    results = run(outage("bad", at(15), at(1, month=1)))
    assert placed(results) == {"2025-03": ["bad"]}
    assert results["availability", "2025-03"].excluded == 1


def test_overlap_placement_in_a_reporting_time_zone():
    # 2025-02-28 23:30 UTC is already March in Berlin (UTC+1).
    results = run(outage("a", at(28, 23, 30, month=2), at(1, 1)), zone="Europe/Berlin")
    assert placed(results) == {"2025-03": ["a"]}
    assert results["downtime", "2025-03"].value == 90.0
    assert results["mtbf", "2025-03"].n == 1  # begun in Berlin's March
