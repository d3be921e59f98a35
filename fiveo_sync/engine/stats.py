"""Statistics of indicators.md §2.6: one percentile method, arithmetic means.

The only percentile is linear interpolation between closest ranks (Hyndman–Fan type 7,
numpy's default ``method="linear"``, Python's ``statistics.quantiles(method="inclusive")``).
The median is its 50th percentile: never the "lower median" some dashboards show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_SAMPLE = 5
"""Below this many values a result is ``insufficient_data`` (fixed, not configurable)."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile by linear interpolation (type 7).

    Args:
        values: the sample, in any order.
        q: the percentile, 0–100.

    Returns:
        ``x[f] + (h − f)·(x[f+1] − x[f])`` with ``h = (n−1)·q/100``, ``f = ⌊h⌋``; None for an
        empty sample.

    Raises:
        ValueError: when q is outside 0–100.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    f = math.floor(h)
    if f >= len(ordered) - 1:
        return float(ordered[-1])
    return float(ordered[f] + (h - f) * (ordered[f + 1] - ordered[f]))


def median(values: Sequence[float]) -> float | None:
    """The median as the 50th percentile of :func:`percentile` (None for no values)."""
    return percentile(values, 50)


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean (None for no values)."""
    if not values:
        return None
    return math.fsum(values) / len(values)


def ratio_pct(numerator: float, denominator: float) -> float | None:
    """``numerator ÷ denominator`` on a 0–100 scale; None when the denominator is 0."""
    if denominator == 0:
        return None
    return 100.0 * numerator / denominator
