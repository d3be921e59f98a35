"""One indicator → one DuckDB query over the canonical tables (pure: no I/O, no clock).

The query measures one indicator over every scope of its view: select the records of each
scope (a ``scope_map`` of (scope, service | support group | project) rows joined on the
record's column), apply the filters, place each unit in the month, ISO week or quarter of
its timestamp in the reporting time zone (future timestamps dropped; snapshots: the current
period; indicators.md §2.2), and aggregate per (scope, period) and per (scope, breakdown
value, period). Related records (``related_share``, ``linked_duration``) are searched over
ALL scopes, whatever the unit's scope: a change in one service can break another (§2.4).

The query returns only cells that hold units; :class:`CompiledIndicator` carries what the
runner needs to add the cells reported even when empty (the restatement window's periods,
configured breakdown values) and their empty outcome.
"""

# ruff: noqa: S608 - identifiers come from the canonical schema; values are bound parameters
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fiveo_sync.canonical.id_traits import EVIDENCE_IDS
from fiveo_sync.canonical.schema import PREVIOUS
from fiveo_sync.engine.measures import INTERVAL_KINDS
from fiveo_sync.engine.periods import period_of
from fiveo_sync.engine.placement import window_periods
from fiveo_sync.engine.scope import Scope
from fiveo_sync.errors import ConfigError
from fiveo_sync.sqlengine.aggregates import (
    Aggregate,
    aggregate_of,
    distinct_sql,
    duration_sql,
    evidence_sql,
    label_sql,
    sum_sql,
    value_sql,
)
from fiveo_sync.sqlengine.fields import (
    HELD_CELLS,
    LEDGER_TABLE,
    Bindings,
    Column,
    NotCompiled,
    RecordFields,
    rows_sql,
    staged,
)
from fiveo_sync.sqlengine.flow import (
    FLOW_AGGREGATE,
    FLOW_OFF,
    flow_columns,
    flow_ctes,
    repeat_count_hit_sql,
    repeat_hit_sql,
    repeat_window,
    repeated_by,
)
from fiveo_sync.sqlengine.intervals import GRID, interval_aggregate, interval_sql, placed_sql
from fiveo_sync.sqlengine.periods import period_sql
from fiveo_sync.sqlengine.predicates import filters_sql
from fiveo_sync.sqlengine.scopes import scope_maps
from fiveo_sync.sqlengine.sprints import (
    completed_sprints_sql,
    goal_share_sql,
    sprint_aggregate,
    sprint_measure_sql,
)

_SPRINT_MEASURES = frozenset({"sprint_sum", "sprint_ratio"})
_MEASURED = ("v", "w", "hit", "label")  # unit columns of the measure, not of placement


def id_column(table: str) -> str:
    """The column of a canonical table whose values a cell lists as its evidence."""
    return EVIDENCE_IDS.get(table, "id")


EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
"""The ``$since`` of a query that reads every placed row."""


