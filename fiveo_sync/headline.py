"""Complete periods first: which result of a series leads a view, and which is partial.

The rule (``docs/owner-views.md``), applied by every view and writer:

- a result is **complete** when its period has ended: ``period_end <= now`` (a calendar
  month, ISO week or calendar quarter that is over; a sprint that is closed — the engine
  gives an active sprint no result, and one that ends after ``now`` counts as partial);
- the **headline** of a series is its latest complete result, with that result's status
  against the target;
- the **partial** result is the current period to date (``period_start <= now <
  period_end``); it is shown beside the headline, marked partial, and never decides the
  headline status;
- a series with no complete period yet has no headline: it shows only its partial result.

Snapshot indicators (the state at ``now``, e.g. the age of open incidents) follow the same
rule: the snapshot of the current period is partial until the period ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fiveo_sync.engine.result import IndicatorResult

COMPLETE = "complete"
PARTIAL = "partial"


def period_state(result: IndicatorResult, now: datetime) -> str:
    """``complete`` when the result's period has ended at ``now``, else ``partial``."""
    return COMPLETE if result.period_end <= now else PARTIAL


@dataclass(frozen=True)
class Headline:
    """The two results of one series that an owner sees.

    Attributes:
        headline: the latest complete period's result, or None when no period is over yet.
        partial: the current period to date, or None when it has no result (yet).
    """

    headline: IndicatorResult | None
    partial: IndicatorResult | None

    @property
    def lead(self) -> IndicatorResult | None:
        """The result that names the row: the headline, else the partial one."""
        return self.headline or self.partial


def split_series(items: Iterable[IndicatorResult], now: datetime) -> Headline:
    """Apply the complete-periods-first rule to the results of one series.

    Args:
        items: the series' results, any order (several periods of one ``series_key``).
        now: the moment the view is made, aware UTC.

    Returns:
        The headline (latest complete period) and the partial (current period to date).
        Results of periods that start after ``now`` are ignored.
    """
    headline: IndicatorResult | None = None
    partial: IndicatorResult | None = None
    for result in items:
        if result.period_end <= now:
            if headline is None or result.period_end > headline.period_end:
                headline = result
        elif result.period_start <= now and (
                partial is None or result.period_start > partial.period_start):
            partial = result
    return Headline(headline, partial)
