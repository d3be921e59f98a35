"""Record measures as per-unit SQL columns and per-cell aggregates (indicators.md §2.6).

Each unit row (a record, or a (record, related) pair for ``linked_duration``) carries ``v``
(the measured value, NULL when the unit is excluded) and ``hit`` (the ratio numerator); a
cell aggregates them into ``value, n, excluded``: durations negative or with an empty side
are excluded; a ratio's n is its denominator; a statistic's n counts the values; counts,
sums and distinct counts have no minimum sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fiveo_sync.canonical.id_traits import SEPARATOR as EVIDENCE_SEPARATOR
from fiveo_sync.engine import stats
from fiveo_sync.engine.measures import (
    INTERVAL_KINDS,
    NO_MINIMUM_KINDS,
    UNIT_SECONDS,
    DurationValue,
)
from fiveo_sync.engine.result import EVIDENCE_CAP
from fiveo_sync.sqlengine.fields import Column, NotCompiled, RecordFields
from fiveo_sync.sqlengine.predicates import is_empty_sql

_NUMBERS = frozenset({"BIGINT", "DOUBLE", "BOOLEAN"})
_RATIO = ("CASE WHEN count(*) = 0 THEN NULL ELSE CAST(100.0 AS DOUBLE) * "
          "CAST(count(*) FILTER (WHERE hit) AS DOUBLE) / CAST(count(*) AS DOUBLE) END")
_STATISTIC_N, _STATISTIC_EXCLUDED = "count(v)", "count(*) - count(v)"
_VALUES = "list(v) FILTER (WHERE v IS NOT NULL)"


@dataclass(frozen=True)
class Aggregate:
    """How one measure turns unit rows into a cell.

    Attributes:
        value, n, excluded: aggregate SQL over the ``placed`` rows of one cell.
        empty: ``(value, n, excluded)`` of a cell without units (counts and sums 0, ratios
            and statistics no value), for periods of the restatement window and configured
            breakdown values that hold nothing.
        min_sample: the minimum n of the status rule (``Outcome.min_sample``).
        flags: outcome flags of every cell (``off`` of a measure switched off).
        finish: for statistics over the values (``mean``, ``sum``, ``percentile``,
            ``flow``): ``value`` is then the list of the cell's values and the runner
            computes it in Python (:func:`finish_value`): type-7 percentiles of
            :func:`~fiveo_sync.engine.stats.percentile`, sums and means exactly rounded with
            ``math.fsum``. Neither depends on the order DuckDB lists the values in, so the
            same records give the same bits on every run and release (status, trend and
            history see no spurious change); DuckDB's ``quantile_cont`` interpolates in
            another order, and its sums are not exactly rounded.
        q: the percentile of ``finish="percentile"`` (0–100; 50 for medians).
        unit: the duration unit of ``finish="downtime"`` and ``"mtbf"``.
    """

    value: str
    n: str
    excluded: str
    empty: tuple[float | None, int, int]
    min_sample: int
    flags: tuple[tuple[str, Any], ...] = ()
    finish: str | None = None
    q: float | None = None
    unit: str | None = None


def finish_value(aggregate: Aggregate, values: Any) -> float | None:
    """The value of a cell whose query returned its values (``Aggregate.finish``).

    ``values`` is a list, but for interval measures (a struct, :func:`interval_value`).
    """
    if aggregate.finish in INTERVAL_KINDS:
        return interval_value(aggregate.finish, aggregate.unit, values)
    values = values or []
    if aggregate.finish == "percentile":
        return stats.percentile(values, aggregate.q if aggregate.q is not None else 50)
    if aggregate.finish == "mean":
        return stats.mean(values)
    if aggregate.finish == "sum":
        return math.fsum(values)
    if aggregate.finish == "flow":  # {a: the item's active segments, e: its elapsed}
        # Active over elapsed seconds in %, exact sums: the same in any order.
        return stats.ratio_pct(math.fsum(math.fsum(item["a"]) for item in values),
                               math.fsum(item["e"] for item in values))
    raise ValueError(f"unknown finish {aggregate.finish!r}")


def interval_value(kind: str, unit: str | None, packed: dict[str, Any]) -> float | None:
    """An interval measure's value from its cell's ``{elapsed, parts, starts}``.

    ``parts`` are the seconds of the cell's islands (its clipped intervals, overlaps merged)
    ordered by start (``sqlengine/intervals.py``). The union is their total, added one by
    one from 0.0 in that order (plain additions, not ``sum``, which compensates since
    Python 3.12), so the value does not move between releases. ``elapsed`` is the seconds
    of the period that have passed, ``starts`` the intervals beginning in it (failures):

    - availability: ``100.0 × (1.0 − union ÷ elapsed)``; None when nothing has elapsed;
    - downtime: ``union ÷ unit`` (the unit's seconds; default minutes);
    - mtbf: ``(elapsed − union) ÷ starts ÷ unit`` (default hours), divided in that order;
      None without failures.
    """
    union = 0.0
    for part in packed.get("parts") or ():
        union += part
    elapsed = packed["elapsed"]
    if kind == "availability":
        return None if elapsed == 0 else 100.0 * (1.0 - union / elapsed)
    scale = UNIT_SECONDS[unit or ("min" if kind == "downtime" else "h")]
    if kind == "downtime":
        return union / scale
    starts = packed["starts"]
    return None if starts == 0 else (elapsed - union) / starts / scale


def evidence_sql(member: str = "eid", where: str = "TRUE", distinct: bool = True,
                 text: bool = False) -> str:
    """``ev_ids, ev_n``: a cell's distinct record ids (up to the cap) and how many there are.

    A cell's evidence is every record it was computed over: the ``n`` records used and the
    ``excluded`` ones (a resolved incident without ``opened_at``), because both explain the
    value; views and writers turn the ids into links that select exactly those records.
    Sorted (byte order of UTF-8 is code-point order, as Python sorts), none over
    :data:`~fiveo_sync.engine.result.EVIDENCE_CAP` (the runner then flags the count).
    ``distinct=False`` when the caller knows no id occurs twice in a cell: DuckDB's
    ``DISTINCT`` aggregates are then a third of a first computation's query time.
    ``text=True`` when no id holds :data:`EVIDENCE_SEPARATOR`: the ids come as one text
    joined by it, which the runner splits (a list of strings converts to Python ~1.5x
    slower; ~1 s of a first computation at 1M incidents).
    """
    kept = f"{member} IS NOT NULL AND ({where})"
    once = "DISTINCT " if distinct else ""
    count = f"count({once}{member}) FILTER (WHERE {kept})"
    ids = f"list_sort(list({once}{member}) FILTER (WHERE {kept}))"
    if text:
        ids = f"array_to_string({ids}, chr({ord(EVIDENCE_SEPARATOR)}))"
    return f"CASE WHEN {count} <= {EVIDENCE_CAP} THEN {ids} END AS ev_ids, {count} AS ev_n"


def aggregate_of(kind: str, q: float | None = None) -> Aggregate:
    """The aggregate of a record measure kind (``q``: the percentile, 0–100)."""
    low = 0 if kind in NO_MINIMUM_KINDS else stats.MIN_SAMPLE
    if kind == "count":
        return Aggregate("CAST(count(*) AS DOUBLE)", "count(*)", "0", (0.0, 0, 0), low)
    if kind == "sum":
        return Aggregate("list(v)", "count(*)", "0", (0.0, 0, 0), low, finish="sum")
    if kind == "distinct_count":
        return Aggregate("CAST(count(DISTINCT v) AS DOUBLE)", "count(*)", "0", (0.0, 0, 0),
                         low)
    if kind == "repeat_count":
        return Aggregate("CAST(count(*) FILTER (WHERE hit) AS DOUBLE)", "count(*)", "0",
                         (0.0, 0, 0), low)
    if kind in ("ratio", "related_share"):
        return Aggregate(_RATIO, "count(*)", "0", (None, 0, 0), low)
    if kind == "mean":
        return Aggregate(_VALUES, _STATISTIC_N, _STATISTIC_EXCLUDED, (None, 0, 0), low,
                         finish="mean")
    if kind in ("median", "percentile"):
        if kind == "percentile" and q is None:
            raise NotCompiled("percentile without q is not compiled")
        return Aggregate(_VALUES, _STATISTIC_N, _STATISTIC_EXCLUDED, (None, 0, 0), low,
                         finish="percentile", q=50 if kind == "median" else q)
    raise NotCompiled(f"measure {kind} is not compiled")


def duration_sql(start: Column, end: Column, unit: str) -> str:
    """``end − start`` in ``unit``; NULL (excluded, §2.6) when a side is empty or negative."""
    for side in (start, end):
        if side.type != "TIMESTAMPTZ":
            raise NotCompiled(f"a duration needs date-times, got {side.type}")
    s, e = start.sql, end.sql
    # Whole microseconds ÷ 1e6 ÷ unit seconds, rounded to a double at each step (as
    # timedelta.total_seconds() / unit): one fixed arithmetic, so durations stay the same
    # to the last bit across releases.
    return (f"CASE WHEN {s} IS NULL OR {e} IS NULL OR epoch_us({e}) < epoch_us({s}) "
            f"THEN NULL ELSE CAST(epoch_us({e}) - epoch_us({s}) AS DOUBLE) "
            f"/ CAST(1000000 AS DOUBLE) / CAST({UNIT_SECONDS[unit]!r} AS DOUBLE) END")


def number_sql(col: Column) -> str:
    """A number or boolean field as a DOUBLE (``True`` is 1.0; text fields are not compiled)."""
    if col.type not in _NUMBERS:
        raise NotCompiled(f"a numeric value needs a number column, got {col.type}")
    return f"CAST({col.sql} AS DOUBLE)"


def value_sql(of: Any, fields: RecordFields) -> str:
    """``v`` of mean/median/percentile: a duration or a numeric field."""
    if isinstance(of, DurationValue):
        return duration_sql(fields.column(of.start), fields.column(of.end), of.unit)
    return number_sql(fields.column(of.field))


def sum_sql(fields: RecordFields, name: str) -> str:
    """``v`` of ``sum``: the field as a DOUBLE, an empty one counting 0."""
    return f"coalesce({number_sql(fields.column(name))}, CAST(0 AS DOUBLE))"


def distinct_sql(fields: RecordFields, name: str, as_date: bool, tz: str) -> str:
    """``v`` of ``distinct_count``: the value (or its local date), NULL when empty."""
    col = fields.column(name)
    if col.is_list:
        raise NotCompiled("distinct_count of a list column is not compiled")
    if as_date:
        if col.type != "TIMESTAMPTZ":
            raise NotCompiled("distinct_count as_date needs a date-time column")
        return f"CAST(timezone({tz}, {col.sql}) AS DATE)"
    return f"CASE WHEN {is_empty_sql(col, fields.bindings)} THEN NULL ELSE {col.sql} END"


def label_sql(col: Column) -> str:
    """A breakdown label: the text of the field's value.

    As Python's ``str()`` writes it (integers in decimal, booleans ``True``/``False``), so
    the labels of the history stay the same.
    """
    if col.type == "VARCHAR":
        return col.sql
    if col.type == "BIGINT":
        return f"CAST({col.sql} AS VARCHAR)"
    if col.type == "BOOLEAN":
        return f"CASE WHEN {col.sql} THEN 'True' WHEN NOT {col.sql} THEN 'False' END"
    raise NotCompiled(f"breakdown by a {col.type} field is not compiled")
