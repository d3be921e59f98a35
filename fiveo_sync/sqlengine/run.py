"""Execute compiled indicators on a DuckDB connection: the one module of the SQL engine with I/O.

The query of an indicator returns the cells holding units; the runner adds the cells
reported even without units (every scope × the restatement window's periods, and
configured breakdown values in every reported period), with the measure's empty outcome,
so every result :func:`fiveo_sync.engine.engine.compute` reports has its cell (it keeps
the window's periods and the final ones the history lacks). A row with ``n`` NULL only
names a cell to report empty (a closed sprint without records). After the value, n and
excluded come the outcome flags (sprint provenance, ``no_commitment``, ``no_failures``;
NULL for most record measures) and the evidence: the cell's record ids when there are at
most ``EVIDENCE_CAP``, and how many there are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from fiveo_sync.canonical.id_traits import measure as measure_id_traits
from fiveo_sync.canonical.passes import TABLES_OF
from fiveo_sync.canonical.schema import PREVIOUS
from fiveo_sync.engine.result import EVIDENCE_CAP
from fiveo_sync.engine.scope import build_scopes
from fiveo_sync.engine.spec import BoundIndicator
from fiveo_sync.errors import StateError
from fiveo_sync.sqlengine.aggregates import EVIDENCE_SEPARATOR, finish_value
from fiveo_sync.sqlengine.compiler import CompiledIndicator, compile_indicator
from fiveo_sync.sqlengine.fields import LEDGER_COLUMNS, LEDGER_TABLE, NotCompiled, staged


@dataclass(frozen=True)
class Cell:
    """One measured (indicator, scope, breakdown, period).

    Its ``value, n, excluded`` (§2.6), the status rule's minimum sample, flags and evidence.
    """

    indicator: str
    scope: str
    breakdown: str
    period: str
    period_start: datetime
    period_end: datetime
    value: float | None
    n: int
    excluded: int
    min_sample: int
    flags: dict[str, Any] = field(default_factory=dict, compare=False)
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """``(indicator, scope, breakdown, period)``."""
        return (self.indicator, self.scope, self.breakdown, self.period)


@dataclass
class SqlRun:
    """The cells of the compiled indicators, and the indicators the compiler refused.

    Attributes:
        cells: every cell of every compiled indicator.
        not_compiled: indicator id → why it was not compiled (it cannot be computed).
        read_since: indicator id → the stamp its query read from (the others read all).
        reused: indicator id → the last computation's results, given back by ``reuse``
            when :func:`touched_scopes` found none touched: its query was not run; or,
            for the indicators in ``touched``, the results of every scope but those.
        touched: indicator id → the scopes its query computed, the others' results
            reused (:func:`touched_scopes`).
        windows: indicator id → the restatement window's period ids, for every indicator
            whose results a later run may reuse (``CompiledIndicator.reuse``).
    """

    cells: list[Cell] = field(default_factory=list)
    not_compiled: dict[str, str] = field(default_factory=dict)
    read_since: dict[str, datetime] = field(default_factory=dict)
    reused: dict[str, list[Any]] = field(default_factory=dict)
    touched: dict[str, frozenset[str]] = field(default_factory=dict)
    windows: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SinceLast:
    """What changed since the last computation, so a query can skip the rows before it.

    Attributes:
        computed_at: that computation's clock.
        rows: per canonical table, the raw keys of the rows replaced or deleted since
            (``None``: the whole table was derived again); tables not named did not change.
        indicators: the indicators that computation computed with today's spec and
            parameters (the others are computed over every row).
        generation: the canonical file's generation it ran on: the changed rows' versions
            of the refreshes after it are kept (``canonical_previous_*``). None: unknown.
    """

    computed_at: datetime
    rows: Mapping[str, frozenset[str] | None]
    indicators: frozenset[str]
    generation: int | None = None


def since_bound(conn: duckdb.DuckDBPyConnection, compiled: CompiledIndicator,
                last: SinceLast | None, changes: ChangedRows | None = None) -> datetime | None:
    """The earliest placement stamp an indicator's query must still read, or None (all).

    A row placed before the bound lies before the restatement window and either is
    unchanged since the last computation and was a unit then (its stamp was past), so its
    cell was computed then and the history holds it, or changed into a final cell the
    history holds: the query drops held final cells in any case. The bound is the
    earliest of the window's start, the last clock, and the start of every cell a changed
    row (or an SLA whose incident changed) now falls in that the query still computes.
    Not used when the tables deciding the cells changed other than row by row, or the
    indicator is new or was edited.
    """
    prefilter = compiled.prefilter
    if last is None or prefilter is None or not compiled.periods or \
            compiled.indicator not in last.indicators:
        return None
    changed = (_kin(prefilter.tables[0]) | set(prefilter.tables[1:])) & last.rows.keys()
    if any(last.rows[table] is None for table in changed):
        return None
    bound = min(min(start for _, start, _ in compiled.periods), last.computed_at)
    if changed:
        placed = (changes or ChangedRows(conn, last)).placements(compiled)
        if placed is None:
            return None
        if placed:
            bound = min(bound, _utc(min(start for _, start in placed)))
    return bound


def stage_changed(conn: duckdb.DuckDBPyConnection, last: SinceLast) -> None:
    """Stage the rows changed since the last computation as temporary tables.

    Per table with kept versions (``canonical_previous_*``): ``now`` holds its changed rows
    as they are (for ``slas`` also the SLAs of changed incidents), ``was`` those and their
    versions the refreshes since replaced or deleted; ``task_incidents`` the incidents of
    those SLAs (``was``: with the changed incidents' versions). The changed-rows queries
    (``Prefilter``) read these few rows instead of scanning each table per indicator
    (a key lookup costs a scan of ~25 ms per million rows).
    """
    after = last.generation if last.generation is not None else 2**62
    was_incidents = staged("incidents", "was")
    for table, previous in PREVIOUS.items():
        keys = sorted(last.rows.get(table) or ())
        where = "raw_key IN (SELECT unnest(CAST($keys AS VARCHAR[])))" if keys else "FALSE"
        if table == "slas" and last.rows.get("incidents"):
            where = f"({where}) OR task IN (SELECT id FROM {was_incidents})"  # noqa: S608
        now = staged(table, "now")
        conn.execute(f'CREATE OR REPLACE TEMP TABLE {now} AS SELECT * FROM "{table}" '  # noqa: S608
                     f"WHERE {where}", {"keys": keys} if keys else {})
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {staged(table, 'was')} AS SELECT * FROM "  # noqa: S608
                     f'{now} UNION ALL SELECT * EXCLUDE (generation) FROM "{previous.name}" '
                     "WHERE generation > $after", {"after": after})
    for when in ("now", "was"):
        also = f" UNION ALL SELECT * FROM {was_incidents}" if when == "was" else ""  # noqa: S608
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {staged('task_incidents', when)} AS "  # noqa: S608
                     "SELECT * FROM incidents WHERE id IN (SELECT task FROM "
                     f"{staged('slas', when)}){also}")


def stage_improvements(conn: duckdb.DuckDBPyConnection, items: Iterable[Any]) -> None:
    """Stage the ledger's improvement items as the temporary table ``LEDGER_TABLE``.

    They live in the state store's meta, not in the canonical file; a run reads the items
    as they are now (``records_evidence.Improvement``: one row each, ``owner`` joined from
    its scope type and scope).
    """
    names = [name for name, _ in LEDGER_COLUMNS]
    columns = ", ".join(f"{name} {kind}" for name, kind in LEDGER_COLUMNS)
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{LEDGER_TABLE}" ({columns})')
    rows = [tuple(getattr(item, name) for name in names[:-1]) +
            (f"{item.scope_type}:{item.scope}",) for item in items]
    if rows:
        marks = ", ".join("?" for _ in names)
        conn.executemany(f'INSERT INTO "{LEDGER_TABLE}" VALUES ({marks})', rows)  # noqa: S608


class ChangedRows:
    """The rows changed since a computation, staged once per run, and where they are placed.

    Staged on first use (:func:`stage_changed`); each indicator's changed-rows and
    previous-rows query runs once (the second ask is answered from ``placed``).
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, last: SinceLast) -> None:
        self.conn, self.last = conn, last
        self.staged = False
        self.placed: dict[tuple[str, bool], list[tuple[Any, ...]] | None] = {}

    def placements(self, compiled: CompiledIndicator,
                   previous: bool = False) -> list[tuple[Any, ...]] | None:
        """The rows of ``changed_sql`` (``previous``: ``previous_sql``); None if refused."""
        key = (compiled.indicator, previous)
        if key not in self.placed:
            self.placed[key] = self._query(compiled, previous)
        return self.placed[key]

    def _query(self, compiled: CompiledIndicator,
               previous: bool) -> list[tuple[Any, ...]] | None:
        prefilter = compiled.prefilter
        assert prefilter is not None  # noqa: S101 - callers check
        sql, parameters = (prefilter.previous_sql, prefilter.previous_parameters) if previous \
            else (prefilter.changed_sql, prefilter.changed_parameters)
        if not sql:
            return None
        try:
            if not self.staged:
                stage_changed(self.conn, self.last)
                self.staged = True
            return self.conn.execute(sql, parameters).fetchall()
        except duckdb.Error:
            return None


