"""Sprint indicators as queries: sprint measures, sprint goal share, completed-sprint placement.

Each query returns the runner's rows (``scope, breakdown, period, period_start, period_end,
value, n, excluded``) plus ``flags`` (NULL members are dropped) and the evidence. A sprint
measure's flags are the sprint's provenance (``commitment_source``, ``approximate``,
``late_snapshot``, ``close_source``, indicators.md §4) and ``no_commitment`` when it reads C
or A of a sprint without a commitment: then it has no value, n 0 and no evidence. A sprint
period is ``sprint-<id>``, from the sprint's start to its complete, and exists for every
closed sprint of the scope's boards, with or without data (with ``pending``, only the
sprints some scope still reports).
"""

# ruff: noqa: S608 - identifiers are fixed here; values are bound parameters
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from fiveo_sync.engine import stats
from fiveo_sync.engine.measures import NO_MINIMUM_KINDS
from fiveo_sync.sqlengine.aggregates import Aggregate, evidence_sql
from fiveo_sync.sqlengine.fields import Bindings, Column, rows_sql
from fiveo_sync.sqlengine.periods import PeriodSql
from fiveo_sync.sqlengine.predicates import is_empty_sql
from fiveo_sync.sqlengine.sprint_sets import (
    board_map_cte,
    closed_sprints_cte,
    set_sql,
    sprint_set_ctes,
    value_sql,
)

Pending = tuple[Collection[tuple[str, str]], datetime] | None

_SPRINT_PERIOD = "'sprint-' || CAST(c.id AS VARCHAR)"
_SCOPED = "sp_closed c JOIN sp_boards m ON m.board = c.board"


def _flags(no_commitment: str) -> str:
    """The flags struct of one sprint (``late_snapshot``/``no_commitment`` only when set)."""
    return ("{'commitment_source': f.commitment_source, 'approximate': "
            "(coalesce(f.commitment_source = 'changelog', FALSE) OR f.late OR "
            "f.close_source = 'changelog'), 'late_snapshot': CASE WHEN f.late THEN TRUE END, "
            f"'close_source': f.close_source, 'no_commitment': CASE WHEN {no_commitment} "
            "THEN TRUE END}")


def sprint_aggregate(kind: str) -> Aggregate:
    """What the runner needs of a sprint measure: its minimum sample (cells come whole)."""
    low = 0 if kind in NO_MINIMUM_KINDS else stats.MIN_SAMPLE
    return Aggregate("NULL", "0", "0", (None, 0, 0), low)


def sprint_measure_sql(measure: Any, scopes: list[Any], params: dict[str, Any],
                       now: datetime, b: Bindings, pending: Pending = None) -> str:
    """``sprint_sum`` or ``sprint_ratio`` per (scope, closed sprint of its boards).

    ``pending``: ``(done, horizon)``, to leave out the sprints every scope of their board
    has a final result for (``sprint_sets.closed_sprints_cte``).
    """
    if measure.kind == "sprint_sum":
        aggregates = [measure.of]
    else:
        aggregates = [measure.numerator, measure.denominator]
    names = [n for agg in aggregates for n in agg.sets]
    if measure.kind == "sprint_ratio":
        names.append(measure.n_set)
    # Measures over C or A have no data without an accepted commitment source.
    no_commitment = ("f.commitment_source IS NULL"
                     if any(n in ("C", "A") for n in names) else "FALSE")
    sums = [f"coalesce(fsum({value_sql(agg.value)}) FILTER (WHERE {set_sql(agg.sets)}), "
            f"0.0)" for agg in aggregates]
    if measure.kind == "sprint_sum":
        size = f"count(*) FILTER (WHERE {set_sql(measure.of.sets)})"
        totals = f"{sums[0]} AS top, {size} AS size"
        value, n = "coalesce(a.top, 0.0)", "coalesce(a.size, 0)"
    else:
        size = f"count(*) FILTER (WHERE {set_sql([measure.n_set])})"
        totals = f"{sums[0]} AS top, {sums[1]} AS bottom, {size} AS size"
        n = "coalesce(a.size, 0)"
        value = (f"CASE WHEN {n} > 0 AND coalesce(a.bottom, 0.0) <> 0 THEN "
                 "100.0 * a.top / a.bottom END")
    # Evidence: the keys of every set the measure reads; none without a commitment.
    evidence = evidence_sql("key", " OR ".join(set_sql([n]) for n in sorted(set(names))))
    ctes = [board_map_cte(b, scopes), closed_sprints_cte(b, now, pending),
            *sprint_set_ctes(b, params),
            f"sp_totals AS (SELECT sprint, {totals}, {evidence} FROM sp_items "
            "GROUP BY sprint)"]
    return (f"WITH {', '.join(ctes)}\nSELECT m.scope_id, 'all', {_SPRINT_PERIOD}, c.start, "
            f"c.complete, CASE WHEN {no_commitment} THEN NULL ELSE {value} END, "
            f"CASE WHEN {no_commitment} THEN 0 ELSE {n} END, 0, {_flags(no_commitment)}, "
            f"CASE WHEN {no_commitment} THEN NULL ELSE a.ev_ids END, "
            f"CASE WHEN {no_commitment} THEN 0 ELSE coalesce(a.ev_n, 0) END "
            f"FROM {_SCOPED} JOIN sp_flags f ON f.sprint = c.id "
            f"LEFT JOIN sp_totals a ON a.sprint = c.id")


