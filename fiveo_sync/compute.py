"""Compute indicators from the state store: canonical tables → SQL → results → history.

This is the I/O shell around the engines. It brings the canonical DuckDB file up to date
(:func:`fiveo_sync.canonical.refresh`: only the records changed since the last run are
normalised), runs every indicator over the canonical tables in SQL
(:mod:`fiveo_sync.sqlengine`; the ledger's improvement items, which are not canonical
rows, staged as a temporary table), and hands the cells and the stored history to
:func:`fiveo_sync.engine.engine.compute`, which chooses the periods to report, adds status
and trend and computes the derived indicators. The new results are saved (a later
computation of a period replaces the earlier one).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import structlog

from fiveo_sync import __version__
from fiveo_sync.canonical import refresh
from fiveo_sync.canonical.builder import build_info
from fiveo_sync.canonical.changes import changed_rows
from fiveo_sync.canonical.memory import load_canonical
from fiveo_sync.engine.engine import bind_any, compute
from fiveo_sync.engine.result import IndicatorResult, format_utc, parse_utc
from fiveo_sync.engine.series import SeriesBook
from fiveo_sync.engine.spec import bind_indicators
from fiveo_sync.errors import ConfigError, StateError
from fiveo_sync.improvement_ledger import LEDGER_KEY, improvement_records
from fiveo_sync.records import CanonicalData
from fiveo_sync.settings import ANALYTICS_MEMORY_MB, duckdb_config
from fiveo_sync.sqlengine import SinceLast, run_indicators

log = structlog.get_logger(__name__)

MARKS_KEY = "compute_marks"
"""Store meta: the canonical lineage, generation and clock of the last computation, the
result count after it, each indicator's digest (what the next run compares) and, per
indicator a later run may reuse, where its window's results are stored (``reuse``:
``[run id, count, window period ids]``)."""

# ComputeReport.counts kind → canonical table.
_COUNTED = {"incidents": "incidents", "changes": "changes", "problems": "problems",
            "slas": "slas", "work_items": "work_items", "sprints": "sprints",
            "sprint_scopes": "sprint_scopes"}


@dataclass(frozen=True)
class ComputeReport:
    """What one computation produced.

    Attributes:
        results: the results computed (and saved) by this run.
        skipped: raw records the normaliser dropped, per canonical kind and reason.
        counts: canonical records per kind, and ``results`` per status.
        read_since: the indicators whose query read only the rows placed since a bound
            (the history and the rows changed since the last computation allowed it).
        reused: the indicators whose results are the last computation's, read back from
            the store (nothing they read changed since): not computed, not saved again.
        touched: the indicators whose query computed only some scopes, with those scopes
            (the rows changed since were or are placed there); the other scopes' results
            are the last computation's.
    """

    results: tuple[IndicatorResult, ...]
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    read_since: dict[str, datetime] = field(default_factory=dict)
    reused: tuple[str, ...] = ()
    touched: dict[str, frozenset[str]] = field(default_factory=dict)


def load_history(store: Any) -> list[IndicatorResult]:
    """Every stored result, as :class:`IndicatorResult` (latest computation per period)."""
    return [IndicatorResult.from_dict(payload) for payload in store.iter_results()]


def load_series(store: Any) -> SeriesBook:
    """The stored results' series (what trends, baselines and final periods need)."""
    return SeriesBook.from_points(store.iter_series_points())


def compute_from_store(store: Any, mappings: Any, now: datetime, run_id: str,
                       memory_mb: int = ANALYTICS_MEMORY_MB) -> ComputeReport:
    """Compute every indicator from the stored records and save the results.

    Args:
        store: the state store (a :class:`~fiveo_sync.state.StateStore`).
        mappings: the loaded mapping folder (``portfolio``, ``sources``,
            ``indicator_files``).
        now: the run's clock (aware UTC).
        run_id: the run these results belong to.
        memory_mb: DuckDB's memory limit for the queries (``state.analytics_memory_mb``).

    Returns:
        The results, the normaliser's skipped counts and record counts.
    """
    canonical = refresh(store.path, mappings, memory_mb=memory_mb)
    bound = bind_indicators(mappings.indicator_files)
    improvements = improvement_records(store.get_meta(LEDGER_KEY))
    history = load_series(store)
    digests = {item.spec.id: _digest(item) for item in bound}
    marks = store.get_meta(MARKS_KEY)
    marks = marks if isinstance(marks, dict) else {}
    try:
        with duckdb.connect(str(canonical.path), read_only=True,
                            config=duckdb_config(memory_mb)) as conn:
            info = build_info(conn) or {}
            last = _since_last(store, conn, info, digests, marks, now)
            sql = run_indicators(conn, [b for b in bound if not b.spec.is_derived],
                                 mappings.portfolio, now, history.periods_done, last,
                                 _reuse_from(store, marks.get("reuse")),
                                 info.get("id_traits"), improvements)
            counts = {kind: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                      for kind, table in _COUNTED.items()}
    except duckdb.OutOfMemoryException as exc:
        raise StateError(f"computing over the canonical tables needs more than "
                         f"{memory_mb} MB: raise state.analytics_memory_mb "
                         f"({str(exc).splitlines()[0]})", path=str(canonical.path)) from None
    except duckdb.Error as exc:
        raise StateError(f"canonical tables unreadable: {str(exc).splitlines()[0]}",
                         path=str(canonical.path)) from None
    _refuse_not_compiled(sql.not_compiled)
    results = compute(bound, mappings.portfolio, now, history, cells=_by_indicator(sql.cells),
                      reused=sql.reused)
    kept = {id(r) for found in sql.reused.values() for r in found}
    # The windows computed again (what a later run may read back as is) lose the cells
    # they no longer give.
    recomputed = [(ident, window, sql.touched.get(ident))
                  for ident, window in sql.windows.items()
                  if ident not in sql.reused or ident in sql.touched]
    store.save_results(run_id, format_utc(now),
                       (r.to_dict() for r in results if id(r) not in kept), recomputed)
    # After the results: marks older than the history only make the next run read more
    # (an indicator whose window results another computation replaced is not reused).
    store.set_meta(MARKS_KEY, {"lineage": info.get("lineage"),
                               "generation": info.get("generation"), "now": format_utc(now),
                               "results": store.result_count(), "indicators": digests,
                               "reuse": _reuse_marks(store, sql)})
    counts["improvements"] = len(improvements)
    for result in results:
        counts[f"status_{result.status}"] = counts.get(f"status_{result.status}", 0) + 1
    skipped = info.get("skipped") or {}
    log.info("results_computed", run_id=run_id, results=len(results),
             reused=len(sql.reused) - len(sql.touched), partly_reused=len(sql.touched),
             read_since_last=len(sql.read_since),
             skipped=sum(sum(v.values()) for v in skipped.values()))
    return ComputeReport(tuple(results), {k: dict(v) for k, v in skipped.items()}, counts,
                         dict(sql.read_since),
                         tuple(sorted(sql.reused.keys() - sql.touched)), dict(sql.touched))