def touched_scopes(conn: duckdb.DuckDBPyConnection, compiled: CompiledIndicator,
                   last: SinceLast | None, changes: ChangedRows | None = None
                   ) -> frozenset[str] | None:
    """The scopes of an indicator whose cells this run must compute; the others are reused.

    Only record queries qualify (:attr:`CompiledIndicator.reuse`; snapshots too, unless
    they measure an age to ``now``) whose spec and parameters are the last computation's;
    the period grid (the restatement window's periods, a snapshot's current period) is
    compared by the caller, which also holds the results. Empty when nothing the query
    reads changed and no unit crossed the clock: the last results are this run's too.
    A scope is touched when a row changed since the last computation is, or was before
    the change (``Prefilter.previous_sql``), a unit of a cell the query computes (an SLA
    also when its incident changed), or when a unit of it crossed the clock since
    (:class:`ReuseCheck`); for repeat shares also when it holds an incident whose repeat
    a changed incident may decide. Every other scope's cells hold what they held then:
    none of their units changed, and a unit's outcome depends only on its own record, the
    tables derived with it, an SLA's incident and the earlier incidents it may repeat.
    None when that cannot be told: the indicator is new or edited, its results follow
    the clock, a table it reads for other records' outcomes changed (the incidents of a
    change's failure rate), a table was derived again whole, or the computation is older
    than the kept previous rows.
    """
    check = compiled.reuse
    if last is None or check is None or compiled.indicator not in last.indicators:
        return None
    changed = compiled.reads & last.rows.keys()  # every table the query reads
    scopes: set[str] = set()
    if changed:
        prefilter = compiled.prefilter
        if prefilter is None or not prefilter.previous_sql or last.generation is None or \
                changed - _kin(prefilter.tables[0]) - set(prefilter.tables[1:]) or \
                changed & prefilter.related or \
                any(last.rows[table] is None for table in changed):
            return None
        changes = changes or ChangedRows(conn, last)
        placed, before = changes.placements(compiled), changes.placements(compiled, True)
        if placed is None or before is None:
            return None
        scopes.update(row[0] for row in (*placed, *before))
    if check.crossing_sql:
        try:
            crossed = conn.execute(check.crossing_sql, {
                **check.parameters, "last_now": last.computed_at}).fetchall()
        except duckdb.Error:
            return None
        scopes.update(scope for (scope,) in crossed)
    return frozenset(scopes)


