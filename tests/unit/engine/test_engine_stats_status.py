"""§2.6 statistics and the §5.5 status and trend boundary tables."""

import statistics

import pytest

from fiveo_sync.engine.stats import mean, median, percentile, ratio_pct
from fiveo_sync.engine.status import Bounds, baseline_of, status_of, trend_of

MTTR = [48, 2.5, 12, 3.5, 18, 6]


def test_median_is_type7_not_the_lower_median():
    assert median(MTTR) == 9.0
    assert median(MTTR) != 6.0  # the "lower median" of some dashboards


def test_percentiles_of_the_mttr_sample():
    assert percentile(MTTR, 85) == pytest.approx(25.5)
    assert percentile(MTTR, 95) == pytest.approx(40.5)
    assert percentile(MTTR, 0) == 2.5 and percentile(MTTR, 100) == 48


def test_percentile_equals_python_inclusive_quantiles():
    cuts = statistics.quantiles(MTTR, n=20, method="inclusive")
    assert percentile(MTTR, 85) == pytest.approx(cuts[16])


def test_empty_and_degenerate_samples():
    assert median([]) is None and mean([]) is None
    assert median([3.5]) == 3.5
    assert ratio_pct(1, 0) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@pytest.mark.parametrize(("value", "expected"), [
    (95.0, "met"), (90.0, "at_risk"), (85.5, "at_risk"), (85.4, "missed")])
def test_status_up_95(value, expected):
    assert status_of(value, 10, "up", Bounds(95, None)) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (24.0, "met"), (26.4, "at_risk"), (26.5, "missed")])
def test_status_down_24(value, expected):
    assert status_of(value, 10, "down", Bounds(None, 24)) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (72.0, "at_risk"), (110.0, "at_risk"), (110.1, "missed"), (71.9, "missed"), (90, "met")])
def test_status_band_80_100(value, expected):
    assert status_of(value, 10, "band", Bounds(80, 100)) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, "met"), (1, "missed")])
def test_status_down_zero_with_zero_tolerance(value, expected):
    assert status_of(value, 0, "down", Bounds(None, 0, tolerance=0), min_sample=0) == expected


def test_status_order_no_data_then_insufficient():
    assert status_of(None, 0, "up", Bounds(95, None)) == "no_data"
    assert status_of(50.0, 4, "up", Bounds(95, None)) == "insufficient_data"
    assert status_of(50.0, 9, "up", None) == "insufficient_data"  # relative, no baseline


def _prev(*values):
    return [(v, "met") for v in values]


@pytest.mark.parametrize(("direction", "previous", "base", "value", "trend", "low", "high"), [
    ("down", (10, 8, 12), 10, 10.5, "stable", None, 24),
    ("up", (90, 95, 80), 90, 85, "worsening", 95, None),
    ("band", (60, 70, 75), 70, 78, "improving", 80, 100),
    ("up", (0, 0, 0), 0, 0, "stable", 95, None),
    ("down", (10, 8, 12), 10, 9.0, "improving", None, 24),
    ("down", (10, 8, 12), 10, 9.6, "stable", None, 24),
])
def test_trend_boundaries(direction, previous, base, value, trend, low, high):
    baseline = baseline_of(_prev(*previous))
    assert baseline == base
    got, delta = trend_of(value, "met", baseline, direction, low, high)
    assert got == trend
    assert delta == pytest.approx(value - base)


def test_baseline_needs_three_usable_periods_within_six():
    assert baseline_of([(1.0, "met"), (2.0, "insufficient_data"), (3.0, "met")]) is None
    seven = [(None, "no_data")] * 4 + _prev(5, 6, 7)
    assert baseline_of(seven) is None  # the third usable one is 7 periods back
    assert baseline_of([(None, "no_data")] * 3 + _prev(5, 6, 7)) == 6


def test_b_zero_uses_sign():
    assert trend_of(2.0, "met", 0.0, "up")[0] == "improving"
    assert trend_of(2.0, "met", 0.0, "down")[0] == "worsening"
    assert trend_of(5.0, "insufficient_data", 4.0, "up") == ("none", None)
