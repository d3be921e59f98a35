"""Month, ISO-week and quarter periods computed in SQL match ``engine/periods.py``, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from fiveo_sync.engine.periods import period_of
from fiveo_sync.sqlengine.periods import period_sql


def _sql_periods(kind, zone, moments):
    sql = period_sql(kind, "stamp", "$tz")
    with duckdb.connect() as conn:
        rows = conn.execute(
            f"SELECT {sql.id}, {sql.start}, {sql.end} FROM "  # noqa: S608 - constant SQL
            "(SELECT unnest(CAST($ts AS TIMESTAMPTZ[])) AS stamp, generate_subscripts("
            "CAST($ts AS TIMESTAMPTZ[]), 1) AS i) ORDER BY i",
            {"tz": zone, "ts": moments}).fetchall()
    return [(pid, start.astimezone(UTC), end.astimezone(UTC)) for pid, start, end in rows]


def _u(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("kind", "zone", "moment", "expected"), [
    # Berlin, spring forward on 30 March 2025: April begins at 22:00 UTC (CEST)
    ("month", "Europe/Berlin", "2025-03-31 22:30",
     ("2025-04", "2025-03-31 22:00", "2025-04-30 22:00")),
    ("month", "Europe/Berlin", "2025-03-31 21:59", ("2025-03", "2025-02-28 23:00",
                                                    "2025-03-31 22:00")),
    # the week of the change is 167 hours long
    ("week", "Europe/Berlin", "2025-03-30 21:59", ("2025-W13", "2025-03-23 23:00",
                                                   "2025-03-30 22:00")),
    # New York falls back on 2 November 2025: that week has 169 hours
    ("week", "America/New_York", "2025-11-05 12:00", ("2025-W45", "2025-11-03 05:00",
                                                      "2025-11-10 05:00")),
    ("week", "America/New_York", "2025-11-03 03:00", ("2025-W44", "2025-10-27 04:00",
                                                      "2025-11-03 05:00")),
    # ISO years: 30 December 2024 is in 2025-W01, 3 January 2021 in 2020-W53
    ("week", "UTC", "2024-12-30 00:00", ("2025-W01", "2024-12-30 00:00", "2025-01-06 00:00")),
    ("week", "UTC", "2021-01-03 23:59", ("2020-W53", "2020-12-28 00:00", "2021-01-04 00:00")),
    # Sydney: the third quarter begins at 14:00 UTC on 30 June (AEST, no DST in winter)
    ("quarter", "Australia/Sydney", "2025-06-30 14:00",
     ("2025-Q3", "2025-06-30 14:00", "2025-09-30 14:00")),
    ("quarter", "America/New_York", "2026-01-01 04:59",
     ("2025-Q4", "2025-10-01 04:00", "2026-01-01 05:00")),
])
def test_hand_checked_boundaries(kind, zone, moment, expected):
    pid, start, end = expected
    assert _sql_periods(kind, zone, [_u(moment)]) == [(pid, _u(start), _u(end))]


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
         "Pacific/Chatham", "America/St_Johns"]


@pytest.mark.parametrize("kind", ["month", "week", "quarter"])
@pytest.mark.parametrize("zone", ZONES)
def test_every_boundary_of_two_years_matches_the_python_periods(kind, zone):
    # Every 5 h 17 min over two years: every month and week edge, both DST changes a year.
    start = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=317 * k) for k in range(3320)]
    expected = [(p.id, p.start, p.end) for p in (period_of(kind, m, zone) for m in moments)]
    assert _sql_periods(kind, zone, moments) == expected


def test_other_period_kinds_are_not_compiled():
    from fiveo_sync.sqlengine import NotCompiled

    with pytest.raises(NotCompiled, match="sprint periods are not compiled"):
        period_sql("sprint", "stamp", "$tz")
