"""Interval measures in SQL: ``availability``, ``downtime`` and ``mtbf`` of outages (issue 15).

A unit of ``placement: overlap`` is the interval ``[stamp, v)`` (``v`` empty: still open).
It is placed in every period it overlaps, walking from its beginning's period to the next
while the period ends before the interval's last instant (open ones last up to ``$now``,
beginnings after ``$now`` are dropped): an outage spanning two months belongs to both. Each
cell clips its members to the elapsed part ``[period_start, min(period_end, $as_of))`` of
its period, so the current month counts the time that has passed and no more, merges the
overlapping ones with window functions (gaps and islands: two outages of the same hour are
one hour down, not two) and returns the islands' lengths in whole microseconds ÷ 1e6. The
runner adds them up one by one in start order and applies the measure's formula
(:func:`~fiveo_sync.sqlengine.aggregates.interval_value`): a fixed order of plain float
operations, so values stay the same to the last bit across releases.

Every cell reported (each scope × the restatement window's periods, with the configured
breakdown values) comes out of the query, not out of the runner: an empty cell's value
depends on its period (no availability where no time has elapsed yet: the first hour of
the current month), which one ``Aggregate.empty`` cannot say.
"""

# ruff: noqa: S608 - identifiers come from the canonical schema; values are bound parameters
from __future__ import annotations

from typing import Any

from fiveo_sync.sqlengine.aggregates import Aggregate
from fiveo_sync.sqlengine.periods import period_sql

GRID = [("scope_id", "VARCHAR"), ("period_id", "VARCHAR"), ("period_start", "TIMESTAMPTZ"),
        ("period_end", "TIMESTAMPTZ")]
"""The columns of the cells reported even when empty (:func:`interval_sql`'s ``grid``)."""

_CELL = "scope_id, breakdown, period_id"
_EMPTY = {"availability": (100.0, 0, 0), "downtime": (0.0, 0, 0), "mtbf": (None, 0, 0)}


def interval_aggregate(measure: Any) -> Aggregate:
    """The aggregate of an interval measure: its cells are finished by the runner.

    ``value`` is a struct of the elapsed seconds, the islands' seconds in order and the
    failures begun; ``empty`` is a cell without units in a period that has begun (the
    query reports those cells itself, see the module docstring). No minimum sample: a
    month without an outage is 100 % available, not insufficient data.
    """
    kind = measure.kind
    return Aggregate("value", "n", "excluded", _EMPTY[kind], 0, finish=kind,
                     unit=getattr(measure, "unit", None))


def placed_sql(kind: str, tz: str, now: str) -> str:
    """The ``placed`` CTE: each unit once in every period its interval overlaps.

    A recursive walk: the next period is the one holding the previous one's end (it
    begins where that one ends), taken while that end is before the interval's last
    instant (``min(until, now)``; an interval ending before it begins stays in its
    beginning's period, where it is counted as excluded).
    """
    first, step = period_sql(kind, "stamp", tz), period_sql(kind, "period_end", tz)
    return (
        "placed AS (WITH RECURSIVE walk AS ("
        f"SELECT units.*, least(coalesce(v, {now}), {now}) AS last_at, "
        f"{first.id} AS period_id, {first.start} AS period_start, {first.end} AS period_end "
        f"FROM units WHERE stamp IS NOT NULL AND stamp <= {now} "
        f"UNION ALL SELECT * REPLACE ({step.id} AS period_id, {step.start} AS period_start, "
        f"{step.end} AS period_end) FROM walk WHERE period_end < last_at) "
        "SELECT * EXCLUDE (last_at) FROM walk)")


def interval_sql(ctes: list[str], kind: str, grid: str, as_of: str,
                 labels: tuple[str, str | None] | None, evidence: str) -> str:
    """The query of an interval measure over ``placed`` (already among ``ctes``).

    Args:
        ctes: the query's CTEs so far (scope maps, units, placed); extended here.
        kind: ``availability``, ``downtime`` or ``mtbf``.
        grid: rows of :data:`GRID`: the cells reported even without units.
        as_of: the expression of the run clock truncated to the hour: the measure looks
            at time up to it, so every rerun within the hour gives the same value (an open
            outage, the month to date); ``placed`` uses ``$now``.
        labels: ``(prefix, configured values or None)`` of a breakdown, or None.
        evidence: ``evidence_sql(...)`` over the cell's members.

    Returns:
        The query: rows ``scope, breakdown, period, period_start, period_end, value (struct
        for :func:`~fiveo_sync.sqlengine.aggregates.interval_value`), n, excluded, flags,
        ids, count``.
    """
    ctes += [_members(labels), _judged(as_of), *_islands(), _counts(evidence),
             _keys(grid, labels)]
    elapsed = (f"CAST(greatest(epoch_us(least(k.period_end, {as_of})) - "
               "epoch_us(k.period_start), 0) AS DOUBLE) / CAST(1000000 AS DOUBLE)")
    starts = "coalesce(c.starts, 0)"
    n = starts if kind == "mtbf" else "coalesce(c.overlapping, 0)"
    flags = f"CASE WHEN {starts} = 0 THEN {{'no_failures': TRUE}} END" if kind == "mtbf" \
        else "NULL"
    return (f"WITH {', '.join(ctes)}\nSELECT k.scope_id, k.breakdown, k.period_id, "
            f"k.period_start, k.period_end, {{'elapsed': {elapsed}, 'parts': u.parts, "
            f"'starts': {starts}}} AS value, {n} AS n, coalesce(c.excluded, 0) AS excluded, "
            f"{flags} AS flags, c.ev_ids, coalesce(c.ev_n, 0) AS ev_n FROM keys k "
            f"LEFT JOIN counts c USING ({_CELL}) LEFT JOIN unions u USING ({_CELL})")


