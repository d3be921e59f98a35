"""Result series (one indicator, scope and breakdown over periods) for baselines (§2.8).

The book starts from the stored history and takes each new result as it is computed, in
period order, so a backfilled or restated period feeds the trend of the periods after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from fiveo_sync.engine.periods import Period
from fiveo_sync.engine.result import IndicatorResult, parse_utc
from fiveo_sync.engine.status import BASELINE_LOOKBACK, BASELINE_ONLY, baseline_of

SeriesKey = tuple[str, str, str, str]


def previous_ids(period_id: str, kind: str, count: int) -> list[str]:
    """Ids of the ``count`` months, ISO weeks or quarters before ``period_id``, latest first."""
    out: list[str] = []
    if kind == "month":
        year, month = (int(x) for x in period_id.split("-"))
        for _ in range(count):
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            out.append(f"{year:04d}-{month:02d}")
    elif kind == "quarter":
        year, number = int(period_id[:4]), int(period_id[6:])
        for _ in range(count):
            year, number = (year, number - 1) if number > 1 else (year - 1, 4)
            out.append(f"{year:04d}-Q{number}")
    elif kind == "week":
        monday = datetime.strptime(period_id + "-1", "%G-W%V-%u").date()
        for step in range(1, count + 1):
            day: date = monday - timedelta(weeks=step)
            year, week, _ = day.isocalendar()
            out.append(f"{year}-W{week:02d}")
    return out


class SeriesBook:
    """Values and statuses per series and period, from history and this computation."""

    def __init__(self, history: Iterable[IndicatorResult | dict[str, Any]] = ()) -> None:
        self._series: dict[SeriesKey, dict[str, tuple[datetime, float | None, str]]] = {}
        self._sprints: dict[tuple[str, str, str], dict[str, datetime]] = {}
        for item in history:
            result = item if isinstance(item, IndicatorResult) else \
                IndicatorResult.from_dict(item)
            self.record(result)

    @staticmethod
    def _key(indicator: str, scope: Any, breakdown: str) -> SeriesKey:
        return (indicator, scope.scope_type, scope.id, breakdown)

    @classmethod
    def from_points(cls, points: Iterable[tuple[Any, ...]]) -> SeriesBook:
        """A book from stored results' series points (``StateStore.iter_series_points``).

        Each point is ``(indicator, scope_type, scope, breakdown, period, period_end text,
        value JSON text, status, no_baseline 0/1)``: the parts of a result a book keeps,
        so history is read without rebuilding every result.
        """
        book = cls()
        for indicator, scope_type, scope, breakdown, period, end, value, status, bare in points:
            number = None if value is None or value == "null" else float(value)
            book._add((indicator, scope_type, scope, breakdown), period, parse_utc(end),
                      number, BASELINE_ONLY if bare else status)
        return book

    def record(self, result: IndicatorResult) -> None:
        """Remember a result (a later one for the same period replaces the earlier)."""
        status = BASELINE_ONLY if result.flags.get("no_baseline") else result.status
        self._add((result.indicator, result.scope_type, result.scope, result.breakdown),
                  result.period, result.period_end, result.value, status)

    def _add(self, key: SeriesKey, period: str, end: datetime, value: float | None,
             status: str) -> None:
        self._series.setdefault(key, {})[period] = (end, value, status)

    def has(self, indicator: str, scope: Any, breakdown: str, period_id: str) -> bool:
        """Whether a result for this series and period is already known."""
        return period_id in self._series.get(self._key(indicator, scope, breakdown), {})

    def periods_done(self, indicator: str, scope_type: str) -> set[tuple[str, str]]:
        """``(scope id, period id)`` of every period an indicator's ``all`` series holds."""
        return {(scope, pid) for (ind, kind, scope, breakdown), series in self._series.items()
                if ind == indicator and kind == scope_type and breakdown == "all"
                for pid in series}

    def value(self, indicator: str, scope: Any, breakdown: str,
              period_id: str) -> tuple[float | None, str] | None:
        """``(value, status)`` of one period of a series, or None."""
        found = self._series.get(self._key(indicator, scope, breakdown), {}).get(period_id)
        return None if found is None else (found[1], found[2])

    def register_sprints(self, indicator: str, scope: Any, periods: list[Period]) -> None:
        """Make the scope's closed sprints known, so missing sprints count as periods."""
        slot = self._sprints.setdefault((indicator, scope.scope_type, scope.id), {})
        for period in periods:
            slot[period.id] = period.end

    def preceding(self, indicator: str, scope: Any, breakdown: str,
                  period: Period) -> list[tuple[float | None, str]]:
        """``(value, status)`` of the up to 6 preceding periods, most recent first."""
        series = self._series.get(self._key(indicator, scope, breakdown), {})
        if period.kind == "sprint":
            ends = dict(self._sprints.get((indicator, scope.scope_type, scope.id), {}))
            ends.update({pid: v[0] for pid, v in series.items() if pid.startswith("sprint-")})
            earlier = sorted((end, pid) for pid, end in ends.items()
                             if end < period.end and pid != period.id)
            ids = [pid for _, pid in reversed(earlier)][:BASELINE_LOOKBACK]
        else:
            ids = previous_ids(period.id, period.kind, BASELINE_LOOKBACK)
        out = []
        for pid in ids:
            found = series.get(pid)
            out.append((None, "no_data") if found is None else (found[1], found[2]))
        return out

    def baseline(self, indicator: str, scope: Any, breakdown: str,
                 period: Period) -> float | None:
        """Baseline B of a period (§2.8), or None."""
        return baseline_of(self.preceding(indicator, scope, breakdown, period))
