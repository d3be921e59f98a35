"""IndicatorResult round-trips through to_dict/from_dict and has a stable key."""

import json
from datetime import UTC, datetime

from fiveo_sync.engine.result import IndicatorResult


def _result(**over):
    base = dict(
        indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
        view="service", scope_type="service", scope="payments", breakdown="all",
        period="2025-03", period_kind="month",
        period_start=datetime(2025, 3, 1, tzinfo=UTC), period_end=datetime(2025, 4, 1, tzinfo=UTC),
        value=9.0, unit="h", n=4, excluded=0, target="≤ 24", target_low=None, target_high=24.0,
        direction="down", status="met", baseline=None, trend="none", delta=None,
        sources=("servicenow",), flags={"approximate": False}, snapshot=False,
    )
    base.update(over)
    return IndicatorResult(**base)


def test_key_names_indicator_scope_breakdown_period():
    assert _result().key == "fiveo:operate.mttr:service:payments:all:2025-03"


def test_to_dict_is_json_and_round_trips():
    result = _result()
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["period_start"] == "2025-03-01T00:00:00Z"
    assert payload["sources"] == ["servicenow"]
    assert IndicatorResult.from_dict(payload) == result
