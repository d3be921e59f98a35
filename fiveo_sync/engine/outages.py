"""Interval maths of the outage measures: availability, downtime and MTBF (issue 15).

A record placed by ``placement: overlap`` stands for the interval ``[timestamp, until)``;
an empty ``until`` means still open, so the interval lasts up to the run clock ``now``. Every
measure looks only at the *elapsed* part of its period, ``[period.start, min(period.end,
now))``, so the current month counts the time that has passed and no more. Overlapping
intervals are merged before they are measured: two outages of the same hour are one hour
of downtime, not two.

An interval whose end lies before its beginning is a data error: it is left out of the
maths and counted in ``excluded``. A record without a beginning is never placed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fiveo_sync.engine.measures import UNIT_SECONDS
from fiveo_sync.engine.periods import Period


@dataclass(frozen=True)
class Interval:
    """One record's half-open interval ``[start, end)``, aware UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Window:
    """The part of a period the measures look at, with the intervals touching it.

    Attributes:
        start: the period start.
        end: ``min(period.end, now)``.
        overlapping: valid intervals meeting the window (a zero-length interval counts
            when its instant is inside), clipped to it.
        starts: how many of them begin inside the window (failures, for MTBF).
        excluded: intervals ending before they begin.
    """

    start: datetime
    end: datetime
    overlapping: tuple[Interval, ...]
    starts: int
    excluded: int

    @property
    def elapsed_s(self) -> float:
        """Seconds of the window (0 when the period has not started yet)."""
        return max(0.0, (self.end - self.start).total_seconds())


def build_intervals(records: Iterable[Any], get: Callable[[Any, str], Any], begin: str,
                    until: str | None, now: datetime) -> tuple[list[Interval], int]:
    """The intervals of some records, open ones closed at ``now``.

    Args:
        records: the records.
        get: reads a canonical field of a record.
        begin: the field where an interval begins.
        until: the field where it ends (empty value: still open).
        now: the run clock.

    Returns:
        ``(intervals, excluded)``: records without a beginning are skipped silently (they
        were never placed); those ending before they begin are counted in ``excluded``.
    """
    out: list[Interval] = []
    excluded = 0
    for record in records:
        start = get(record, begin)
        if start is None:
            continue
        end = get(record, until) if until else None
        if end is None:
            end = max(start, now)
        if end < start:
            excluded += 1
            continue
        out.append(Interval(start, end))
    return out, excluded


def build_window(intervals: Iterable[Interval], period: Period, now: datetime,
                 excluded: int = 0) -> Window:
    """Clip intervals to the elapsed part of a period."""
    low, high = period.start, min(period.end, now)
    kept: list[Interval] = []
    starts = 0
    for item in intervals:
        inside = low <= item.start < high
        if item.start == item.end:
            meets = inside
        else:
            meets = item.start < high and item.end > low
        if not meets:
            continue
        kept.append(Interval(max(item.start, low), min(item.end, high)))
        starts += inside
    return Window(low, high, tuple(kept), starts, excluded)


def union_seconds(intervals: Iterable[Interval]) -> float:
    """Length of the union of intervals in seconds (overlaps counted once)."""
    total = 0.0
    current: Interval | None = None
    for item in sorted(intervals, key=lambda i: (i.start, i.end)):
        if current is None or item.start > current.end:
            if current is not None:
                total += (current.end - current.start).total_seconds()
            current = item
        elif item.end > current.end:
            current = Interval(current.start, item.end)
    if current is not None:
        total += (current.end - current.start).total_seconds()
    return total


def availability_pct(window: Window) -> float | None:
    """``100 × (1 − union ÷ elapsed)``; None when no time has elapsed."""
    elapsed = window.elapsed_s
    if elapsed == 0:
        return None
    return 100.0 * (1.0 - union_seconds(window.overlapping) / elapsed)


def downtime(window: Window, unit: str) -> float:
    """The union of the intervals in a unit (``s``, ``min``, ``h``, ``d``)."""
    return union_seconds(window.overlapping) / UNIT_SECONDS[unit]


def mtbf(window: Window, unit: str) -> float | None:
    """Uptime per failure: ``(elapsed − union) ÷ failures`` in a unit; None without failures.

    Failures are the intervals beginning inside the window; one that began in an earlier
    period still takes its downtime out of this period's uptime.
    """
    if window.starts == 0:
        return None
    uptime = window.elapsed_s - union_seconds(window.overlapping)
    return uptime / window.starts / UNIT_SECONDS[unit]
