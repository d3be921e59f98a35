"""Builders of hand-made indicator results for the writer tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fiveo_sync.engine.result import IndicatorResult

_MONTHS = {"2025-01": 1, "2025-02": 2, "2025-03": 3, "2025-04": 4}


def build_result(**overrides: Any) -> IndicatorResult:
    period = overrides.get("period", "2025-03")
    month = _MONTHS.get(period, 3)
    base: dict[str, Any] = dict(
        indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
        view="service", scope_type="service", scope="payments", breakdown="all",
        period=period, period_kind="month",
        period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC),
        value=12.345, unit="h", n=40, excluded=1, target="≤ 24", target_low=None,
        target_high=24.0, direction="down", status="met", baseline=14.0, trend="improving",
        delta=-1.655, sources=("servicenow",), flags={}, snapshot=False)
    base.update(overrides)
    return IndicatorResult(**base)


@pytest.fixture
def make_result():
    return build_result
