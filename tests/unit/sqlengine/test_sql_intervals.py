"""Interval measures in SQL at the edges of the run clock, time zones and breakdowns.

``test_sql_outages.py`` has the interval maths on clocks on the hour in UTC; these add what
the clock and the reporting time zone change: the engine measures as of the run clock
truncated to the hour (``as_of``) and places with the clock itself (``now``), and the
periods begin at local midnight. The values are computed by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.compute import compute_records
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.scope import build_scopes
from fiveo_sync.engine.spec import IndicatorSpec, merge_parameters
from fiveo_sync.records import CanonicalData, Outage
from fiveo_sync.sqlengine import compile_indicator, run_compiled

PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "Payments"},
                 {"id": "portal", "business_service": "Portal"}],
})
OVERLAP = {"kind": "month", "placement": "overlap", "timestamp": "begin", "until": "end"}
NAMES = {"operate.availability": "availability", "operate.downtime": "downtime",
         "observe.mtbf": "mtbf"}


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def outage(ident: str, begin: str | None, end: str | None, service: str = "payments",
           kind: str = "outage") -> Outage:
    return Outage(id=ident, number=None, type=kind, service=service, begin=at(begin),
                  end=at(end), duration_s=None, task=None)


def _spec(ident: str, measure: dict, period: dict | None = None, **more) -> IndicatorSpec:
    return IndicatorSpec.model_validate({
        "id": ident, "name": ident, "view": "service", "source": "outage",
        "period": period or OVERLAP, "measure": measure, "unit": "h", "direction": "up",
        "target": {"kind": "min", "value": 0}, **more})


def run(*outages: Outage, now: str, downtime_unit: str = "min", **parameters):
    """``{(measure, period): result}`` of availability, downtime and mtbf (h) of payments."""
    more = {"parameters": parameters} if parameters else {}
    specs = [_spec("operate.availability", {"kind": "availability"}, **more),
             _spec("operate.downtime", {"kind": "downtime", "unit": downtime_unit}, **more),
             _spec("observe.mtbf", {"kind": "mtbf", "unit": "h"}, **more)]
    results = compute_records(specs, CanonicalData(outages=outages), PORTFOLIO, at(now))
    return {(NAMES[r.indicator], r.period): r for r in results
            if r.scope == "payments" and r.breakdown == "all"}


def periods(results) -> list[str]:
    return sorted({period for (_, period) in results})


# -- as_of (the hour) measures, now places -------------------------------------------------------

def test_in_the_first_hour_of_a_month_no_time_has_elapsed_so_availability_has_no_value():
    # as_of is April 1, 00:00; "late" began after it but before now, 00:20: placed in April
    # (its evidence), yet not measured (not in n).
    results = run(outage("late", "2025-04-01 00:10", None), now="2025-04-01 00:20")
    availability = results["availability", "2025-04"]
    assert (availability.value, availability.n) == (None, 0)
    assert availability.evidence == {"outage": ("late",)}
    assert results["downtime", "2025-04"].value == 0.0
    assert results["mtbf", "2025-04"].value is None


def test_an_outage_begun_between_the_hour_and_now_is_in_evidence_but_not_measured():
    results = run(outage("late", "2025-03-20 12:10", None), now="2025-03-20 12:34")
    for name in ("availability", "downtime", "mtbf"):
        assert results[name, "2025-03"].evidence == {"outage": ("late",)}
        assert results[name, "2025-03"].n == 0
    assert results["availability", "2025-03"].value == 100.0
    assert results["mtbf", "2025-03"].flags.get("no_failures") is True


def test_an_open_outage_is_measured_up_to_the_hour_not_to_now():
    # New York (UTC−5): February began Feb 1, 05:00 UTC; as_of Feb 9, 04:00 UTC is 191 h
    # later; "open" lasted 24 h of them (not the 24 h 59 min up to now).
    results = run(outage("open", "2025-02-08 04:00", None), now="2025-02-09 04:59",
                  reporting_timezone="America/New_York")
    assert results["downtime", "2025-02"].value == 1440.0
    assert results["availability", "2025-02"].value == pytest.approx(100 * (1 - 24 / 191))
    assert results["mtbf", "2025-02"].value == 167.0  # (191 − 24) / 1


# -- periods in the reporting time zone ----------------------------------------------------------

def test_an_outage_across_utc_midnight_stays_in_new_yorks_january():
    # Jan 31, 23:20 – Feb 1, 01:05 UTC is Jan 31, 18:20 – 20:05 in New York: 105 min of
    # January (744 h there too); in UTC it splits into 40 and 65 min.
    spanning = outage("x", "2025-01-31 23:20", "2025-02-01 01:05")
    new_york = run(spanning, now="2025-02-09 04:59", reporting_timezone="America/New_York")
    assert new_york["downtime", "2025-01"].value == 105.0
    assert new_york["mtbf", "2025-01"].value == pytest.approx(744 - 1.75)
    assert new_york["downtime", "2025-02"].evidence == {}
    utc = run(spanning, now="2025-02-09 04:59")
    assert (utc["downtime", "2025-01"].value, utc["downtime", "2025-02"].value) == (40.0, 65.0)
    assert (utc["mtbf", "2025-01"].n, utc["mtbf", "2025-02"].n) == (1, 0)


def test_kolkata_months_begin_at_half_past_six_utc():
    # India (UTC+5:30): March began Feb 28, 18:30 UTC, so 18:00 – 19:00 UTC is 30 min of
    # February (672 h) and 30 min of March (473.5 h elapsed as of Mar 20, 12:00 UTC).
    results = run(outage("x", "2025-02-28 18:00", "2025-02-28 19:00"), now="2025-03-20 12:00",
                  reporting_timezone="Asia/Kolkata")
    assert (results["downtime", "2025-02"].value, results["downtime", "2025-03"].value) == \
        (30.0, 30.0)
    assert results["mtbf", "2025-02"].value == 671.5
    assert results["availability", "2025-03"].value == pytest.approx(100 * (1 - 0.5 / 473.5))
    assert (results["mtbf", "2025-03"].value, results["mtbf", "2025-03"].n) == (None, 0)


def test_berlins_march_has_743_hours_and_its_april_begins_at_22_utc():
    # Summer time from March 30: Berlin's March is Feb 28, 23:00 – Mar 31, 22:00 UTC, 743 h.
    # At 22:30 UTC (00:30 in Berlin) as_of is April's start: no April time has elapsed.
    results = run(outage("x", "2025-03-31 21:30", "2025-03-31 22:15"), now="2025-03-31 22:30",
                  reporting_timezone="Europe/Berlin")
    assert results["downtime", "2025-03"].value == 30.0
    assert results["mtbf", "2025-03"].value == 742.5
    assert results["availability", "2025-03"].value == pytest.approx(100 * (1 - 0.5 / 743))
    april = results["availability", "2025-04"]
    assert (april.value, april.evidence) == (None, {"outage": ("x",)})
    assert results["downtime", "2025-04"].value == 0.0
    assert (april.n, results["downtime", "2025-04"].n) == (0, 0)  # nothing elapsed to meet


def test_before_a_half_hour_zones_month_has_begun_nothing_is_measured_in_it():
    # India: April begins Mar 31, 18:30 UTC. At 18:45 as_of is 18:00, before April's start:
    # no April time has elapsed, so the outage running across it is in April's evidence
    # but measures nothing there (not a negative half hour).
    results = run(outage("x", "2025-03-31 10:00", "2025-04-02 00:00"), now="2025-03-31 18:45",
                  reporting_timezone="Asia/Kolkata")
    downtime = results["downtime", "2025-04"]
    assert (downtime.value, downtime.n, downtime.evidence) == (0.0, 0, {"outage": ("x",)})
    assert results["availability", "2025-04"].value is None
    assert results["mtbf", "2025-04"].flags.get("no_failures") is True
    assert results["downtime", "2025-03"].value == 8 * 60.0  # 10:00 – 18:00 (as_of)


# -- which periods are reported ------------------------------------------------------------------

@pytest.mark.parametrize(("restatement_days", "expected"), [
    (0, ["2025-01", "2025-03"]),  # the current month, and January holding an outage
    (35, ["2025-01", "2025-02", "2025-03"]),  # back to Feb 13
])
def test_the_restatement_window_and_the_periods_holding_outages_are_reported(
        restatement_days, expected):
    results = run(outage("jan", "2025-01-10 00:00", "2025-01-10 01:00"), now="2025-03-20 12:34",
                  restatement_days=restatement_days)
    assert periods(results) == expected
    assert results["downtime", "2025-01"].value == 60.0


# -- breakdowns and bounds -----------------------------------------------------------------------

def test_a_breakdown_by_type_reports_its_configured_values_and_only_those():
    outages = (outage("o1", "2025-03-03 10:00", "2025-03-03 12:00"),
               outage("p1", "2025-03-03 11:00", "2025-03-03 14:00", kind="planned"),
               outage("d1", "2025-03-04 10:00", "2025-03-04 11:00", kind="degradation"))
    spec = _spec("operate.downtime", {"kind": "downtime", "unit": "h"},
                 breakdown={"field": "type", "values": ["outage", "planned", "none"]})
    results = compute_records([spec], CanonicalData(outages=outages), PORTFOLIO,
                              at("2025-03-20 12:00"))
    march = {r.breakdown: (r.value, r.n) for r in results
             if r.scope == "payments" and r.period == "2025-03"}
    # all: 10:00 – 14:00 once, and the degradation's hour
    assert march == {"all": (5.0, 3), "type=outage": (2.0, 1), "type=planned": (3.0, 1),
                     "type=none": (0.0, 0)}


def test_a_breakdown_without_values_reports_the_values_found():
    outages = (outage("o1", "2025-03-03 10:00", "2025-03-03 12:00"),
               outage("p1", "2025-03-10 00:00", "2025-03-12 00:00", kind="planned"))
    spec = _spec("operate.mtbf", {"kind": "mtbf", "unit": "h"}, breakdown={"field": "type"})
    results = compute_records([spec], CanonicalData(outages=outages), PORTFOLIO,
                              at("2025-03-20 12:00"))
    march = {r.breakdown: (r.value, r.n) for r in results
             if r.scope == "payments" and r.period == "2025-03"}
    # 19 days 12 h = 468 h elapsed
    assert march == {"all": (pytest.approx((468 - 50) / 2), 2), "type=outage": (466.0, 1),
                     "type=planned": (420.0, 1)}


def test_weekly_periods_split_an_outage_at_monday_midnight():
    spec = _spec("operate.downtime", {"kind": "downtime", "unit": "min"},
                 {**OVERLAP, "kind": "week"})
    results = compute_records([spec], CanonicalData(outages=(
        outage("x", "2025-03-09 23:00", "2025-03-10 01:00"),)), PORTFOLIO, at("2025-03-20 12:00"))
    placed = {r.period: (r.value, r.n) for r in results
              if r.scope == "payments" and r.evidence.get("outage")}
    assert placed == {"2025-W10": (60.0, 1), "2025-W11": (60.0, 1)}  # Sunday | Monday


def test_sub_second_bounds_are_kept():
    results = run(outage("s", "2025-03-01 10:00:00.123456", "2025-03-01 10:00:01.000001"),
                  now="2025-03-20 12:00", downtime_unit="s")
    assert results["downtime", "2025-03"].value == pytest.approx(0.876545, abs=1e-12)


def test_another_service_without_outages_is_fully_available():
    results = compute_records([_spec("operate.availability", {"kind": "availability"})],
                              CanonicalData(outages=(outage("o1", "2025-03-03 10:00", None),)),
                              PORTFOLIO, at("2025-03-20 12:00"))
    portal = {r.period: (r.value, r.n) for r in results if r.scope == "portal"}
    assert portal == {"2025-02": (100.0, 0), "2025-03": (100.0, 0)}


# -- final periods held by a later run -----------------------------------------------------------

HELD = (
    outage("o15", "2025-01-15 00:00", None, service="portal"),  # open since January
    outage("o06", "2025-01-31 23:20", "2025-02-01 01:05"),  # two months
    outage("o07", "2024-12-20 00:00", "2025-02-10 06:00", kind="planned"),  # three months
    outage("o01", "2025-03-03 10:00", "2025-03-03 12:00"),
)


@pytest.fixture(scope="module")
def conn():
    with duckdb.connect() as db:
        for table in TABLES:
            db.execute(table.ddl())
        names = next(t.column_names for t in TABLES if t.name == "outages")
        db.executemany(f'INSERT INTO outages VALUES ({", ".join("?" * len(names))})',  # noqa: S608
                       [[getattr(o, name, None) for name in names] for o in HELD])
        yield db


def test_final_periods_held_are_skipped_and_spanning_outages_still_placed_after(conn):
    now = at("2025-03-20 12:34")
    spec = _spec("operate.availability", {"kind": "availability"})
    params = {**merge_parameters(), "reporting_timezone": "UTC", "restatement_days": 0}
    scopes = build_scopes(PORTFOLIO)["service"]

    def cells(done=()):
        compiled = compile_indicator(spec, params, scopes, now, done)
        assert compiled.prefilter is None and compiled.reuse is None  # always recomputed
        return {(c.scope, c.breakdown, c.period): (c.value, c.n, c.excluded)
                for c in run_compiled(conn, compiled)}

    every = cells()
    held = {(s.id, "2025-01") for s in scopes}
    assert cells(held) == {k: v for k, v in every.items() if k[2] != "2025-01"}
    assert ("portal", "all", "2025-02") in every  # o15, open since January
    assert ("payments", "all", "2024-12") in every  # o07, begun in December
