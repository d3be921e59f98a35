"""Status against target (indicators.md §2.7) and trend against a baseline (§2.8).

Values are compared unrounded. A relative target (``×B``) resolves its bounds from the
baseline; without a baseline the status is ``insufficient_data``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fiveo_sync.engine.stats import MIN_SAMPLE, median

STABLE_BAND = 0.05
"""``|r| ≤ 5 %`` is stable, inclusive (fixed, not configurable)."""

BASELINE_PERIODS = 3
"""The baseline is the median of this many usable preceding periods (fixed)."""

BASELINE_LOOKBACK = 6
"""At most this many preceding periods are searched for usable values (fixed)."""

USABLE = frozenset({"met", "at_risk", "missed"})

BASELINE_ONLY = "baseline_only"
"""Series marker for a value with a sufficient sample whose status is ``insufficient_data``
only because its relative target had no baseline yet: such values may form a baseline,
otherwise a relative target (``×B``) could never get its first one."""

@dataclass(frozen=True)
class Bounds:
    """Resolved numeric target bounds; None is an open side."""

    low: float | None
    high: float | None
    tolerance_pct: float = 10.0
    tolerance: float | None = None

    def _tol(self, bound: float) -> float:
        if self.tolerance is not None:
            return abs(self.tolerance)
        return abs(bound) * self.tolerance_pct / 100


def status_of(value: float | None, n: int, direction: str, bounds: Bounds | None,
              min_sample: int = MIN_SAMPLE) -> str:
    """Status of a value against its target, checked in the order of §2.7.

    Args:
        value: the unrounded value, or None.
        n: the sample size.
        direction: up|down|band.
        bounds: resolved bounds, or None when a relative target has no baseline.
        min_sample: 0 for counts and sums (no minimum), else 5.

    Returns:
        met|at_risk|missed|no_data|insufficient_data.
    """
    if value is None:
        return "no_data"
    if n < min_sample or bounds is None:
        return "insufficient_data"
    low, high = bounds.low, bounds.high
    if direction == "up":
        target = low if low is not None else high
        if value >= target:
            return "met"
        return "at_risk" if value >= target - bounds._tol(target) else "missed"
    if direction == "down":
        target = high if high is not None else low
        if value <= target:
            return "met"
        return "at_risk" if value <= target + bounds._tol(target) else "missed"
    if (low is None or value >= low) and (high is None or value <= high):
        return "met"
    if low is not None and low - bounds._tol(low) <= value < low:
        return "at_risk"
    if high is not None and high < value <= high + bounds._tol(high):
        return "at_risk"
    return "missed"


def baseline_of(preceding: list[tuple[float | None, str]]) -> float | None:
    """Baseline B from preceding periods, most recent first (§2.8).

    Args:
        preceding: ``(value, status)`` of up to the 6 preceding periods, most recent first;
            a period without a result is ``(None, "no_data")``.

    Returns:
        The median of the 3 most recent usable values, or None with fewer than 3.
    """
    usable = [v for v, s in preceding[:BASELINE_LOOKBACK]
              if (s in USABLE or s == BASELINE_ONLY) and v is not None]
    if len(usable) < BASELINE_PERIODS:
        return None
    return median(usable[:BASELINE_PERIODS])


def _distance(x: float, low: float | None, high: float | None) -> float:
    if low is not None and x < low:
        return low - x
    if high is not None and x > high:
        return x - high
    return 0.0


def trend_of(value: float | None, status: str, baseline: float | None, direction: str,
             low: float | None = None, high: float | None = None) -> tuple[str, float | None]:
    """Trend and delta of a value against its baseline (§2.8).

    Args:
        value: the current value.
        status: its status (a value that is not usable has no trend).
        baseline: B, or None.
        direction: up|down|band.
        low: band lower bound (band direction).
        high: band upper bound (band direction).

    Returns:
        ``(trend, delta)``; ``("none", None)`` without a usable value or baseline.
    """
    if value is None or baseline is None or status not in USABLE:
        return "none", None
    delta = value - baseline
    if baseline == 0:
        if value == 0:
            return "stable", delta
        sign = 1.0 if delta > 0 else -1.0
    else:
        r = delta / abs(baseline)
        if abs(r) <= STABLE_BAND:
            return "stable", delta
        sign = 1.0 if r > 0 else -1.0
    if direction == "up":
        return ("improving" if sign > 0 else "worsening"), delta
    if direction == "down":
        return ("improving" if sign < 0 else "worsening"), delta
    d_value, d_base = _distance(value, low, high), _distance(baseline, low, high)
    if d_value < d_base:
        return "improving", delta
    if d_value > d_base:
        return "worsening", delta
    return "stable", delta
