"""The indicator engine: canonical records + specs + ``now`` → indicator results.

Pure: no I/O and no clock reads (``now`` is an argument). For each indicator and each scope
of its view it places records in periods once (linear in records), evaluates the measure per
period and breakdown, and adds status (§2.7) and trend (§2.8) against the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from fiveo_sync.engine.derived import compute_derived
from fiveo_sync.engine.evaluate import (
    EvalContext,
    Outcome,
    evaluate_goal_share,
    evaluate_records,
    evaluate_sprint,
)
from fiveo_sync.engine.evidence import build_record_evidence, build_sprint_evidence
from fiveo_sync.engine.filters import compile_filters, param_refs
from fiveo_sync.engine.index import DataIndex
from fiveo_sync.engine.periods import Period, period_of
from fiveo_sync.engine.placement import (
    PeriodCache,
    choose,
    group_by_sprint,
    place_intervals,
    place_units,
    sprint_periods,
    window_periods,
)
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.engine.scope import Scope, build_scopes
from fiveo_sync.engine.series import SeriesBook
from fiveo_sync.engine.spec import BoundIndicator, IndicatorFileSpec, IndicatorSpec, bind_indicators
from fiveo_sync.engine.sprints import completed_sprints_by_key, sprint_sets
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


def compute(indicators: Iterable[Any], data: Any, portfolio: Any, now: datetime,
            history: Iterable[IndicatorResult | dict[str, Any]] | SeriesBook = (),
            cells: Mapping[str, Iterable[Any]] | None = None,
            reused: Mapping[str, Iterable[IndicatorResult]] | None = None,
            ) -> list[IndicatorResult]:
    """Compute every indicator for every scope of its view and every due period.

    Args:
        indicators: ``IndicatorFileSpec``s, ``IndicatorSpec``s or ``BoundIndicator``s.
        data: the ``CanonicalData`` (only the kinds the indicators without ``cells`` read).
        portfolio: the portfolio (services, products and their links).
        now: the run's clock, aware UTC.
        history: earlier results (objects or ``to_dict()`` payloads, or a ``SeriesBook`` of
            them) for trends and for deciding which final periods still need a first
            computation. A book given is extended with this computation's results.
        cells: indicator id → its measured cells, already evaluated elsewhere (the SQL
            engine's ``Cell``s: scope, breakdown, period and its bounds, value, n,
            excluded, min_sample, flags, evidence, for every period it reports); status,
            trend and the choice of periods are then done here as for any indicator.
        reused: indicator id → its results as the last computation gave them, which this
            one would give again (nothing it reads changed): taken as they are. With
            ``cells`` for the indicator too, these are the results of the scopes nothing
            changed in, and the cells those of the others.

    Returns:
        The results, ordered by indicator, scope, breakdown and period.
    """
    bound = bind_any(indicators)
    index = DataIndex(data, now)
    scopes = build_scopes(portfolio)
    book = history if isinstance(history, SeriesBook) else SeriesBook(history)
    measured = {ident: _by_scope(found) for ident, found in (cells or {}).items()}
    results: list[IndicatorResult] = []
    for item in bound:
        if item.spec.is_derived:
            continue
        kept: set[str] = set()
        if reused and item.spec.id in reused:
            for result in reused[item.spec.id]:
                book.record(result)
                results.append(result)
                kept.add(result.scope)
            if item.spec.id not in measured:
                continue
        for scope in scopes[item.spec.view]:
            if scope.id in kept:
                continue
            if item.spec.id in measured:
                results.extend(_from_cells(item, scope, measured[item.spec.id].get(scope.id, []),
                                           book, now))
            else:
                results.extend(_compute_one(item, scope, index, book, now))
    derived = [item for item in bound if item.spec.is_derived]
    results.extend(compute_derived(derived, results, scopes, book, now))
    results.sort(key=lambda r: (r.indicator, r.scope_type, r.scope, r.breakdown,
                                r.period_start))
    return results


def sources_of(spec: IndicatorSpec) -> set[str]:
    """The canonical kinds evaluating an indicator reads (its records and their context)."""
    kinds = {spec.source}
    related = getattr(spec.measure, "related", None)
    for rel in related if isinstance(related, list) else [related] if related else []:
        kinds.add(rel.source)
    if spec.period.kind == "sprint" or spec.source == "sprint" or \
            spec.measure.kind.startswith("sprint_"):
        kinds |= {"work_item", "sprint", "sprint_scope"}
    if "sla" in kinds or spec.measure.kind == "repeat_share":
        kinds.add("incident")  # an SLA's task fields and service; earlier incidents
    return kinds


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


def _scoped(item: BoundIndicator, scope: Scope, index: DataIndex) -> list[Any]:
    spec = item.spec
    # Indicators often share a source and filters (state ≠ canceled): select those once.
    memo_key = "scoped:" + repr((spec.source, scope, spec.scope_by,
                                 [f.model_dump_json() for f in spec.filters],
                                 sorted((k, repr(item.params.get(k)))
                                        for k in param_refs(spec.filters))))
    cached = index.cache.get(memo_key)
    if cached is not None:
        return cached
    records = index.records(spec.source, scope, spec.scope_by == "support_groups")

    def param(name: str) -> Any:
        return item.params.get(name)

    keep = compile_filters(spec.filters, index.get, param, plain_attributes=True)
    selected = [r for r in records if keep(r)]
    index.cache[memo_key] = selected
    return selected


def _compute_one(item: BoundIndicator, scope: Scope, index: DataIndex, book: SeriesBook,
                 now: datetime) -> list[IndicatorResult]:
    spec, params = item.spec, item.params
    ctx = EvalContext(index, params, spec)
    tz = params["reporting_timezone"]
    kind = spec.measure.kind
    if spec.period.kind == "sprint":
        return _compute_sprints(item, scope, index, book, now, ctx)
    records = [] if kind == "sprint_goal_share" else _scoped(item, scope, index)
    # Period look-ups are pure per (kind, zone): share them across indicators and scopes.
    cache = index.cache.get(("periods", spec.period.kind, tz))
    if cache is None:
        cache = index.cache[("periods", spec.period.kind, tz)] = PeriodCache(spec.period.kind, tz)
    if spec.snapshot:
        current = period_of(spec.period.kind, now, tz)
        slots = {current.id: (current, records)}
        periods = [current]
    else:
        if kind == "sprint_goal_share":
            sprints = index.closed_sprints(scope.boards)
            units = [(s, s.complete) for s in sprints]
        elif kind == "linked_duration":
            related = index.related_map(spec.measure.related, params)
            units = [((r, x), index.get(x, spec.period.timestamp))
                     for r in records for x in related.get(index.get(r, spec.measure.related.key),
                                                           ())]
        elif spec.period.placement != "overlap":
            stamp = spec.period.timestamp
            if "." in stamp or stamp == "now":
                units = [(r, index.get(r, stamp)) for r in records]
            else:  # what index.get does for a plain field, without a call per record
                units = [(r, getattr(r, stamp, None)) for r in records]
        if spec.period.placement == "overlap":
            slots = place_intervals([(r, index.get(r, spec.period.timestamp),
                                      index.get(r, spec.period.until)) for r in records],
                                    cache, now)
        else:
            slots = place_units(units, cache, now)
        window = window_periods(spec.period.kind, now, tz, params["restatement_days"])
        for period in window:
            slots.setdefault(period.id, (period, []))
        final = {pid for pid in slots if book.has(spec.id, scope, "all", pid)}
        periods = choose([p for p, _ in slots.values()], {p.id for p in window}, final)
        if kind == "sprint_goal_share":
            goal_sprints = sprints
    out: list[IndicatorResult] = []
    for period in periods:
        units = slots[period.id][1]
        if kind == "sprint_goal_share":
            outcomes = {"all": (evaluate_goal_share(goal_sprints, spec.measure.last, period),
                                None, None)}  # sprints are not records: no evidence
        else:
            outcomes = _breakdowns(item, units, ctx, period, index)
        for label, (outcome, value, counted) in outcomes.items():
            evidence = {} if counted is None else \
                build_record_evidence(spec.source, counted, outcome.flags)
            out.append(_result(item, scope, period, label, value, outcome, book, evidence))
    return out


def _breakdowns(item: BoundIndicator, units: list[Any], ctx: EvalContext, period: Period,
                index: DataIndex) -> dict[str, tuple[Outcome, Any, list[Any]]]:
    spec = item.spec
    out = {"all": (evaluate_records(spec.measure, units, ctx, period), None, units)}
    if spec.breakdown is None:
        return out
    field = spec.breakdown.field
    groups: dict[str, list[Any]] = {}
    originals: dict[str, Any] = {}
    for unit in units:
        record = unit[0] if isinstance(unit, tuple) else unit
        value = index.get(record, field)
        if value is None:
            continue
        groups.setdefault(str(value), []).append(unit)
        originals[str(value)] = value
    wanted = [str(v) for v in spec.breakdown.values] if spec.breakdown.values is not None \
        else sorted(groups, key=lambda v: (len(v), v))
    label = field.rsplit(".", 1)[-1]
    for value in wanted:
        members = groups.get(value, [])
        outcome = evaluate_records(spec.measure, members, ctx, period)
        out[f"{label}={value}"] = (outcome, value, members)
    return out


def _compute_sprints(item: BoundIndicator, scope: Scope, index: DataIndex, book: SeriesBook,
                     now: datetime, ctx: EvalContext) -> list[IndicatorResult]:
    spec, params = item.spec, item.params
    sprints = sprint_periods(index.closed_sprints(scope.boards))
    horizon_days = params["restatement_days"]
    window = {p.id for p, _ in sprints if (now - p.end).total_seconds() < horizon_days * 86400}
    final = {p.id for p, _ in sprints if book.has(spec.id, scope, "all", p.id)}
    chosen = {p.id for p in choose([p for p, _ in sprints], window, final)}
    book.register_sprints(spec.id, scope, [p for p, _ in sprints])
    by_sprint: dict[int, list[Any]] = {}
    if spec.period.placement == "completed_sprints":
        done_in = completed_sprints_by_key(index, params)
        units = []
        for record in _scoped(item, scope, index):
            ids = set()
            for key in getattr(record, "jira_keys", ()) or ():
                ids |= done_in.get(key, set())
            units.append((record, ids))
        by_sprint = group_by_sprint(units)
    out: list[IndicatorResult] = []
    for period, sprint in sprints:
        if period.id not in chosen:
            continue
        if spec.period.placement == "completed_sprints":
            members = by_sprint.get(sprint.id, [])
            outcome = evaluate_records(spec.measure, members, ctx, period)
            evidence = build_record_evidence(spec.source, members, outcome.flags)
        else:
            sets = sprint_sets(sprint, index, params)
            outcome = evaluate_sprint(spec.measure, sets)
            evidence = {} if outcome.flags.get("no_commitment") else \
                build_sprint_evidence(spec.measure, sets, outcome.flags)
        out.append(_result(item, scope, period, "all", None, outcome, book, evidence))
    return out


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
