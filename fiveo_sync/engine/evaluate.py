"""Evaluate one measure over the units (records or record pairs) of one scope and period.

The units arrive already scoped, filtered and placed in the period by the engine; this
module only turns them into ``value, n, excluded`` following §2.6.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fiveo_sync.engine import stats
from fiveo_sync.engine.filters import compile_filters, is_empty, param_refs
from fiveo_sync.engine.index import DataIndex
from fiveo_sync.engine.measures import (
    INTERVAL_KINDS,
    NO_MINIMUM_KINDS,
    UNIT_SECONDS,
    DurationValue,
)
from fiveo_sync.engine.outages import (
    availability_pct,
    build_intervals,
    build_window,
    downtime,
    mtbf,
)
from fiveo_sync.engine.periods import Period, local_date
from fiveo_sync.engine.sprints import SprintSets, aggregate


@dataclass
class Outcome:
    """What a measure gives for one scope, breakdown and period."""

    value: float | None
    n: int
    excluded: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    min_sample: int = stats.MIN_SAMPLE


@dataclass
class EvalContext:
    """Shared inputs of every evaluation in one computation."""

    index: DataIndex
    params: dict[str, Any]
    spec: Any = None
    """The indicator (interval and repeat measures read its period fields and filters)."""

    def param(self, name: str) -> Any:
        """A parameter by name (§2.9)."""
        return self.params.get(name)


def duration(start: Any, end: Any, unit: str) -> float | None:
    """``end − start`` in a unit, or None when either side is empty or it is negative."""
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    if seconds < 0:
        return None
    return seconds / UNIT_SECONDS[unit]


def _values(measure: Any, records: list[Any], ctx: EvalContext) -> tuple[list[float], int]:
    values: list[float] = []
    excluded = 0
    spec = measure.of
    for record in records:
        if isinstance(spec, DurationValue):
            value = duration(ctx.index.get(record, spec.start), ctx.index.get(record, spec.end),
                             spec.unit)
        else:
            raw = ctx.index.get(record, spec.field)
            value = None if raw is None else float(raw)
        if value is None:
            excluded += 1
        else:
            values.append(value)
    return values, excluded


def _statistic(kind: str, values: list[float], q: float = 50) -> float | None:
    if kind == "mean":
        return stats.mean(values)
    if kind == "median":
        return stats.median(values)
    return stats.percentile(values, q)


def evaluate_records(measure: Any, units: list[Any], ctx: EvalContext,
                     period: Period) -> Outcome:
    """Evaluate a record measure over the units placed in one period.

    Args:
        measure: the measure spec.
        units: records (pairs ``(record, related)`` for ``linked_duration``).
        ctx: evaluation context.
        period: the period (``flow_efficiency`` and snapshots need no more than the units).

    Returns:
        The outcome.
    """
    kind = measure.kind
    min_sample = 0 if kind in NO_MINIMUM_KINDS else stats.MIN_SAMPLE
    get = ctx.index.get
    if kind == "count":
        return Outcome(float(len(units)), len(units), min_sample=0)
    if kind == "sum":
        return Outcome(math.fsum(float(get(r, measure.field) or 0.0) for r in units),
                       len(units), min_sample=0)
    if kind == "distinct_count":
        tz = ctx.param("reporting_timezone") or "UTC"
        seen = set()
        for record in units:
            value = get(record, measure.field)
            if not is_empty(value):
                seen.add(local_date(value, tz) if measure.as_date else value)
        return Outcome(float(len(seen)), len(units), min_sample=0)
    if kind == "ratio":
        hit = compile_filters(measure.numerator, get, ctx.param, plain_attributes=True)
        hits = sum(1 for r in units if hit(r))
        return Outcome(stats.ratio_pct(hits, len(units)), len(units), min_sample=min_sample)
    if kind == "related_share":
        maps = [(rel, ctx.index.related_map(rel, ctx.params)) for rel in measure.related]
        hits = 0
        counted = compile_filters(measure.numerator, get, ctx.param, plain_attributes=True)
        for record in units:
            if not counted(record):
                continue
            if any(_is_related(get(record, rel.key), mapping) for rel, mapping in maps):
                hits += 1
        return Outcome(stats.ratio_pct(hits, len(units)), len(units))
    if kind in ("mean", "median", "percentile"):
        values, excluded = _values(measure, units, ctx)
        value = _statistic(kind, values, getattr(measure, "q", 50))
        return Outcome(value, len(values), excluded)
    if kind == "linked_duration":
        values, excluded = [], 0
        for record, related in units:
            value = duration(get(record, measure.start), get(related, measure.end),
                             measure.unit)
            if value is None:
                excluded += 1
            else:
                values.append(value)
        return Outcome(_statistic(measure.stat, values), len(values), excluded)
    if kind == "repeat_share":
        return _repeat_share(units, ctx)
    if kind == "flow_efficiency":
        return _flow_efficiency(units, ctx)
    if kind in INTERVAL_KINDS:
        return evaluate_intervals(measure, units, ctx, period)
    if kind == "repeat_count":
        return evaluate_repeat_count(measure, units, ctx)
    raise ValueError(f"measure {kind} is not a record measure")


def _is_related(value: Any, mapping: dict[Any, list[Any]]) -> bool:
    if isinstance(value, (set, frozenset, tuple, list)):
        return any(v in mapping for v in value)
    return value is not None and value in mapping


class RepeatIndex:
    """Opening times of all non-canceled incidents by problem and by (ci, category)."""

    def __init__(self, index: DataIndex) -> None:
        by_problem: dict[str, list] = defaultdict(list)
        by_ci: dict[tuple[str, str | None], list] = defaultdict(list)
        for incident in index.data.incidents:
            if incident.state == "canceled" or incident.opened_at is None:
                continue
            if incident.problem:
                by_problem[incident.problem].append(incident.opened_at)
            if incident.ci:
                by_ci[(incident.ci, incident.category)].append(incident.opened_at)
        self.by_problem = {k: sorted(v) for k, v in by_problem.items()}
        self.by_ci = {k: sorted(v) for k, v in by_ci.items()}

    def is_repeat(self, incident: Any, window_days: int) -> bool:
        """Whether another incident of the same problem (or CI and category) opened before."""
        from datetime import timedelta

        if incident.opened_at is None:
            return False
        if incident.problem:
            times = self.by_problem.get(incident.problem, [])
        elif incident.ci:
            times = self.by_ci.get((incident.ci, incident.category), [])
        else:
            return False
        low = incident.opened_at - timedelta(days=window_days)
        return bisect.bisect_left(times, incident.opened_at) > bisect.bisect_left(times, low)


def _repeat_share(units: list[Any], ctx: EvalContext) -> Outcome:
    repeat = ctx.index.cache.get("repeat_index")
    if repeat is None:
        repeat = RepeatIndex(ctx.index)
        ctx.index.cache["repeat_index"] = repeat
    window = int(ctx.param("repeat_window_days") or 90)
    hits = sum(1 for incident in units if repeat.is_repeat(incident, window))
    return Outcome(stats.ratio_pct(hits, len(units)), len(units))


def _repeat_times(ctx: EvalContext, same: str) -> dict[Any, list[Any]]:
    """Timestamps of every record of the indicator's source passing its filters, by ``same``.

    Built once per (source, filters, field) over ALL scopes and periods: an outage in March
    repeats one in February.
    """
    spec = ctx.spec
    stamp = spec.period.timestamp
    key = ("repeat_count", spec.source, same, stamp,
           tuple(f.model_dump_json() for f in spec.filters),
           tuple(sorted((k, repr(ctx.param(k))) for k in param_refs(spec.filters))))
    found = ctx.index.cache.get(key)
    if found is None:
        get = ctx.index.get
        keep = compile_filters(spec.filters, get, ctx.param, plain_attributes=True)
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for record in ctx.index.all_records(spec.source):
            value, moment = get(record, same), get(record, stamp)
            if not is_empty(value) and moment is not None and keep(record):
                grouped[value].append(moment)
        found = ctx.index.cache[key] = {k: sorted(v) for k, v in grouped.items()}
    return found


def evaluate_repeat_count(measure: Any, units: list[Any], ctx: EvalContext) -> Outcome:
    """Records of the period repeating an earlier one: ``repeat_count`` (a count).

    A record repeats when another with the same ``measure.same`` value has a timestamp
    strictly earlier and at most ``repeat_window_days`` earlier.
    """
    times = _repeat_times(ctx, measure.same)
    window = timedelta(days=int(ctx.param("repeat_window_days") or 90))
    get, stamp = ctx.index.get, ctx.spec.period.timestamp
    hits = 0
    for record in units:
        value, moment = get(record, measure.same), get(record, stamp)
        if is_empty(value) or moment is None:
            continue
        earlier = times.get(value, [])
        if bisect.bisect_left(earlier, moment) > bisect.bisect_left(earlier, moment - window):
            hits += 1
    return Outcome(float(hits), len(units), min_sample=0)


def evaluate_intervals(measure: Any, units: list[Any], ctx: EvalContext,
                       period: Period) -> Outcome:
    """``availability``, ``downtime`` or ``mtbf`` over the intervals placed in a period.

    Measured as of the start of the run's hour, as ages are: an open outage or the month
    to date then gives the same value to every rerun within the hour (nothing to rewrite).
    """
    now = ctx.index.as_of
    intervals, excluded = build_intervals(units, ctx.index.get, ctx.spec.period.timestamp,
                                          ctx.spec.period.until, now)
    window = build_window(intervals, period, now, excluded)
    if measure.kind == "availability":
        return Outcome(availability_pct(window), len(window.overlapping), excluded,
                       min_sample=0)
    if measure.kind == "downtime":
        return Outcome(downtime(window, measure.unit), len(window.overlapping), excluded,
                       min_sample=0)
    value = mtbf(window, measure.unit)
    flags = {"no_failures": True} if value is None else {}
    return Outcome(value, window.starts, excluded, flags, min_sample=0)


def active_seconds(item: Any, wait_statuses: set[str]) -> float:
    """Seconds between started_at and done_at in the indeterminate category, not waiting."""
    start, end = item.started_at, item.done_at
    history = item.status_history
    category = history[0].from_category if history else item.status_category
    status: str | None = None
    cursor = start
    segments = []
    for change in history:
        if change.at > cursor:
            segment_end = min(change.at, end)
            if segment_end > cursor and category == "indeterminate" and \
                    status not in wait_statuses:
                segments.append((segment_end - cursor).total_seconds())
            cursor = max(cursor, segment_end)
        category, status = change.to_category, change.to_status_name
        if cursor >= end:
            break
    if cursor < end and category == "indeterminate" and status not in wait_statuses:
        segments.append((end - cursor).total_seconds())
    return math.fsum(segments)  # exact: the same whatever the order of the segments


def _flow_efficiency(units: list[Any], ctx: EvalContext) -> Outcome:
    waits = set(ctx.param("wait_statuses") or ())
    if not waits:
        return Outcome(None, 0, flags={"off": "wait_statuses is empty"})
    active, elapsed = [], []
    excluded = 0
    for item in units:
        if item.started_at is None or item.done_at is None or item.done_at < item.started_at:
            excluded += 1
            continue
        active.append(active_seconds(item, waits))
        elapsed.append((item.done_at - item.started_at).total_seconds())
    return Outcome(flow_ratio(active, elapsed), len(active), excluded)


def flow_ratio(active: list[float], elapsed: list[float]) -> float | None:
    """Active over elapsed seconds in % (exact sums: the same in any order)."""
    return stats.ratio_pct(math.fsum(active), math.fsum(elapsed))


def evaluate_sprint(measure: Any, sets: SprintSets) -> Outcome:
    """Evaluate a sprint measure (``sprint_sum`` or ``sprint_ratio``) over one sprint's sets.

    Measures that touch C or A have no data without an accepted commitment source.
    """
    flags = {k: v for k, v in sets.flags.items() if v is not None}
    aggregates = [measure.of] if measure.kind == "sprint_sum" else \
        [measure.numerator, measure.denominator]
    uses_commitment = any(name in ("C", "A") for agg in aggregates for name in agg.sets)
    if measure.kind == "sprint_ratio" and measure.n_set in ("C", "A"):
        uses_commitment = True
    if uses_commitment and not sets.has_commitment:
        return Outcome(None, 0, flags={**flags, "no_commitment": True})
    if measure.kind == "sprint_sum":
        total, count = aggregate(sets, measure.of.sets, measure.of.value)
        return Outcome(total, count, flags=flags, min_sample=0)
    top, _ = aggregate(sets, measure.numerator.sets, measure.numerator.value)
    bottom, _ = aggregate(sets, measure.denominator.sets, measure.denominator.value)
    n = len(sets.members(measure.n_set))
    value = stats.ratio_pct(top, bottom) if n else None
    return Outcome(value, n, flags=flags)


def evaluate_goal_share(sprints: list[Any], last: int, period: Period) -> Outcome:
    """Share of the last ``last`` closed sprints (complete < period end) with a goal."""
    considered = [s for s in sprints if s.complete < period.end][-last:]
    with_goal = sum(1 for s in considered if not is_empty(s.goal))
    return Outcome(stats.ratio_pct(with_goal, len(considered)), len(considered))
