"""Compute indicators from the state store: raw records → canonical → results → history.

This is the I/O shell around the pure engine: it reads raw payloads and earlier results
from the :class:`~fiveo_sync.state.StateStore`, normalises with the source maps, runs
:func:`fiveo_sync.engine.engine.compute` with the stored history, and saves the new results
(a later computation of a period replaces the earlier one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from fiveo_sync.engine.engine import compute
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.result import IndicatorResult, format_utc
from fiveo_sync.improvement_ledger import LEDGER_KEY, improvement_records

log = structlog.get_logger(__name__)

_CANONICAL_KINDS = ("incidents", "changes", "problems", "slas", "work_items", "sprints",
                    "sprint_scopes", "improvements")


@dataclass(frozen=True)
class ComputeReport:
    """What one computation produced.

    Attributes:
        results: the results computed (and saved) by this run.
        skipped: raw records the normaliser dropped, per canonical kind and reason.
        counts: canonical records per kind, and ``results`` per status.
    """

    results: tuple[IndicatorResult, ...]
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def load_history(store: Any) -> list[IndicatorResult]:
    """Every stored result, as :class:`IndicatorResult` (latest computation per period)."""
    return [IndicatorResult.from_dict(payload) for payload in store.iter_results()]


def compute_from_store(store: Any, mappings: Any, now: datetime, run_id: str) -> ComputeReport:
    """Normalise the stored raw records, compute every indicator and save the results.

    Args:
        store: the state store.
        mappings: the loaded mapping folder (``portfolio``, ``sources``,
            ``indicator_files``).
        now: the run's clock (aware UTC).
        run_id: the run these results belong to.

    Returns:
        The results, the normaliser's skipped counts and record counts.
    """
    raw = {(source, stream): store.iter_payloads(source, stream)
           for source, stream in store.streams()}
    data = normalise(mappings.sources, mappings.portfolio, raw)
    if hasattr(store, "get_meta"):  # the loop's own history, for `source: improvement`
        data = replace(data, improvements=improvement_records(store.get_meta(LEDGER_KEY)))
    results = compute(mappings.indicator_files, data, mappings.portfolio, now,
                      load_history(store))
    store.save_results(run_id, format_utc(now), [r.to_dict() for r in results])
    counts = {kind: len(getattr(data, kind)) for kind in _CANONICAL_KINDS}
    for result in results:
        counts[f"status_{result.status}"] = counts.get(f"status_{result.status}", 0) + 1
    log.info("results_computed", run_id=run_id, results=len(results),
             skipped=sum(sum(v.values()) for v in data.skipped.values()))
    return ComputeReport(tuple(results), {k: dict(v) for k, v in data.skipped.items()}, counts)