@dataclass(frozen=True)
class Prefilter:
    """How a query can skip the rows placed before a bound (``$since``).

    Attributes:
        tables: the tables whose rows decide which (scope, period) cells hold units: the
            record's and the tables joined for its fields (an SLA's incident).
        changed_sql: per scope, the earliest start of the cells the changed rows of the
            record's table (and the SLAs of changed incidents) are placed in and the query
            computes (held final cells left out): the same query up to the placement, over
            the rows the runner staged (``fields.staged``: ``now``). Empty for a table
            whose versions are not kept (derived again whole, never row by row).
        changed_parameters: its parameters.
        previous_sql: the scopes those rows are or WERE placed in: the same over the rows
            and their replaced versions (``fields.staged``: ``was``); for repeat shares
            also the scopes of the incidents whose repeat those rows may decide
            (``flow.repeated_by``).
        related: the tables read for other records' outcomes (``related_share``): a change
            there may move any unit's outcome.
        previous_parameters: the parameters of ``previous_sql``.
    """

    tables: tuple[str, ...]
    changed_sql: str
    changed_parameters: dict[str, Any]
    previous_sql: str = ""
    related: frozenset[str] = frozenset()
    previous_parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReuseCheck:
    """What besides its inputs decides whether a query's last results are still its results.

    Attributes:
        crossing_sql: the scopes of the units stamped after ``$last_now`` and not after
            ``$now``: rows an earlier clock left out as future and this one places. Empty
            for snapshots, where the clock only picks the period.
        parameters: its parameters but ``last_now``.
    """

    crossing_sql: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledIndicator:
    """The query of one indicator and what the runner needs around it.

    Attributes:
        indicator: the indicator id.
        sql: the query; rows are ``scope, breakdown, period, period_start, period_end,
            value, n, excluded``.
        parameters: its named parameters.
        scope_ids: every scope of the indicator's view (cells exist even without records).
        periods: ``(id, start, end)`` of the periods reported even when empty (the
            restatement window; snapshots: the current period).
        breakdown_prefix: ``"<field>="`` of breakdown labels (None without a breakdown).
        breakdown_values: configured breakdown values (reported even when empty), or None.
        aggregate: the measure's aggregate (its ``empty`` outcome and ``min_sample``).
        evidence_kind: the canonical kind of the ids in the evidence columns.
        prefilter: set when the query places records by their own timestamp and takes a
            ``$since`` (default :data:`EARLIEST`): rows stamped before it are skipped.
        reads: the quoted identifiers of the query: every canonical table it reads (a
            result depends on no others), and some column names.
        reuse: set when the results depend on the clock only through the window's periods
            and (:class:`ReuseCheck`) the units it places; None when they follow the
            clock otherwise (ages to ``now``, closed sprints) or place records by another
            record's stamp (linked durations, sprint goals).
        id_tables: the tables whose ids, when each is held once (``unique_ids`` of
            :func:`compile_indicator`), leave no id twice in a cell: the query then lists
            evidence without ``DISTINCT``; and when none holds the separator
            (``plain_ids``), as one text. Empty when units can repeat a record (linked
            pairs, sprints).
        distinct_evidence: whether this query lists evidence with ``DISTINCT``.
        text_evidence: whether it gives each cell's ids as one text (``EVIDENCE_SEPARATOR``).
    """

    indicator: str
    sql: str
    parameters: dict[str, Any]
    scope_ids: tuple[str, ...]
    periods: tuple[tuple[str, datetime, datetime], ...]
    breakdown_prefix: str | None
    breakdown_values: tuple[str, ...] | None
    aggregate: Aggregate
    evidence_kind: str = ""
    prefilter: Prefilter | None = None
    reads: frozenset[str] = frozenset()
    reuse: ReuseCheck | None = None
    id_tables: tuple[str, ...] = ()
    distinct_evidence: bool = True
    text_evidence: bool = False


def compile_indicator(spec: Any, params: dict[str, Any], scopes: list[Scope],
                      now: datetime, done: Collection[tuple[str, str]] = (),
                      unique_ids: Collection[str] = (),
                      plain_ids: Collection[str] = ()) -> CompiledIndicator:
    """Compile one indicator for the scopes of its view at ``now``.

    Args:
        spec: the ``IndicatorSpec``.
        params: its effective parameters (``BoundIndicator.params``).
        scopes: the scopes of its view (``build_scopes(portfolio)[spec.view]``).
        now: the run clock, aware UTC.
        done: ``(scope id, period id)`` of the final periods the history already holds.
            Month, week and quarter cells of those periods outside the restatement window
            are not computed again (``engine.placement.choose``), so a run with history
            aggregates only the window and the periods computed for the first time.
        unique_ids: canonical tables whose evidence id (``id``; work items: ``key``) no
            two rows share, as the runner found them (:attr:`CompiledIndicator.id_tables`).
        plain_ids: canonical tables none of whose evidence ids holds the separator.

    Raises:
        NotCompiled: for what the compiler does not translate, with the reason.
        ConfigError: when the reporting time zone is not a known zone name.
    """
    try:
        return _Compiler(spec, params, scopes, now, done, unique_ids, plain_ids).build()
    except NotCompiled as exc:
        raise NotCompiled(exc.reason, spec.id) from None


