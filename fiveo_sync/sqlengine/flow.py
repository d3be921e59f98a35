"""Flow efficiency and repeat incidents as per-unit SQL columns (indicators.md §3.5).

``flow_efficiency`` walks each work item's status changes in history order: the time from
``started_at`` to ``done_at`` spent in the ``indeterminate`` category outside the wait
statuses. The state before the first change is that change's ``from`` category with no
known status name (so never a wait status); changes before ``started_at`` only set the
state, and the cursor never moves back (a change stamped before an earlier one adds no
time); an item without status changes counts whole when its current category is
``indeterminate``. A cell is the sum of active seconds over the sum of elapsed seconds of
its items, both exactly rounded (``math.fsum``), so the value does not depend on the items'
order; items without both dates, or done before started, are excluded.

``repeat_share`` asks, per incident, whether another non-canceled incident of the same
problem (without a problem: the same CI and category, a NULL category matching a NULL one)
opened strictly earlier and at most ``repeat_window_days`` before it, over ALL incidents
whatever their service. ``repeat_count`` asks the same of any record kind: whether another
record passing the indicator's filters, with the same non-empty ``same`` value, is stamped
strictly earlier and at most the window before it, over ALL scopes.
"""

# ruff: noqa: S608 - identifiers come from the canonical schema; values are bound parameters
from __future__ import annotations

from datetime import timedelta
from typing import Any

from fiveo_sync.engine import stats
from fiveo_sync.sqlengine.aggregates import Aggregate
from fiveo_sync.sqlengine.fields import Bindings, Column, NotCompiled, RecordFields
from fiveo_sync.sqlengine.predicates import is_empty_sql

_VALID = ("w.started_at IS NOT NULL AND w.done_at IS NOT NULL "
          "AND w.done_at >= w.started_at")


def _seconds(start: str, end: str) -> str:
    """Seconds from ``start`` to ``end``: whole microseconds ÷ 1e6 (``total_seconds()``)."""
    return f"CAST(epoch_us({end}) - epoch_us({start}) AS DOUBLE) / CAST(1000000 AS DOUBLE)"


def _working(category: str, status: str, wait: str) -> str:
    """Time in this state counts as active: in progress, and not a wait status."""
    return (f"({category} = 'indeterminate' AND ({status} IS NULL OR "
            f"NOT list_contains({wait}, {status})))")


def flow_ctes(waits: list[str], b: Bindings) -> list[str]:
    """``fe_active(key, active)``: active seconds of every work item with a status history."""
    wait = b.bind(sorted(waits), "VARCHAR[]")
    working = _working("cat", "status", wait)
    last_working = _working("to_category", "to_status_name", wait)
    return [
        # cur: the cursor after each change (never back, never past done_at).
        "fe_steps AS (SELECT w.key, w.started_at AS s0, w.done_at AS e0, c.seq, "
        "c.to_category, c.to_status_name, greatest(w.started_at, max(least(c.changed_at, "
        "w.done_at)) OVER (PARTITION BY w.key ORDER BY c.seq ROWS BETWEEN UNBOUNDED PRECEDING "
        "AND CURRENT ROW)) AS cur, row_number() OVER k AS rn, max(c.seq) OVER "
        "(PARTITION BY w.key) AS last_seq, lag(c.to_category) OVER k AS prev_cat, "
        "lag(c.to_status_name) OVER k AS prev_status, first_value(c.from_category) OVER k "
        "AS first_from FROM \"work_items\" w JOIN \"work_item_status_changes\" c ON "
        f"c.work_item = w.key WHERE {_VALID} WINDOW k AS (PARTITION BY w.key ORDER BY c.seq))",
        # Each segment ends at a change and is spent in the state the change before left.
        "fe_segments AS (SELECT key, seq, last_seq, cur, e0, to_category, to_status_name, "
        "CASE WHEN rn = 1 THEN s0 ELSE lag(cur) OVER (PARTITION BY key ORDER BY seq) END "
        "AS prev_cur, CASE WHEN rn = 1 THEN first_from ELSE prev_cat END AS cat, "
        "CASE WHEN rn = 1 THEN NULL ELSE prev_status END AS status FROM fe_steps)",
        # The item's active segments, summed by the runner with math.fsum (exact).
        f"fe_active AS (SELECT key, list(seconds) FILTER (WHERE seconds IS NOT NULL) AS "
        f"active FROM (SELECT key, CASE WHEN {working} AND cur > prev_cur THEN "
        f"{_seconds('prev_cur', 'cur')} END AS seconds FROM "
        f"fe_segments UNION ALL SELECT key, CASE WHEN cur < e0 AND {last_working} THEN "
        f"{_seconds('cur', 'e0')} END FROM fe_segments WHERE seq = last_seq) "
        f"GROUP BY key)",
    ]