def _members(labels: tuple[str, str | None] | None) -> str:
    """Each placed unit once in its cell ``all`` and once in its breakdown value's cell."""
    picked = "period_id, period_start, period_end, stamp, v, eid FROM placed"
    sql = f"SELECT scope_id, 'all' AS breakdown, {picked}"
    if labels is not None:
        prefix, values = labels
        wanted = "" if values is None else f" AND list_contains({values}, label)"
        sql += (f"\nUNION ALL\nSELECT scope_id, {prefix} || label, {picked} "
                f"WHERE label IS NOT NULL{wanted}")
    return f"members AS ({sql})"


def _judged(as_of: str) -> str:
    """Microsecond bounds of each member and window, and how the window treats the member.

    ``bad``: ends before it begins (excluded). ``inside``: begins in the window (a failure
    for MTBF). ``meets``: kept in ``overlapping`` (a zero-length interval only when its
    instant is inside). Open intervals end at ``max(begin, $as_of)``. A window with no
    time elapsed yet (the hour holding the period's start: ``$as_of`` at or before it,
    as in a zone whose months begin at half past an hour) meets nothing: no interval is
    clipped to a negative or empty length and counted.
    """
    bounds = (f"SELECT *, epoch_us(stamp) AS b, epoch_us(coalesce(v, greatest(stamp, "
              f"{as_of}))) AS e, epoch_us(period_start) AS low, "
              f"greatest(epoch_us(period_start), epoch_us(least(period_end, {as_of}))) "
              "AS high FROM members")
    judged = ("SELECT *, e < b AS bad, low <= b AND b < high AS inside FROM spans")
    meets = ("SELECT *, NOT bad AND high > low AND CASE WHEN b = e THEN inside "
             "ELSE b < high AND e > low END AS meets FROM judged_0")
    return f"spans AS ({bounds}), judged_0 AS ({judged}), judged AS ({meets})"


def _islands() -> list[str]:
    """``unions``: per cell, the seconds of each island of the clipped intervals, by start.

    Intervals sorted by (start, end) open a new island when one begins after every end
    before it (one beginning exactly at an earlier end joins that island); the row number
    makes that order total, so both windows see the rows in the same order.
    """
    cell = f"PARTITION BY {_CELL}"
    return [
        f"ranked AS (SELECT {_CELL}, greatest(b, low) AS cs, least(e, high) AS ce, "
        f"row_number() OVER ({cell} ORDER BY greatest(b, low), least(e, high)) AS rn "
        "FROM judged WHERE meets)",
        f"opened AS (SELECT *, coalesce(cs > max(ce) OVER ({cell} ORDER BY rn ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND 1 PRECEDING), TRUE) AS fresh FROM ranked)",
        f"numbered AS (SELECT *, sum(CAST(fresh AS BIGINT)) OVER ({cell} ORDER BY rn ROWS "
        "UNBOUNDED PRECEDING) AS island FROM opened)",
        f"island_spans AS (SELECT {_CELL}, min(cs) AS s, max(ce) AS e FROM numbered "
        f"GROUP BY {_CELL}, island)",
        f"unions AS (SELECT {_CELL}, list(CAST(e - s AS DOUBLE) / CAST(1000000 AS DOUBLE) "
        f"ORDER BY s) AS parts FROM island_spans GROUP BY {_CELL})",
    ]


def _counts(evidence: str) -> str:
    """Per cell with members: ``overlapping``, ``starts``, ``excluded`` and the evidence."""
    return (f"counts AS (SELECT {_CELL}, count(*) FILTER (WHERE meets) AS overlapping, "
            "count(*) FILTER (WHERE meets AND inside) AS starts, "
            f"count(*) FILTER (WHERE bad) AS excluded, {evidence} FROM judged "
            f"GROUP BY {_CELL})")


def _keys(grid: str, labels: tuple[str, str | None] | None) -> str:
    """Every cell to report, empty ones too.

    Those with members, and ``all`` and the configured breakdown values of every period of
    the grid or holding a placed unit.
    """
    bounds = "period_id, period_start, period_end"
    periods = (f"SELECT scope_id, {bounds} FROM ({grid}) UNION "
               f"SELECT DISTINCT scope_id, {bounds} FROM placed")
    found = [f"SELECT scope_id, 'all' AS breakdown, {bounds} FROM periods",
             f"SELECT {_CELL}, any_value(period_start), any_value(period_end) FROM members "
             f"GROUP BY {_CELL}"]
    if labels is not None and labels[1] is not None:
        prefix, values = labels
        found.append(f"SELECT scope_id, {prefix} || value, {bounds} FROM periods, "
                     f"(SELECT unnest({values}) AS value)")
    cells = "\nUNION ALL\n".join(found)
    return (f"periods AS ({periods}), keys AS (SELECT {_CELL}, any_value(period_start) AS "
            f"period_start, any_value(period_end) AS period_end FROM ({cells}) "
            f"GROUP BY {_CELL})")