class _Compiler:
    def __init__(self, spec: Any, params: dict[str, Any], scopes: list[Scope],
                 now: datetime, done: Collection[tuple[str, str]] = (),
                 unique_ids: Collection[str] = (), plain_ids: Collection[str] = ()) -> None:
        self.spec, self.params, self.scopes, self.now = spec, params, scopes, now
        self.done, self.unique_ids = done, frozenset(unique_ids)
        self.plain_ids = frozenset(plain_ids)
        self.id_tables: tuple[str, ...] = ()
        self.own_stamp: str | None = None  # the record's placement timestamp column
        self.changed_sql: str | None = None
        self.previous_sql = ""  # see Prefilter.previous_sql
        self.related_tables: set[str] = set()  # read for other records' outcomes
        # Set by record queries (not sprints, linked durations): see ReuseCheck.
        self.crossing_sql: str | None = None
        self.tz_name = params.get("reporting_timezone") or "UTC"
        try:
            ZoneInfo(self.tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("reporting_timezone is not a known time zone",
                              indicator=spec.id, reporting_timezone=self.tz_name) from None
        self.b = Bindings()
        self.as_of = now.replace(minute=0, second=0, microsecond=0)
        self.r = RecordFields(spec.source, "r", self.b, self.as_of)
        self.ctes: list[str] = []
        self.scope_map_ctes: list[tuple[str, str]] | None = None

    def param(self, name: str) -> Any:
        return self.params.get(name)

    def build(self) -> CompiledIndicator:
        spec, measure = self.spec, self.spec.measure
        self._check_supported()
        tz = self.b.named("tz", self.tz_name)
        if measure.kind in _SPRINT_MEASURES or measure.kind == "sprint_goal_share":
            return self._sprint_query(measure, tz)
        # linked_duration is its statistic over pairs (same minimum sample as median/mean).
        kind = measure.stat if measure.kind == "linked_duration" else measure.kind
        if kind in ("repeat_share", "flow_efficiency"):
            aggregate = aggregate_of("ratio")
        elif kind in INTERVAL_KINDS:
            aggregate = interval_aggregate(measure)
        else:
            aggregate = aggregate_of(kind, getattr(measure, "q", None))
        columns = {"v": "NULL", "w": "NULL", "hit": "NULL",
                   "eid": self.r.column(id_column(self.r.table)).sql}
        extra_join = ""
        stamp: str | None = None
        if measure.kind == "linked_duration":
            extra_join, stamp, columns["v"] = self._linked_pairs(measure)
        elif measure.kind in ("mean", "median", "percentile"):
            columns["v"] = value_sql(measure.of, self.r)
        elif measure.kind == "sum":
            columns["v"] = sum_sql(self.r, measure.field)
        elif measure.kind == "distinct_count":
            columns["v"] = distinct_sql(self.r, measure.field, measure.as_date, tz)
        elif measure.kind == "ratio":
            columns["hit"] = filters_sql(measure.numerator, self.r, self.param, self.b)
        elif measure.kind == "related_share":
            columns["hit"] = self._related_hit(measure)
        elif measure.kind == "repeat_share":
            columns["hit"] = repeat_hit_sql(self.r, repeat_window(self.params), self.b)
        elif measure.kind == "repeat_count":
            columns["hit"] = self._repeat_count_hit(measure)
        elif measure.kind in INTERVAL_KINDS:  # v: where the interval ends (empty: open)
            columns["v"] = self._timestamp(spec.period.until, self.r).sql
        elif measure.kind == "flow_efficiency":
            waits = list(self.param("wait_statuses") or ())
            aggregate = FLOW_AGGREGATE if waits else FLOW_OFF
            self.ctes.extend(flow_ctes(waits, self.b))
            extra_join, columns["v"], columns["w"] = flow_columns(self.r)
        by_sprint = spec.period.placement == "completed_sprints"
        if by_sprint:
            keys = self.r.column("jira_keys")  # refuses sources without Jira keys
            columns.update(uid=f"{self.r.alias}.rowid", keys=keys.sql)
        elif stamp is None and not spec.snapshot:
            stamp = self.own_stamp = self._timestamp(spec.period.timestamp, self.r).sql
        prefix = values = None
        columns["label"] = "NULL"
        if spec.breakdown is not None and not by_sprint:  # sprint cells are "all" only
            columns["label"] = label_sql(self.r.column(spec.breakdown.field))
            prefix = spec.breakdown.field.rsplit(".", 1)[-1] + "="
            if spec.breakdown.values is not None:
                values = tuple(str(v) for v in spec.breakdown.values)
        columns["stamp"] = stamp or "NULL"
        where = filters_sql(spec.filters, self.r, self.param, self.b)
        units = self._units(columns, where, extra_join)
        # A unit per record and scope (scope keys are sets), but linked pairs and sprints.
        if measure.kind != "linked_duration" and not by_sprint:
            self.id_tables = (self.r.table, "incidents") if self.r.task_join else \
                (self.r.table,)
        if by_sprint:
            sql = completed_sprints_sql(self.ctes, units, aggregate, self.scopes,
                                        self.params, self.now, self.b, self._pending())
            return self._compiled(sql, aggregate, ())
        if spec.period.placement == "overlap":
            sql = self._intervals(units, tz, prefix, values)
        else:
            sql = self._query(units, tz, aggregate, prefix, values)
        # The ledger is staged whole every run, with no change log to tell what changed:
        # its few items are read whole (no prefilter) and computed again (no reuse).
        if self.own_stamp is not None and self.r.table != LEDGER_TABLE:
            self._change_checks(units, columns, where, stamp, measure.kind)
        return self._compiled(sql, aggregate, self._periods(), prefix, values)

    def _change_checks(self, units: str, columns: dict[str, str], where: str, stamp: str,
                       kind: str) -> None:
        """The changed-rows, previous-rows and crossing queries (see ``Prefilter``).

        They read which rows are units and where they are placed, without the measure (a
        repeat or flow join costs 0.2-0.3 s per check at 1M records; the flow join is a
        LEFT JOIN: no row more or less), over the query's own ``WITH`` clause.
        """
        light = {**columns, **dict.fromkeys(_MEASURED, "NULL")}
        self.changed_sql = ""  # a table without kept versions changes only whole
        if self.r.table in PREVIOUS:  # the same over the changed rows, staged
            now = self._units(light, where, "", "now")
            self.changed_sql = (f"{self._head(units, now)}SELECT scope_id, "
                                "min(period_start) FROM placed GROUP BY scope_id")
            before = self._units(light, where, "", "was")
            if kind == "repeat_share":  # and the repeats they may decide
                repeats = repeated_by(staged("incidents", "was"), repeat_window(self.params),
                                      self.b)
                before += "\nUNION ALL\n" + self._units(light, where, "", rows=repeats)
            self.previous_sql = (f"{self._head(units, before)}SELECT DISTINCT scope_id "
                                 "FROM placed")
        self.crossing_sql = self._crossing(units, light, where, stamp)

    def _crossing(self, units: str, light: dict[str, str], where: str, stamp: str) -> str:
        """The scopes of the units stamped after ``$last_now`` and not after ``$now``.

        The stamp range selects the record's rows first, and an SLA's incidents are only
        those rows' (a join over every incident, built for the check, cost ~85 ms at 1M).
        """
        prefix = f'{self.r.alias}."'
        if not stamp.startswith(prefix):  # a joined record's stamp: filter the units
            return (f"{self._head(units, self._units(light, where, ''))}SELECT DISTINCT "
                    "scope_id FROM units WHERE stamp > $last_now AND stamp <= $now")
        column = stamp[len(prefix) - 1:]
        rows = (f'(SELECT * FROM "{self.r.table}" WHERE {column} > $last_now AND '
                f"{column} <= $now)")
        # A list, not IN (subquery): as a join DuckDB matched every incident to its scope
        # first (1M rows) and only then the few SLAs.
        incidents = (f'(SELECT * FROM "incidents" WHERE list_contains((SELECT '
                     f"coalesce(list(task), []) FROM {rows}), id))") if self.r.task_join else None
        crossing = self._units(light, where, "", rows=rows, incidents=incidents)
        return f"{self._head(units, crossing)}SELECT DISTINCT scope_id FROM units"

    def _compiled(self, sql: str, aggregate: Aggregate,
                  periods: tuple[tuple[str, datetime, datetime], ...],
                  prefix: str | None = None,
                  values: tuple[str, ...] | None = None) -> CompiledIndicator:
        # Only the parameters the query names: DuckDB rejects unused ones ($tz of sprints).
        used = self._named_in(sql)
        kind = "work_item" if self.spec.measure.kind in _SPRINT_MEASURES else self.spec.source
        return CompiledIndicator(self.spec.id, sql, used,
                                 tuple(s.id for s in self.scopes), periods, prefix, values,
                                 aggregate, kind, self._prefilter(used),
                                 frozenset(re.findall(r'"(\w+)"', sql)), self._reuse(used),
                                 self.id_tables, self._distinct_evidence(),
                                 self._text_evidence())

    def _distinct_evidence(self) -> bool:
        return not self.id_tables or not self.unique_ids.issuperset(self.id_tables)

    def _text_evidence(self) -> bool:
        return bool(self.id_tables) and self.plain_ids.issuperset(self.id_tables)

    def _reuse(self, used: dict[str, Any]) -> ReuseCheck | None:
        if self.crossing_sql is None or "as_of" in used:
            return None
        return ReuseCheck(self.crossing_sql, self._named_in(self.crossing_sql))

    def _prefilter(self, used: dict[str, Any]) -> Prefilter | None:
        # A filter on ``now`` lets an unchanged row become a unit later: no prefilter.
        if self.changed_sql is None or "since" not in used or "as_of" in used:
            return None
        tables = (self.r.table, "incidents") if self.r.task_join else (self.r.table,)
        return Prefilter(tables, self.changed_sql, self._named_in(self.changed_sql),
                         self.previous_sql, frozenset(self.related_tables),
                         self._named_in(self.previous_sql))

    def _named_in(self, sql: str) -> dict[str, Any]:
        """The bound parameters a query names (DuckDB rejects the others)."""
        return {k: v for k, v in self.b.values.items() if re.search(rf"\${k}\b", sql)}

    def _sprint_query(self, measure: Any, tz: str) -> CompiledIndicator:
        if measure.kind in _SPRINT_MEASURES:
            sql = sprint_measure_sql(measure, self.scopes, self.params, self.now, self.b,
                                     self._pending())
            return self._compiled(sql, sprint_aggregate(measure.kind), ())
        window = self._periods()
        period = period_sql(self.spec.period.kind, "stamp", tz)
        sql = goal_share_sql(measure.last, self.scopes, self.now, self.b, period, window)
        return self._compiled(sql, aggregate_of("ratio"), window)

    def _check_supported(self) -> None:
        spec, kind = self.spec, self.spec.measure.kind
        if spec.is_derived:
            raise NotCompiled("derived indicators are computed from other indicators' results")
        if spec.period.placement == "overlap" and kind not in INTERVAL_KINDS:
            raise NotCompiled(f"placement overlap places intervals: it takes the measures "
                              f"{', '.join(sorted(INTERVAL_KINDS))}, not {kind}")
        if spec.period.placement == "overlap" and spec.snapshot:
            raise NotCompiled("placement overlap is not compiled for snapshots")
        sprint_period = spec.period.kind == "sprint"
        if kind in _SPRINT_MEASURES:
            if not sprint_period or spec.snapshot:
                raise NotCompiled(f"{kind} outside closed-sprint periods is not compiled")
            return
        if sprint_period != (spec.period.placement == "completed_sprints") or (
                sprint_period and (spec.snapshot or kind == "linked_duration")):
            raise NotCompiled("sprint periods other than completed_sprints placement of "
                              "records are not compiled")
        if kind == "sprint_goal_share" and spec.snapshot:
            raise NotCompiled("a snapshot sprint_goal_share is not compiled")
        if not sprint_period:
            period_sql(spec.period.kind, "NULL", "NULL")  # refuses other period kinds early
        if kind != "sprint_goal_share":
            _ = self.r.table  # refuses sources without a table

    def _timestamp(self, name: str, fields: RecordFields) -> Column:
        col = fields.column(name)
        if col.type != "TIMESTAMPTZ":
            raise NotCompiled(f"period timestamp {name} is not a date-time column")
        return col

    # -- scopes and units ------------------------------------------------------------------

    def _units(self, columns: dict[str, str], where: str, extra_join: str,
               changed: str | None = None, rows: str | None = None,
               incidents: str | None = None) -> str:
        """One unit per record and scope.

        Of the staged changed rows only with ``changed``; else of ``rows`` (default: the
        record's table) with an SLA's incident from ``incidents`` (default: all).
        """
        if changed is not None:
            rows, incidents = staged(self.r.table, changed), staged("task_incidents", changed)
        rows, incidents = rows or f'"{self.r.table}"', incidents or '"incidents"'
        selects = []
        for name, key_sql in self._scope_maps():
            picked = ", ".join(f"{sql} AS {alias}" for alias, sql in columns.items())
            selects.append(
                f"SELECT m.scope_id, {picked} FROM {rows} r{self.r.joins(incidents)}"
                f"{extra_join} JOIN {name} m ON m.scope_key = {key_sql} WHERE {where}")
        return "\nUNION ALL\n".join(selects)

    def _scope_maps(self) -> list[tuple[str, str]]:
        """``(CTE name, record key column)`` of each scope map, the CTEs added once."""
        if self.scope_map_ctes is None:
            self.scope_map_ctes = []
            for number, (key, rows) in enumerate(scope_maps(self.spec, self.scopes)):
                name = f"scope_map_{number}"
                mapped = rows_sql(self.b, [("scope_id", "VARCHAR"),
                                           ("scope_key", "VARCHAR")], rows)
                self.ctes.append(f"{name} AS ({mapped})")
                self.scope_map_ctes.append((name, self.r.column(key).sql))
        return self.scope_map_ctes

    # -- relations --------------------------------------------------------------------------

    def _related_keys(self, rel: Any, x: RecordFields,
                      extra: dict[str, str]) -> tuple[str, Column]:
        """A CTE of ``k`` (the related field's members) and ``extra`` columns per record.

        Every record of ``rel.source`` passing ``rel.filters``, in any scope; a list field
        gives one row per member. NULL and ``''`` members are no keys, so a unit whose key
        is NULL or ``''`` relates to nothing (text of blanks is a key like any other).
        """
        field = x.column(rel.field)
        member = f"unnest({field.sql})" if field.is_list else field.sql
        element = field.type[:-2] if field.is_list else field.type
        kept = filters_sql(rel.filters, x, self.param, self.b)
        picked = "".join(f", {sql} AS {name}" for name, sql in extra.items())
        self.related_tables.add(x.table)
        inner = f'SELECT {member} AS k{picked} FROM "{x.table}" {x.alias}{x.joins()} WHERE {kept}'
        blank = " AND k <> ''" if element == "VARCHAR" else ""  # NULL and '' are no keys
        name = f"rel_{len(self.ctes)}"
        self.ctes.append(f"{name} AS (SELECT * FROM ({inner}) WHERE k IS NOT NULL{blank})")
        return name, Column("k", element)

    def _related_hit(self, measure: Any) -> str:
        counted = filters_sql(measure.numerator, self.r, self.param, self.b)
        related = []
        for rel in measure.related:
            key = self.r.column(rel.key)
            x = RecordFields(rel.source, f"x{len(self.ctes)}", self.b, self.as_of)
            name, k = self._related_keys(rel, x, {})
            element = key.type[:-2] if key.is_list else key.type
            if element != k.type:
                raise NotCompiled(f"related key {rel.key} ({key.type}) and field "
                                  f"{rel.field} ({k.type}) have different types")
            if key.is_list:
                related.append(f"coalesce(list_has_any({key.sql}, "
                               f"(SELECT list(k) FROM {name})), FALSE)")
            else:
                related.append(f"coalesce({key.sql} IN (SELECT k FROM {name}), FALSE)")
        return f"({counted} AND ({' OR '.join(related)}))"

    def _repeat_count_hit(self, measure: Any) -> str:
        """The unit's repeat; every record of the table may decide one in any scope."""
        o = RecordFields(self.spec.source, "o", self.b, self.as_of)
        kept = filters_sql(self.spec.filters, o, self.param, self.b)
        self.related_tables.add(o.table)
        return repeat_count_hit_sql(self.r, o, measure.same, self.spec.period.timestamp,
                                    kept, repeat_window(self.params), self.b)

    def _linked_pairs(self, measure: Any) -> tuple[str, str, str]:
        """``(join, stamp, v)`` of (change, incident) pairs placed by the related record."""
        rel = measure.related
        x = RecordFields(rel.source, "x", self.b, self.as_of)
        end = x.column(measure.end)
        stamp = self._timestamp(self.spec.period.timestamp, x)
        name, k = self._related_keys(rel, x, {"rel_end": end.sql, "rel_stamp": stamp.sql})
        key = self.r.column(rel.key)
        if key.is_list or key.type != k.type:
            raise NotCompiled(f"linked_duration key {rel.key} ({key.type}) does not match "
                              f"{rel.field} ({k.type})")
        v = duration_sql(self.r.column(measure.start), Column("p.rel_end", end.type),
                         measure.unit)
        return f" JOIN {name} p ON p.k = {key.sql}", "p.rel_stamp", v

    # -- periods and cells ------------------------------------------------------------------

    def _query(self, units: str, tz: str, aggregate: Aggregate, prefix: str | None,
               values: tuple[str, ...] | None) -> str:
        now = self.b.named("now", self.now)
        if self.spec.snapshot:
            period, placed_where = period_sql(self.spec.period.kind, now, tz), ""
            self.crossing_sql = ""
        else:
            period = period_sql(self.spec.period.kind, "stamp", tz)
            placed_where = f" WHERE stamp IS NOT NULL AND stamp <= {now}"
            if self.own_stamp is not None:
                placed_where += f" AND stamp >= {self.b.named('since', EARLIEST)}"
        self.ctes.append(f"units AS ({units})")
        self.ctes.append(f"placed AS (SELECT units.*, {period.id} AS period_id, "
                         f"{period.start} AS period_start, {period.end} AS period_end "
                         f"FROM units{placed_where})")
        if self.done and not self.spec.snapshot:
            self._skip_done()
        cells = (f"any_value(period_start), any_value(period_end), {aggregate.value} AS value, "
                 f"{aggregate.n} AS n, {aggregate.excluded} AS excluded, NULL AS flags, "
                 f"{evidence_sql(distinct=self._distinct_evidence(), text=self._text_evidence())} "
                 "FROM placed")
        sql = (f"WITH {', '.join(self.ctes)}\nSELECT scope_id, 'all' AS breakdown, period_id, "
               f"{cells} GROUP BY scope_id, period_id")
        if prefix is not None:
            wanted = ""
            if values is not None:
                wanted = " AND list_contains(" + self.b.bind(list(values), "VARCHAR[]") + \
                    ", label)"
            sql += (f"\nUNION ALL\nSELECT scope_id, {self.b.bind(prefix)} || label, "
                    f"period_id, {cells} WHERE label IS NOT NULL{wanted} "
                    f"GROUP BY scope_id, label, period_id")
        return sql

    def _intervals(self, units: str, tz: str, prefix: str | None,
                   values: tuple[str, ...] | None) -> str:
        """The query of an interval measure (``intervals.py``), over every row every run.

        No prefilter and no reuse (``own_stamp`` unset): an open interval grows with the
        clock and one spanning months is placed in each, and outages are few.
        """
        self.own_stamp = None
        self.ctes.append(f"units AS ({units})")
        self.ctes.append(placed_sql(self.spec.period.kind, tz, self.b.named("now", self.now)))
        if self.done:
            self._skip_done()
        grid = rows_sql(self.b, GRID, [(s.id, *p) for s in self.scopes for p in self._periods()])
        labels = None
        if prefix is not None:
            wanted = None if values is None else self.b.bind(list(values), "VARCHAR[]")
            labels = (self.b.bind(prefix), wanted)
        evidence = evidence_sql(distinct=self._distinct_evidence(), text=self._text_evidence())
        return interval_sql(self.ctes, self.spec.measure.kind, grid,
                            self.b.named("as_of", self.as_of), labels, evidence)

    def _head(self, units: str, instead: str) -> str:
        """The query's ``WITH`` clause with ``instead`` for its units."""
        ctes = [f"units AS ({instead})" if c == f"units AS ({units})" else c for c in self.ctes]
        return f"WITH {', '.join(ctes)}\n"

    def _pending(self) -> tuple[Collection[tuple[str, str]], datetime] | None:
        """``(done, horizon)`` for sprint queries: sprints final before ``horizon``."""
        if not self.done:
            return None
        return self.done, self.now - timedelta(days=self.params["restatement_days"])

    def _skip_done(self) -> None:
        """Drop the units of final periods the history holds (``placed`` is redefined)."""
        window = self.b.bind([pid for pid, _, _ in self._periods()], "VARCHAR[]")
        self.ctes[-1] = self.ctes[-1].replace("placed AS", "all_placed AS", 1)
        self.ctes.append(f"done_cells AS ({rows_sql(self.b, HELD_CELLS, list(self.done))})")
        self.ctes.append(
            "placed AS (SELECT a.* FROM all_placed a WHERE list_contains("
            f"{window}, a.period_id) OR NOT EXISTS (SELECT 1 FROM done_cells d WHERE "
            "d.scope_id = a.scope_id AND d.period_id = a.period_id))")

    def _periods(self) -> tuple[tuple[str, datetime, datetime], ...]:
        kind = self.spec.period.kind
        if self.spec.snapshot:
            found = [period_of(kind, self.now, self.tz_name)]
        else:
            found = window_periods(kind, self.now, self.tz_name,
                                   self.params["restatement_days"])
        return tuple((p.id, p.start, p.end) for p in found)