def compute_records(indicators: Any, data: CanonicalData, portfolio: Any, now: datetime,
                    history: Any = ()) -> list[IndicatorResult]:
    """Compute indicators over canonical records held in memory, with no state store.

    The same path as :func:`compute_from_store` without the store: the records fill the
    canonical tables of an in-memory DuckDB database (:mod:`fiveo_sync.canonical.memory`),
    the SQL engine measures every indicator over them, and the engine adds derived
    indicators, periods, status and trends against ``history`` (results or their
    payloads). For the golden cases and tests.
    """
    bound = bind_any(indicators)
    book = history if isinstance(history, SeriesBook) else SeriesBook(history)
    with duckdb.connect(config=duckdb_config(ANALYTICS_MEMORY_MB)) as conn:
        load_canonical(conn, data, portfolio)
        sql = run_indicators(conn, [b for b in bound if not b.spec.is_derived], portfolio,
                             now, book.periods_done, improvements=data.improvements)
    _refuse_not_compiled(sql.not_compiled)
    return compute(bound, portfolio, now, book, cells=_by_indicator(sql.cells))


def _by_indicator(cells: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for cell in cells:
        grouped[cell.indicator].append(cell)
    return grouped


def _refuse_not_compiled(not_compiled: dict[str, str]) -> None:
    """A located error for an indicator the SQL compiler does not translate.

    ``fiveo-sync validate`` refuses those specs first; this guards a computation reached
    without it (a spec the validator lets through and the compiler does not).
    """
    if not_compiled:
        ident, reason = sorted(not_compiled.items())[0]
        raise ConfigError(f"indicator cannot be computed: {reason}", indicator=ident,
                          others=len(not_compiled) - 1 or None)


def _digest(item: Any) -> str:
    """What an indicator's cells depend on besides the data: its spec and parameters.

    The release is part of it: another release may compute the same spec otherwise.
    """
    text = json.dumps([__version__, item.spec.model_dump(mode="json"), item.params],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _since_last(store: Any, conn: duckdb.DuckDBPyConnection, info: dict[str, Any],
                digests: dict[str, str], marks: dict[str, Any],
                now: datetime) -> SinceLast | None:
    """What changed since the computation the store's marks describe, or None (unknown).

    Unknown when there are no marks, the clock is earlier than theirs, the history lost
    results since (fewer stored than then), or the canonical file cannot tell
    (:func:`~fiveo_sync.canonical.changes.changed_rows`).
    """
    if not marks.get("now") or parse_utc(marks["now"]) > now or \
            store.result_count() < (marks.get("results") or 0):
        return None
    then = marks.get("generation")
    rows = changed_rows(conn, marks.get("lineage"), then, info) if isinstance(then, int) \
        else None
    if rows is None:
        return None
    same = frozenset(ident for ident, digest in digests.items()
                     if (marks.get("indicators") or {}).get(ident) == digest)
    return SinceLast(parse_utc(marks["now"]), rows, same, then)


Reuse = Callable[[str, tuple[str, ...], frozenset[str]], list[IndicatorResult] | None]


def _reuse_from(store: Any, entries: Any) -> Reuse:
    """``run_indicators``' ``reuse``: an indicator's stored window results, when complete.

    Complete means stored for the same window by the runs the marks name, as many of each
    as then (none replaced by a later computation whose marks were not saved). The
    results of the scopes ``skip`` names are left out: this run computes them.
    """
    entries = entries if isinstance(entries, dict) else {}

    def reuse(indicator: str, window: tuple[str, ...],
              skip: frozenset[str]) -> list[IndicatorResult] | None:
        entry = entries.get(indicator)
        if not isinstance(entry, dict) or entry.get("window") != list(window) or \
                store.window_runs(indicator, window) != entry.get("runs"):
            return None
        return [IndicatorResult.from_dict(payload)
                for payload in store.window_results(indicator, window, skip)]
    return reuse


def _reuse_marks(store: Any, sql: Any) -> dict[str, dict[str, Any]]:
    """Which runs' results make up each reusable indicator's window after this run."""
    return {ident: {"window": list(window), "runs": store.window_runs(ident, window)}
            for ident, window in sql.windows.items()}
