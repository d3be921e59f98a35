"""Which periods an indicator is computed for, and which units fall in each (§2.2).

Event indicators are recomputed for the current period and every period that ended less
than ``restatement_days`` before ``now``; older periods are final and computed only when the
history lacks them (a first run backfills). Snapshot indicators exist for the current
period only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fiveo_sync.engine.periods import Period, period_of, previous, sprint_period


class PeriodCache:
    """Memoised month/week/quarter look-ups: records share few periods, so convert once per day."""

    def __init__(self, kind: str, tz: str) -> None:
        self.kind = kind
        self.tz = tz or "UTC"
        self._zone = ZoneInfo(self.tz)
        self._utc = self.tz == "UTC"
        self._by_day: dict[tuple[int, int, int], Period] = {}

    def of(self, moment: datetime) -> Period:
        """The period containing ``moment``."""
        # Canonical date-times are UTC already: reporting in UTC needs no conversion.
        local = moment if self._utc and moment.tzinfo is UTC else moment.astimezone(self._zone)
        day = (local.year, local.month, local.day)
        found = self._by_day.get(day)
        if found is None:
            found = period_of(self.kind, moment, self.tz)
            self._by_day[day] = found
        return found


def window_periods(kind: str, now: datetime, tz: str, restatement_days: int) -> list[Period]:
    """The current period and those that ended less than ``restatement_days`` before now."""
    horizon = now - timedelta(days=restatement_days)
    current = period_of(kind, now, tz)
    out = [current]
    while True:
        before = previous(out[-1], tz)
        if before.end <= horizon:
            break
        out.append(before)
    return sorted(out)


def place_units(units: list[tuple[Any, datetime | None]], cache: PeriodCache,
                now: datetime) -> dict[str, tuple[Period, list[Any]]]:
    """Group ``(unit, placing timestamp)`` pairs by period, dropping empty or future ones."""
    grouped: dict[str, tuple[Period, list[Any]]] = {}
    for unit, moment in units:
        if moment is None or moment > now:
            continue
        period = cache.of(moment)
        slot = grouped.get(period.id)
        if slot is None:
            slot = (period, [])
            grouped[period.id] = slot
        slot[1].append(unit)
    return grouped


def place_intervals(units: list[tuple[Any, datetime | None, datetime | None]],
                    cache: PeriodCache, now: datetime) -> dict[str, tuple[Period, list[Any]]]:
    """Group ``(unit, begin, until)`` by every period ``[begin, until)`` overlaps.

    ``placement: overlap``: an outage spanning two months belongs to both; an open one
    (``until`` empty) lasts up to ``now``. Intervals beginning in the future are dropped;
    one ending before it begins goes to its beginning's period only, where the measure
    counts it as excluded.
    """
    grouped: dict[str, tuple[Period, list[Any]]] = {}
    for unit, begin, until in units:
        if begin is None or begin > now:
            continue
        last = now if until is None else min(until, now)
        period = cache.of(begin)
        while True:
            slot = grouped.get(period.id)
            if slot is None:
                slot = grouped[period.id] = (period, [])
            slot[1].append(unit)
            if period.end >= last:
                break
            period = cache.of(period.end)  # the next period begins where this one ends
    return grouped


def sprint_periods(sprints: list[Any]) -> list[tuple[Period, Any]]:
    """``(period, sprint)`` of closed sprints, ordered by complete."""
    return [(sprint_period(s.id, s.start, s.complete), s) for s in sprints]


def choose(candidates: list[Period], window: set[str], final_done: set[str]) -> list[Period]:
    """Periods to compute: those in the window, and older ones history does not hold yet."""
    chosen = {p.id: p for p in candidates if p.id in window or p.id not in final_done}
    return sorted(chosen.values())


def group_by_sprint(units: list[tuple[Any, set[int]]]) -> dict[int, list[Any]]:
    """Group units by each sprint id they are placed in (a change in several sprints)."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for unit, sprint_ids in units:
        for sprint_id in sprint_ids:
            grouped[sprint_id].append(unit)
    return grouped