def flow_columns(r: RecordFields) -> tuple[str, str, str]:
    """``(join, v, w)``: the unit's active seconds and elapsed seconds (NULL: excluded)."""
    a = r.alias
    valid = _VALID.replace("w.", f"{a}.")
    # Without a status history: the current category, no status name, all the way.
    alone = (f"CASE WHEN {a}.status_category = 'indeterminate' THEN "
             f"[{_seconds(f'{a}.started_at', f'{a}.done_at')}] ELSE CAST([] AS DOUBLE[]) END")
    v = f"CASE WHEN {valid} THEN coalesce(fe.active, {alone}) END"
    w = f"CASE WHEN {valid} THEN {_seconds(f'{a}.started_at', f'{a}.done_at')} END"
    return f" LEFT JOIN fe_active fe ON fe.key = {a}.key", v, w


FLOW_AGGREGATE = Aggregate(
    "list(struct_pack(a := v, e := w)) FILTER (WHERE w IS NOT NULL)",
    "count(w)", "count(*) - count(w)", (None, 0, 0), stats.MIN_SAMPLE, finish="flow")
"""Active over elapsed time of the cell's items, in %."""

FLOW_OFF = Aggregate("CAST(NULL AS DOUBLE)", "0", "0", (None, 0, 0), stats.MIN_SAMPLE,
                     (("off", "wait_statuses is empty"),))
"""Without wait statuses the measure is off: no value, no n (flag ``off``)."""


def repeat_hit_sql(r: RecordFields, window_days: int, b: Bindings) -> str:
    """Whether an incident repeats an earlier one (never NULL)."""
    if r.kind != "incident":
        raise NotCompiled("repeat_share reads incidents")
    window = b.bind(timedelta(days=window_days) // timedelta(microseconds=1))
    a = r.alias
    earlier = (f"SELECT 1 FROM \"incidents\" o WHERE o.state IS DISTINCT FROM 'canceled' "
               f"AND o.opened_at IS NOT NULL AND epoch_us(o.opened_at) < epoch_us({a}.opened_at) "
               f"AND epoch_us(o.opened_at) >= epoch_us({a}.opened_at) - {window}")
    return (f"(CASE WHEN {a}.opened_at IS NULL THEN FALSE "
            f"WHEN coalesce({a}.problem, '') <> '' THEN EXISTS ({earlier} AND "
            f"o.problem = {a}.problem) "
            f"WHEN coalesce({a}.ci, '') <> '' THEN EXISTS ({earlier} AND o.ci = {a}.ci AND "
            f"o.category IS NOT DISTINCT FROM {a}.category) ELSE FALSE END)")


def repeat_count_hit_sql(r: RecordFields, o: RecordFields, same: str, stamp: str,
                         kept: str, window_days: int, b: Bindings) -> str:
    """Whether a record repeats an earlier one with the same ``same`` value (never NULL).

    Args:
        r: the unit's record.
        o: the same kind under another alias, for the earlier records.
        same: the field whose value must repeat.
        stamp: the placement timestamp field.
        kept: the indicator's filters over ``o``: only records it counts repeat.
        window_days: ``repeat_window_days``.
        b: the query's parameters.
    """
    mine, theirs = r.column(same), o.column(same)
    if mine.is_list:
        raise NotCompiled(f"repeat_count of a list field ({same}) is not compiled")
    at, their_at = r.column(stamp).sql, o.column(stamp).sql
    window = b.bind(timedelta(days=window_days) // timedelta(microseconds=1))
    earlier = (f'SELECT 1 FROM "{o.table}" {o.alias}{o.joins()} WHERE {theirs.sql} = '
               f"{mine.sql} AND {their_at} IS NOT NULL AND epoch_us({their_at}) < "
               f"epoch_us({at}) AND epoch_us({their_at}) >= epoch_us({at}) - {window} "
               f"AND ({kept})")
    empty = is_empty_sql(Column(mine.sql, mine.type), b)
    return f"(CASE WHEN {empty} OR {at} IS NULL THEN FALSE ELSE EXISTS ({earlier}) END)"


def repeated_by(changed: str, window_days: int, b: Bindings) -> str:
    """The incidents whose repeat outcome a row of ``changed`` may decide.

    An incident repeats an earlier one with its problem (or, without a problem, its CI
    and category) opened within the window before it: the incidents opened within the
    window after a changed incident, sharing its problem or its CI and category (either
    version: ``changed`` holds both), are the ones it may have made or unmade repeats.
    """
    window = b.bind(timedelta(days=window_days) // timedelta(microseconds=1))
    after = (f"epoch_us(x.opened_at) < epoch_us(a.opened_at) AND "
             f"epoch_us(x.opened_at) >= epoch_us(a.opened_at) - {window}")
    return (f'(SELECT a.* FROM "incidents" a JOIN {changed} x ON a.problem = x.problem '
            f"WHERE coalesce(x.problem, '') <> '' AND {after} "
            f'UNION ALL SELECT a.* FROM "incidents" a JOIN {changed} x ON a.ci = x.ci '
            f"WHERE coalesce(x.ci, '') <> '' AND a.category IS NOT DISTINCT FROM x.category "
            f"AND {after})")


def repeat_window(params: dict[str, Any]) -> int:
    """``repeat_window_days`` in whole days (unset or 0: 90)."""
    return int(params.get("repeat_window_days") or 90)
