"""Periods of indicators.md §2.2: calendar months, ISO weeks, calendar quarters, closed sprints.

Month, week and quarter boundaries are midnight in the reporting time zone, returned as aware UTC.
``in(P, t)`` is ``P.start ≤ t < P.end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period; ordering is by start."""

    start: datetime
    end: datetime
    id: str
    kind: str

    def contains(self, moment: datetime | None) -> bool:
        """``in(P, t)``: start ≤ t < end (an empty timestamp is in no period)."""
        return moment is not None and self.start <= moment < self.end


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz or "UTC")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def month_of(moment: datetime, tz: str = "UTC") -> Period:
    """The calendar month containing ``moment`` in time zone ``tz``."""
    zone = _zone(tz)
    local = moment.astimezone(zone)
    first = date(local.year, local.month, 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(_midnight(first, zone), _midnight(nxt, zone), f"{first:%Y-%m}", "month")


def week_of(moment: datetime, tz: str = "UTC") -> Period:
    """The ISO week (Monday to Monday) containing ``moment`` in time zone ``tz``."""
    zone = _zone(tz)
    local = moment.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    year, week, _ = monday.isocalendar()
    return Period(_midnight(monday, zone), _midnight(monday + timedelta(days=7), zone),
                  f"{year}-W{week:02d}", "week")


def quarter_of(moment: datetime, tz: str = "UTC") -> Period:
    """The calendar quarter (``2026-Q3``: July to September) containing ``moment`` in ``tz``."""
    zone = _zone(tz)
    local = moment.astimezone(zone)
    number = (local.month - 1) // 3 + 1
    first = date(local.year, 3 * number - 2, 1)
    nxt = date(local.year + 1, 1, 1) if number == 4 else date(local.year, 3 * number + 1, 1)
    return Period(_midnight(first, zone), _midnight(nxt, zone), f"{local.year}-Q{number}",
                  "quarter")


def period_of(kind: str, moment: datetime, tz: str = "UTC") -> Period:
    """The month, week or quarter period containing ``moment``.

    Raises:
        ValueError: for the sprint kind (sprints are not derived from a moment).
    """
    if kind == "month":
        return month_of(moment, tz)
    if kind == "week":
        return week_of(moment, tz)
    if kind == "quarter":
        return quarter_of(moment, tz)
    raise ValueError(f"no calendar period of kind {kind!r}")


def previous(period: Period, tz: str = "UTC") -> Period:
    """The month, week or quarter just before ``period``."""
    return period_of(period.kind, period.start - timedelta(seconds=1), tz)


def sprint_period(sprint_id: int, start: datetime, complete: datetime) -> Period:
    """The period of a closed sprint: start → complete."""
    return Period(start, complete, f"sprint-{sprint_id}", "sprint")
