"""Spec models: closed vocabulary, bounded regexes, cross-check helpers."""

import pytest
from pydantic import ValidationError

from fiveo_sync.engine.filters import MatchesFilter
from fiveo_sync.engine.spec import IndicatorFileSpec, IndicatorSpec


def _indicator(**over):
    base = {
        "id": "operate.mttr", "name": "MTTR", "view": "service", "source": "incident",
        "filters": [{"op": "ne", "field": "state", "value": "canceled"}],
        "period": {"kind": "month", "timestamp": "resolved_at"},
        "measure": {"kind": "median",
                    "of": {"kind": "duration", "start": "opened_at", "end": "resolved_at"}},
        "unit": "h", "direction": "down", "target": {"kind": "max", "value": 24},
    }
    base.update(over)
    return base


def test_valid_indicator_and_field_refs():
    spec = IndicatorSpec.model_validate(_indicator())
    assert spec.field_refs() == {("incident", "state"), ("incident", "opened_at"),
                                 ("incident", "resolved_at")}
    assert spec.indicator_refs() == set()


def test_unknown_operator_is_rejected():
    with pytest.raises(ValidationError, match="equals"):
        IndicatorSpec.model_validate(_indicator(filters=[{"op": "equals", "field": "x"}]))


def test_unknown_key_is_rejected():
    with pytest.raises(ValidationError, match="extra"):
        IndicatorSpec.model_validate(_indicator(colour="red"))


def test_direction_and_target_kind_must_agree():
    with pytest.raises(ValidationError, match="direction down needs a target of kind max"):
        IndicatorSpec.model_validate(_indicator(target={"kind": "min", "value": 1}))


def test_event_indicator_needs_a_placing_timestamp():
    with pytest.raises(ValidationError, match="period.timestamp is required"):
        IndicatorSpec.model_validate(_indicator(period={"kind": "month"}))


@pytest.mark.parametrize("pattern", ["(a+)+$", r"(\w*)*x", "(x+x+)+y", r"(a|aa)\1*"])
def test_catastrophic_patterns_are_rejected(pattern):
    with pytest.raises(ValidationError):
        MatchesFilter.model_validate({"op": "matches", "field": "number", "pattern": pattern})


def test_file_ids_belong_to_the_o_and_are_unique():
    with pytest.raises(ValidationError, match="not in O observe"):
        IndicatorFileSpec.model_validate({"version": 1, "kind": "indicators", "o": "observe",
                                          "indicators": [_indicator()]})
    with pytest.raises(ValidationError, match="duplicate"):
        IndicatorFileSpec.model_validate({"version": 1, "kind": "indicators", "o": "operate",
                                          "indicators": [_indicator(), _indicator()]})


def test_derived_indicator_refs():
    spec = IndicatorSpec.model_validate(_indicator(
        id="operate.on_target", source="incident", filters=[], period={"kind": "month"},
        measure={"kind": "on_target_share", "indicators": ["operate.mttr"]}, unit="%",
        direction="up", target={"kind": "min", "value": 80}))
    assert spec.indicator_refs() == {"operate.mttr"}
