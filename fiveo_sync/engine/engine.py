"""The indicator engine: measured cells + specs + history → indicator results.

Pure: no I/O and no clock reads (``now`` is an argument). The SQL engine
(:mod:`fiveo_sync.sqlengine`) measures every indicator's cells over the canonical tables;
this module chooses the periods each run reports (the restatement window and the final
periods the history lacks), adds status (§2.7) and trend (§2.8) against the history, and
computes the derived indicators from the other results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from fiveo_sync.engine.derived import compute_derived
from fiveo_sync.engine.outcome import Outcome
from fiveo_sync.engine.periods import Period
from fiveo_sync.engine.placement import choose, window_periods
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.engine.scope import Scope, build_scopes
from fiveo_sync.engine.series import SeriesBook
from fiveo_sync.engine.spec import BoundIndicator, IndicatorFileSpec, IndicatorSpec, bind_indicators
from fiveo_sync.engine.status import status_of, trend_of

_SERVICENOW_KINDS = frozenset({"incident", "change", "problem", "sla", "outage",
                               "survey_response"})


def bind_any(indicators: Iterable[Any]) -> list[BoundIndicator]:
    """Bound indicators of ``IndicatorFileSpec``s, ``IndicatorSpec``s or ``BoundIndicator``s."""
    bound: list[BoundIndicator] = []
    for item in indicators:
        if isinstance(item, BoundIndicator):
            bound.append(item)
        elif isinstance(item, IndicatorFileSpec):
            bound.extend(bind_indicators([item]))
        elif isinstance(item, IndicatorSpec):
            bound.extend(bind_indicators([IndicatorFileSpec(
                version=1, kind="indicators", o=item.o, indicators=[item])]))
        else:
            raise TypeError(f"not an indicator spec: {type(item).__name__}")
    return bound


def compute(indicators: Iterable[Any], portfolio: Any, now: datetime,
            history: Iterable[IndicatorResult | dict[str, Any]] | SeriesBook = (),
            cells: Mapping[str, Iterable[Any]] | None = None,
            reused: Mapping[str, Iterable[IndicatorResult]] | None = None,
            ) -> list[IndicatorResult]:
    """The results of every indicator for every scope of its view and every due period.

    Args:
        indicators: ``IndicatorFileSpec``s, ``IndicatorSpec``s or ``BoundIndicator``s.
        portfolio: the portfolio (services, products and their links).
        now: the run's clock, aware UTC.
        history: earlier results (objects or ``to_dict()`` payloads, or a ``SeriesBook`` of
            them) for trends and for deciding which final periods still need a first
            computation. A book given is extended with this computation's results.
        cells: indicator id → its measured cells (the SQL engine's ``Cell``s: scope,
            breakdown, period and its bounds, value, n, excluded, min_sample, flags,
            evidence, for every period it reports). A non-derived indicator without
            cells (and not reused) has no results.
        reused: indicator id → its results as the last computation gave them, which this
            one would give again (nothing it reads changed): taken as they are. With
            ``cells`` for the indicator too, these are the results of the scopes nothing
            changed in, and the cells those of the others.

    Returns:
        The results, ordered by indicator, scope, breakdown and period.
    """
    bound = bind_any(indicators)
    scopes = build_scopes(portfolio)
    book = history if isinstance(history, SeriesBook) else SeriesBook(history)
    measured = {ident: _by_scope(found) for ident, found in (cells or {}).items()}
    results: list[IndicatorResult] = []
    for item in bound:
        if item.spec.is_derived:
            continue
        kept: set[str] = set()
        for result in (reused or {}).get(item.spec.id, ()):
            book.record(result)
            results.append(result)
            kept.add(result.scope)
        found = measured.get(item.spec.id)
        if found is None:
            continue
        for scope in scopes[item.spec.view]:
            if scope.id not in kept:
                results.extend(_from_cells(item, scope, found.get(scope.id, []), book, now))
    derived = [item for item in bound if item.spec.is_derived]
    results.extend(compute_derived(derived, results, scopes, book, now))
    results.sort(key=lambda r: (r.indicator, r.scope_type, r.scope, r.breakdown,
                                r.period_start))
    return results


def _sources(spec: IndicatorSpec) -> tuple[str, ...]:
    kinds = {spec.source}
    related = getattr(spec.measure, "related", None)
    for rel in related if isinstance(related, list) else [related] if related else []:
        kinds.add(rel.source)
    if spec.period.placement == "completed_sprints":
        kinds.update({"work_item", "sprint"})
    systems = {"servicenow" if k in _SERVICENOW_KINDS else "jira" for k in kinds}
    if kinds == {"improvement"}:  # items live where their scope's records are written
        systems = {"jira"} if spec.view == "product" else {"servicenow"}
    if spec.view == "combined":
        systems = {"servicenow", "jira"}
    return tuple(sorted(systems))


def _by_scope(cells: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for cell in cells:
        grouped[cell.scope].append(cell)
    return grouped


def _from_cells(item: BoundIndicator, scope: Scope, cells: list[Any], book: SeriesBook,
                now: datetime) -> list[IndicatorResult]:
    """Results of cells measured elsewhere: the periods this run reports, with status."""
    spec, params = item.spec, item.params
    kind = spec.period.kind
    periods: dict[str, Period] = {}
    by_period: dict[str, list[Any]] = defaultdict(list)
    for cell in cells:
        periods.setdefault(cell.period, Period(cell.period_start, cell.period_end,
                                               cell.period, kind))
        by_period[cell.period].append(cell)
    if kind == "sprint":
        horizon = params["restatement_days"] * 86400
        window = {p.id for p in periods.values() if (now - p.end).total_seconds() < horizon}
        book.register_sprints(spec.id, scope, sorted(periods.values()))
    elif spec.snapshot:
        window = set(periods)
    else:
        window = {p.id for p in window_periods(kind, now, params["reporting_timezone"],
                                               params["restatement_days"])}
    final = {pid for pid in periods if book.has(spec.id, scope, "all", pid)}
    prefix = spec.breakdown.field.rsplit(".", 1)[-1] + "=" if spec.breakdown else ""
    out: list[IndicatorResult] = []
    for period in choose(list(periods.values()), window, final):
        for cell in by_period[period.id]:
            label = cell.breakdown
            value = None if label == "all" else label[len(prefix):]
            outcome = Outcome(cell.value, cell.n, cell.excluded, dict(cell.flags),
                              cell.min_sample)
            out.append(_result(item, scope, period, label, value, outcome, book,
                               dict(cell.evidence)))
    return out


def _result(item: BoundIndicator, scope: Scope, period: Period, breakdown: str,
            breakdown_value: Any, outcome: Outcome, book: SeriesBook,
            evidence: dict[str, tuple[str, ...]] | None = None) -> IndicatorResult:
    spec = item.spec
    # A service's or product's own target (portfolio.yaml) replaces the catalogue's.
    target = scope.target_for(spec.id) or spec.target
    if breakdown_value is not None and spec.breakdown is not None:
        target = spec.breakdown.targets.get(str(breakdown_value), target)
    baseline = book.baseline(spec.id, scope, breakdown, period)
    bounds = target.bounds(baseline)
    status = status_of(outcome.value, outcome.n, spec.direction, bounds, outcome.min_sample)
    low = bounds.low if bounds else None
    high = bounds.high if bounds else None
    trend, delta = trend_of(outcome.value, status, baseline, spec.direction, low, high)
    flags = dict(outcome.flags)
    if bounds is None and outcome.value is not None and outcome.n >= outcome.min_sample:
        flags["no_baseline"] = True
    result = IndicatorResult(
        indicator=spec.id, name=spec.name, o=spec.o, view=spec.view,
        scope_type=scope.scope_type, scope=scope.id, breakdown=breakdown, period=period.id,
        period_kind=period.kind, period_start=period.start, period_end=period.end,
        value=outcome.value, unit=spec.unit, n=outcome.n, excluded=outcome.excluded,
        target=target.text(), target_low=low, target_high=high, direction=spec.direction,
        status=status, baseline=baseline, trend=trend, delta=delta, sources=_sources(spec),
        flags=flags, snapshot=spec.snapshot, evidence=evidence or {},
        characteristic=spec.characteristic, dimension=spec.dimension)
    book.record(result)
    return result
