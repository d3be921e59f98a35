"""Cells without units: the outcome and minimum sample the Python engine's evaluate gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter

from fiveo_sync.engine.evaluate import EvalContext, evaluate_records
from fiveo_sync.engine.index import DataIndex
from fiveo_sync.engine.measures import Measure
from fiveo_sync.engine.periods import month_of
from fiveo_sync.engine.spec import merge_parameters
from fiveo_sync.records import CanonicalData

NOW = datetime(2025, 3, 20, 12, 34, tzinfo=UTC)
HOURS = {"kind": "duration", "start": "opened_at", "end": "resolved_at", "unit": "h"}
MEASURE = TypeAdapter(Measure)
CAUSED = {"source": "incident", "field": "caused_by", "key": "id"}


@pytest.mark.parametrize(("source", "measure", "empty", "min_sample"), [
    ("incident", {"kind": "count"}, (0.0, 0, 0), 0),
    ("incident", {"kind": "sum", "field": "reopen_count"}, (0.0, 0, 0), 0),
    ("change", {"kind": "distinct_count", "field": "work_end", "as_date": True}, (0.0, 0, 0),
     0),
    ("incident", {"kind": "ratio", "numerator": []}, (None, 0, 0), 5),
    ("change", {"kind": "related_share", "related": [CAUSED]}, (None, 0, 0), 5),
    ("incident", {"kind": "mean", "of": HOURS}, (None, 0, 0), 5),
    ("incident", {"kind": "median", "of": HOURS}, (None, 0, 0), 5),
    ("incident", {"kind": "percentile", "q": 85, "of": HOURS}, (None, 0, 0), 5),
    ("change", {"kind": "linked_duration", "related": CAUSED, "start": "work_end",
                "end": "resolved_at"}, (None, 0, 0), 5),
])
def test_empty_outcome_and_minimum_sample_match_evaluate(compile_spec, source, measure,
                                                        empty, min_sample):
    stamp = "closed_at" if source == "change" and measure["kind"] != "linked_duration" \
        else "resolved_at"
    compiled = compile_spec(source=source, measure=measure,
                            period={"kind": "month", "timestamp": stamp})
    assert compiled.aggregate.empty == empty
    assert compiled.aggregate.min_sample == min_sample
    engine = evaluate_records(MEASURE.validate_python(measure), [],
                              EvalContext(DataIndex(CanonicalData(), NOW), merge_parameters()),
                              month_of(NOW))
    assert (engine.value, engine.n, engine.excluded) == empty
    assert engine.min_sample == min_sample
