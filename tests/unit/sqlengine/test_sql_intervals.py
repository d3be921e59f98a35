"""Interval measures compiled to SQL give the Python engine's cells on crafted outages.

The demo's outages all ended and but one lie within a month; these reach the rest:
overlapping, contained and touching intervals, open ones (also one open since before the
window), intervals spanning two and three months, one ending before it begins, zero-length
ones (one on a period boundary), a beginning after ``now`` and one between the hour's start
(``as_of``, what the measures use) and ``now`` (what placement uses), an end after ``now``,
sub-second bounds, a record without a beginning, and a service without outages. Clocks:
mid-month, the first hour of a month (no time elapsed yet: availability has no value) and
a half-hour zone's new month beginning after ``as_of``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.engine.engine import compute
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.scope import build_scopes
from fiveo_sync.engine.spec import BoundIndicator, IndicatorSpec, merge_parameters
from fiveo_sync.records import CanonicalData, Outage
from fiveo_sync.sqlengine import compile_indicator, run_compiled, run_indicators

PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "Payments"},
                 {"id": "portal", "business_service": "Portal"},
                 {"id": "quiet", "business_service": "Quiet"}],
})
OVERLAP = {"kind": "month", "placement": "overlap", "timestamp": "begin", "until": "end"}


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def outage(ident: str, begin: str | None, end: str | None, service: str = "payments",
           kind: str = "outage") -> Outage:
    return Outage(id=ident, number=None, type=kind, service=service, begin=at(begin),
                  end=at(end), duration_s=None, task=None)


OUTAGES = (
    # overlapping, contained and touching: one island of 4 h on March 3
    outage("o01", "2025-03-03 10:00", "2025-03-03 12:00"),
    outage("o02", "2025-03-03 11:00", "2025-03-03 13:30"),
    outage("o03", "2025-03-03 11:15", "2025-03-03 11:45"),
    outage("o04", "2025-03-03 13:30", "2025-03-03 14:00", kind="degradation"),
    outage("o05", "2025-03-18 08:00", None),  # open
    outage("o06", "2025-01-31 23:20", "2025-02-01 01:05"),  # two months
    outage("o07", "2024-12-20 00:00", "2025-02-10 06:00", kind="planned"),  # three months
    outage("o08", "2025-03-05 00:00", "2025-03-04 00:00"),  # ends before it begins
    outage("o09", "2025-03-06 09:00", "2025-03-06 09:00"),  # zero length
    outage("o10", "2025-02-01 00:00", "2025-02-01 00:00"),  # zero length on a boundary
    outage("o11", "2025-04-20 00:00", "2025-04-21 00:00"),  # after every clock
    outage("o12", "2025-03-31 22:10", "2025-04-01 00:05"),  # ends after a clock
    outage("o13", "2025-03-01 10:00:00.123456", "2025-03-01 10:00:01.000001"),  # sub-second
    outage("o14", None, "2025-03-02 00:00"),  # never placed
    outage("o15", "2025-01-15 00:00", None, service="portal"),  # open since January
    outage("o16", "2025-03-31 10:00", "2025-04-02 00:00", service="portal"),
    outage("o17", "2025-03-31 18:40", None, service="portal"),  # between as_of and now
    outage("o18", "2025-03-31 00:00", "2025-03-31 01:00", service="portal"),
    outage("o19", "2025-03-10 00:00", "2025-03-12 00:00", service="portal", kind="planned"),
    outage("o20", "2025-03-10 12:00", "2025-03-11 00:00", service="portal"),
    outage("o21", "2025-03-20 12:10", None, service="portal"),  # between as_of and now
)


def _spec(ident: str, measure: dict, period: dict | None = None, **more) -> IndicatorSpec:
    return IndicatorSpec.model_validate({
        "id": f"operate.{ident}", "name": ident, "view": "service", "source": "outage",
        "period": period or OVERLAP, "measure": measure, "unit": "h", "direction": "up",
        "target": {"kind": "min", "value": 0}, **more})


WEEKS = {**OVERLAP, "kind": "week"}
SPECS = [
    _spec("availability", {"kind": "availability"}),
    _spec("availability_by_type", {"kind": "availability"}, breakdown={"field": "type"}),
    _spec("downtime_s", {"kind": "downtime", "unit": "s"},
          filters=[{"op": "ne", "field": "type", "value": "planned"}]),
    _spec("downtime_h_weeks", {"kind": "downtime", "unit": "h"}, WEEKS,
          breakdown={"field": "type", "values": ["outage", "planned", "none"]}),
    _spec("mtbf", {"kind": "mtbf", "unit": "h"}),
    _spec("mtbf_weeks", {"kind": "mtbf", "unit": "min"}, WEEKS, breakdown={"field": "type"}),
]
CLOCKS = [
    ("UTC", datetime(2025, 3, 20, 12, 34, tzinfo=UTC)),
    ("UTC", datetime(2025, 4, 1, 0, 20, tzinfo=UTC)),  # April's first hour: nothing elapsed
    ("Europe/Berlin", datetime(2025, 3, 31, 22, 30, tzinfo=UTC)),  # April's first hour there
    ("Asia/Kolkata", datetime(2025, 3, 31, 18, 45, tzinfo=UTC)),  # April from 18:30 UTC
    ("America/New_York", datetime(2025, 2, 9, 4, 59, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def conn():
    with duckdb.connect() as db:
        for table in TABLES:
            db.execute(table.ddl())
        names = next(t.column_names for t in TABLES if t.name == "outages")
        db.executemany(f'INSERT INTO outages VALUES ({", ".join("?" * len(names))})',  # noqa: S608
                       [[getattr(o, name, None) for name in names] for o in OUTAGES])
        yield db


def _bound(zone: str, params: dict | None = None) -> list[BoundIndicator]:
    merged = {**merge_parameters(), "reporting_timezone": zone, **(params or {})}
    return [BoundIndicator(spec=s, params=merged) for s in SPECS]


def _python(indicators, now):
    data = CanonicalData(outages=OUTAGES)
    return {(r.indicator, r.scope, r.breakdown, r.period):
            (r.value, r.n, r.excluded, {k: v for k, v in r.flags.items() if k != "no_baseline"},
             dict(r.evidence))
            for r in compute(indicators, data, PORTFOLIO, now)}


@pytest.mark.parametrize(("zone", "now"), CLOCKS)
@pytest.mark.parametrize("restatement_days", [0, 35])
def test_interval_cells_match_the_python_engine(conn, zone, now, restatement_days):
    indicators = _bound(zone, {"restatement_days": restatement_days})
    sql = run_indicators(conn, indicators, PORTFOLIO, now)
    assert sql.not_compiled == {}
    mine = {c.key: (c.value, c.n, c.excluded, c.flags, c.evidence) for c in sql.cells}
    python = _python(indicators, now)
    assert mine.keys() == python.keys()
    assert {k: (mine[k], python[k]) for k in python if mine[k] != python[k]} == {}


def test_the_crafted_cases_are_reached():
    """Not vacuous: the cells above hold what the outages were written for."""
    now = datetime(2025, 3, 20, 12, 34, tzinfo=UTC)
    python = _python(_bound("UTC"), now)
    availability = python["operate.availability", "payments", "all", "2025-03"]
    assert availability[1:3] == (7, 1)  # o01-o05, o09, o13 overlap; o08 excluded
    assert "o08" in availability[4]["outage"]
    # o07 spans December to February, o15 is open since January: placed in every month
    assert {p for (i, s, b, p) in python if i == "operate.availability_by_type" and
            b == "type=planned"} >= {"2024-12", "2025-01", "2025-02"}
    assert python["operate.mtbf", "quiet", "all", "2025-03"][:4] == \
        (None, 0, 0, {"no_failures": True})
    assert python["operate.availability", "quiet", "all", "2025-03"][:3] == (100.0, 0, 0)
    portal = python["operate.availability", "portal", "all", "2025-03"]
    assert "o21" in portal[4]["outage"]  # placed (begun before now), measured as of 12:00
    first_hour = _python(_bound("UTC"), datetime(2025, 4, 1, 0, 20, tzinfo=UTC))
    assert first_hour["operate.availability", "quiet", "all", "2025-04"][0] is None


def test_final_periods_held_are_skipped_and_spanning_outages_still_placed_after(conn):
    now = datetime(2025, 3, 20, 12, 34, tzinfo=UTC)
    spec = SPECS[0]
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