def _kin(table: str) -> frozenset[str]:
    """A record table and the tables derived with it from the same raw records."""
    return next((frozenset(tables) for tables in TABLES_OF.values() if tables[0] == table),
                frozenset({table}))


def id_traits(conn: duckdb.DuckDBPyConnection, table: str,
              known: dict[str, tuple[bool, bool]]) -> tuple[bool, bool]:
    """``(unique, plain)`` of a canonical table's evidence ids (asked once: ``known``).

    Unique: no two rows share an id, true in a store fed by one instance (sys_ids, issue
    keys); two sources feeding one table may repeat them, and their cells then list
    evidence with DISTINCT. Plain: no id holds :data:`EVIDENCE_SEPARATOR`, so a cell's ids
    can come as one text.
    """
    if table not in known:
        try:
            unique, plain = measure_id_traits(conn, [table])[table]
        except (duckdb.Error, KeyError):  # the indicator's own query reports what is wrong
            unique = plain = False
        known[table] = (unique, plain)
    return known[table]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _evidence(kind: str, ids: str | list[str] | None, count: int, flags: dict[str, Any],
              pool: dict[tuple[str, ...], tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """``{kind: ids}`` of the ids the query listed.

    Over ``EVIDENCE_CAP`` ids: none, and the count in ``flags["evidence_omitted"]``.

    An id list equal to one met before is that one (``pool``): the cells of different
    indicators over the same records (every count, duration and share of a service's
    month) list the same ids, and at 1M incidents the copies held ~0.5 GiB. Pooling the
    lists, not each id, costs one hash per list.
    """
    if not count:
        return {}
    if count > EVIDENCE_CAP:
        flags.setdefault("evidence_omitted", {})[kind] = count
        return {}
    listed = tuple(ids.split(EVIDENCE_SEPARATOR) if isinstance(ids, str) else ids or ())
    return {kind: pool.setdefault(listed, listed)}


def _fetched(result: duckdb.DuckDBPyConnection, size: int = 1024) -> Iterator[tuple]:
    """The rows of a query, fetched in batches.

    A batch's evidence lists are pooled (and their copies freed) before the next batch is
    converted: not all the lists of a query are Python objects at once.
    """
    while batch := result.fetchmany(size):
        yield from batch


def run_compiled(conn: duckdb.DuckDBPyConnection, compiled: CompiledIndicator,
                 since: datetime | None = None,
                 pool: dict[tuple[str, ...], tuple[str, ...]] | None = None) -> list[Cell]:
    """Run one compiled indicator and complete its cells.

    Args:
        conn: a connection to the canonical tables (read-only is enough).
        compiled: the compiled indicator.
        since: skip the rows placed before this (:func:`since_bound`); None: read all.
        pool: the evidence lists met so far (shared between the indicators of a run).

    Returns:
        The cells, in no particular order.

    Raises:
        StateError: when DuckDB rejects the query (a canonical file of another layout, a
            damaged file), with the indicator and DuckDB's first line.
    """
    try:
        parameters = compiled.parameters
        if since is not None and compiled.prefilter is not None:
            parameters = {**parameters, "since": since}
        result = conn.execute(compiled.sql, parameters)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        memory = isinstance(exc, duckdb.OutOfMemoryException)
        raise StateError("canonical tables: the compiled query failed",
                         indicator=compiled.indicator, error=first,
                         hint="raise state.analytics_memory_mb" if memory else None) from None
    low = compiled.aggregate.min_sample
    pool = {} if pool is None else pool
    cells: dict[tuple[str, str, str], Cell] = {}
    spans: dict[str, tuple[datetime, datetime]] = {}
    marked: set[tuple[str, str]] = set()
    finish = compiled.aggregate.finish
    for scope, breakdown, period, start, end, value, n, excluded, more, ids, count in \
            _fetched(result):
        spans[period] = (_utc(start), _utc(end))
        if n is None:
            marked.add((scope, period))
            continue
        flags = dict(compiled.aggregate.flags)
        flags.update((k, v) for k, v in (more or {}).items() if v is not None)
        if finish is not None:  # the cell's values: exact sums, type-7 percentiles
            value = finish_value(compiled.aggregate, value)
        evidence = _evidence(compiled.evidence_kind, ids, count, flags, pool)
        cells[(scope, breakdown, period)] = Cell(
            compiled.indicator, scope, breakdown, period, _utc(start), _utc(end),
            None if value is None else float(value), int(n), int(excluded), low, flags,
            evidence)
    for pid, start, end in compiled.periods:
        spans[pid] = (start, end)
    reported = {(s, p) for s, b, p in cells if b == "all"} | marked
    reported |= {(s, pid) for s in compiled.scope_ids for pid, _, _ in compiled.periods}
    labels = ["all"]
    if compiled.breakdown_values is not None:
        labels += [f"{compiled.breakdown_prefix}{v}" for v in compiled.breakdown_values]
    value, n, excluded = compiled.aggregate.empty
    for scope, period in reported:
        start, end = spans[period]
        for label in labels:
            cells.setdefault((scope, label, period), Cell(
                compiled.indicator, scope, label, period, start, end, value, n, excluded, low,
                dict(compiled.aggregate.flags)))
    return list(cells.values())


def run_indicators(conn: duckdb.DuckDBPyConnection, indicators: Iterable[BoundIndicator],
                   portfolio: Any, now: datetime,
                   done: Callable[[str, str], Collection[tuple[str, str]]] | None = None,
                   last: SinceLast | None = None,
                   reuse: Callable[[str, tuple[str, ...], frozenset[str]],
                                   list[Any] | None] | None = None,
                   ids: Mapping[str, Any] | None = None,
                   improvements: Iterable[Any] = ()) -> SqlRun:
    """Compile and run every indicator the compiler supports; list the others.

    Args:
        conn: a connection to the canonical tables.
        indicators: bound indicators (spec and effective parameters).
        portfolio: the portfolio (its scopes).
        now: the run clock, aware UTC.
        done: ``(indicator id, scope type)`` → the ``(scope id, period id)`` the history
            holds (``SeriesBook.periods_done``); those final periods are not recomputed.
        last: what changed since the last computation (with ``done`` from its history):
            rows placed before :func:`since_bound` are not read.
        reuse: ``(indicator id, window period ids, scopes to leave out)`` → that
            indicator's window results of the last computation but those scopes' if the
            store holds them all for this window, else None; asked when
            :func:`touched_scopes` names fewer scopes than the view's (the others'
            results are taken as they are; none touched: the query is not run).
        ids: ``canonical_build.id_traits`` (table → ``[unique, plain]``), what the
            canonical file knows of its evidence ids; tables it does not name are
            measured here (:func:`id_traits`).
        improvements: the ledger's improvement items (:func:`stage_improvements`).

    Returns:
        The cells and the indicators not compiled, with their reasons.
    """
    scopes = build_scopes(portfolio)
    out = SqlRun()
    pool: dict[tuple[str, ...], tuple[str, ...]] = {}
    changes = ChangedRows(conn, last) if last is not None else None
    traits = {table: (bool(v[0]), bool(v[1])) for table, v in (ids or {}).items()}
    stage_improvements(conn, improvements)
    for item in indicators:
        try:
            view = scopes[item.spec.view]
            held = done(item.spec.id, view[0].scope_type) if done and view else ()
            compiled = compile_indicator(item.spec, item.params, view, now, held)
        except NotCompiled as exc:
            out.not_compiled[item.spec.id] = exc.reason
            continue
        if compiled.reuse is not None:
            window = out.windows[item.spec.id] = tuple(pid for pid, _, _ in compiled.periods)
            if reuse is not None and done:
                touched = touched_scopes(conn, compiled, last, changes)
                kept = reuse(item.spec.id, window, touched) \
                    if touched is not None and len(touched) < len(view) else None
                if kept is not None:
                    out.reused[item.spec.id] = kept
                    if not touched:
                        continue
                    out.touched[item.spec.id] = touched
                    view = [scope for scope in view if scope.id in touched]
                    compiled = compile_indicator(item.spec, item.params, view, now, held)
        if compiled.id_tables:
            found = {t: id_traits(conn, t, traits) for t in compiled.id_tables}
            unique = [t for t, (once, _) in found.items() if once]
            plain = [t for t, (_, bare) in found.items() if bare]
            if unique or plain:
                compiled = compile_indicator(item.spec, item.params, view, now, held,
                                             unique, plain)
        since = since_bound(conn, compiled, last, changes) if done else None
        out.cells.extend(run_compiled(conn, compiled, since, pool))
        if since is not None:
            out.read_since[item.spec.id] = since
    return out