def goal_share_sql(last: int, scopes: list[Any], now: datetime, b: Bindings,
                   period: PeriodSql, window: tuple[tuple[str, datetime, datetime], ...]
                   ) -> str:
    """``sprint_goal_share``: the share with a goal of the last ``last`` closed sprints.

    Per period, of the scope's sprints completed before its end. The periods are those a
    sprint completed in (``period`` places ``stamp``, the sprint's complete) and the
    restatement window's.
    """
    periods = rows_sql(b, [("period_id", "VARCHAR"), ("period_start", "TIMESTAMPTZ"),
                           ("period_end", "TIMESTAMPTZ")], list(window))
    scope_ids = rows_sql(b, [("scope_id", "VARCHAR")], [(s.id,) for s in scopes])
    has_goal = f"NOT {is_empty_sql(Column('goal', 'VARCHAR'), b)}"
    ctes = [
        closed_sprints_cte(b, now), board_map_cte(b, scopes),
        f"gs_sprints AS (SELECT m.scope_id, c.id, c.complete, c.goal FROM {_SCOPED})",
        f"gs_periods AS (SELECT DISTINCT scope_id, {period.id} AS period_id, {period.start} "
        f"AS period_start, {period.end} AS period_end FROM (SELECT scope_id, complete AS "
        f"stamp FROM gs_sprints) UNION SELECT s.scope_id, w.period_id, w.period_start, "
        f"w.period_end FROM ({scope_ids}) s, ({periods}) w)",
        "gs_ranked AS (SELECT p.*, g.id, g.goal, row_number() OVER (PARTITION BY p.scope_id, "
        "p.period_id ORDER BY g.complete DESC, g.id DESC) AS rn FROM gs_periods p LEFT JOIN "
        "gs_sprints g ON g.scope_id = p.scope_id AND g.complete < p.period_end)",
    ]
    considered = f"count(id) FILTER (WHERE rn <= {int(last)})"
    with_goal = f"count(id) FILTER (WHERE rn <= {int(last)} AND {has_goal})"
    return (f"WITH {', '.join(ctes)}\nSELECT scope_id, 'all', period_id, any_value("
            f"period_start), any_value(period_end), CASE WHEN {considered} = 0 THEN NULL "
            f"ELSE 100.0 * {with_goal} / {considered} END, {considered}, 0, "
            "CAST(NULL AS MAP(VARCHAR, VARCHAR)), NULL, 0 FROM gs_ranked "
            "GROUP BY scope_id, period_id")


def completed_sprints_sql(ctes: list[str], units: str, aggregate: Aggregate,
                          scopes: list[Any], params: dict[str, Any], now: datetime,
                          b: Bindings, pending: Pending = None) -> str:
    """Records placed in every closed sprint whose D holds one of their Jira keys.

    ``units`` carries ``uid`` (the record's row) and ``keys`` (its ``jira_keys``); D comes
    from every closed sprint (all boards), keys only of stored work items; a record is
    placed once per sprint. Sprints of the scope's boards without records are rows with
    ``n`` NULL: the runner reports them with the measure's empty outcome. ``pending`` as
    for :func:`sprint_measure_sql` (a record is only placed in its own scope's sprints).
    """
    ctes = [*ctes, board_map_cte(b, scopes), closed_sprints_cte(b, now, pending),
            *sprint_set_ctes(b, params),
            f"units AS ({units})",
            "cs_done AS (SELECT DISTINCT key, sprint FROM sp_items WHERE in_d AND key IN "
            "(SELECT key FROM \"work_items\"))",
            "cs_placed AS (SELECT DISTINCT u.uid, d.sprint FROM (SELECT uid, unnest(keys) AS "
            "k FROM units) u JOIN cs_done d ON d.key = u.k)",
            f"placed AS (SELECT units.*, {_SPRINT_PERIOD} AS period_id, c.start AS "
            "period_start, c.complete AS period_end FROM units JOIN cs_placed p ON p.uid = "
            "units.uid JOIN sp_closed c ON c.id = p.sprint JOIN sp_boards m ON m.board = "
            "c.board AND m.scope_id = units.scope_id)"]
    return (f"WITH {', '.join(ctes)}\nSELECT scope_id, 'all', period_id, "
            f"any_value(period_start), any_value(period_end), {aggregate.value}, "
            f"{aggregate.n}, {aggregate.excluded}, NULL, {evidence_sql()} FROM placed "
            f"GROUP BY scope_id, period_id\n"
            f"UNION ALL\nSELECT m.scope_id, 'all', {_SPRINT_PERIOD}, c.start, c.complete, "
            f"NULL, NULL, NULL, NULL, NULL, 0 FROM {_SCOPED}")
