"""Derived indicators: built from other indicators' results, never from records.

``on_target_share`` is the share of the referenced indicators (same scope and period,
breakdown ``all``) whose status is ``met``, among those with a usable status.
``period_change`` is a referenced indicator's value minus its previous period's value.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from fiveo_sync.engine import stats
from fiveo_sync.engine.outcome import Outcome
from fiveo_sync.engine.periods import Period
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.engine.series import SeriesBook, previous_ids
from fiveo_sync.engine.status import USABLE


def compute_derived(derived: list[Any], results: list[IndicatorResult],
                    scopes: dict[str, list[Any]], book: SeriesBook,
                    now: datetime) -> list[IndicatorResult]:
    """Compute derived indicators over the results of this computation.

    Args:
        derived: bound derived indicators.
        results: the base results just computed.
        scopes: scopes per view.
        book: the series book (history and this computation).
        now: the run's clock (unused by the formulas; kept for symmetry).

    Returns:
        The derived results.
    """
    from fiveo_sync.engine.engine import _result  # shared result builder

    grouped: dict[tuple[str, str, str], list[IndicatorResult]] = defaultdict(list)
    for result in results:
        if result.breakdown == "all":
            grouped[(result.scope_type, result.scope, result.period)].append(result)
    out: list[IndicatorResult] = []
    for item in derived:
        spec = item.spec
        measure = spec.measure
        for scope in scopes[spec.view]:
            for (scope_type, scope_id, _), members in sorted(grouped.items()):
                if (scope_type, scope_id) != (scope.scope_type, scope.id):
                    continue
                first = members[0]
                if first.period_kind != spec.period.kind:
                    continue
                period = Period(first.period_start, first.period_end, first.period,
                                first.period_kind)
                if measure.kind == "on_target_share":
                    outcome = _on_target(measure, members)
                else:
                    outcome = _period_change(measure, members, scope, book, period)
                if outcome is not None:
                    out.append(_result(item, scope, period, "all", None, outcome, book))
    return out


def _on_target(measure: Any, members: list[IndicatorResult]) -> Outcome | None:
    wanted = set(measure.indicators)
    chosen = [r for r in members
              if (r.indicator in wanted or (measure.o and r.o == measure.o))]
    if not chosen:
        return None
    usable = [r for r in chosen if r.status in USABLE]
    met = sum(1 for r in usable if r.status == "met")
    return Outcome(stats.ratio_pct(met, len(usable)), len(usable), min_sample=0)


def _period_change(measure: Any, members: list[IndicatorResult], scope: Any,
                   book: SeriesBook, period: Period) -> Outcome | None:
    current = next((r for r in members if r.indicator == measure.indicator), None)
    if current is None:
        return None
    before_ids = previous_ids(period.id, period.kind, 1)
    before = book.value(measure.indicator, scope, "all", before_ids[0]) if before_ids else None
    if current.value is None or before is None or before[0] is None:
        return Outcome(None, 0, min_sample=0)
    if measure.percent:
        if before[0] == 0:
            return Outcome(None, 0, min_sample=0)
        return Outcome(100.0 * (current.value - before[0]) / abs(before[0]), 2, min_sample=0)
    return Outcome(current.value - before[0], 2, min_sample=0)
