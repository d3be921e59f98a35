"""Cells without units: their outcome and minimum sample (indicators.md §2.6).

Counts, sums and distinct counts of nothing are 0 and need no sample; a ratio, share or
statistic of nothing has no value and needs the minimum sample of 5.
"""

from __future__ import annotations

import pytest

HOURS = {"kind": "duration", "start": "opened_at", "end": "resolved_at", "unit": "h"}
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
    ("outage", {"kind": "repeat_count", "same": "service"}, (0.0, 0, 0), 0),
])
def test_empty_outcome_and_minimum_sample(compile_spec, source, measure, empty, min_sample):
    stamp = {"change": "closed_at", "outage": "begin"}.get(source, "resolved_at")
    if measure["kind"] == "linked_duration":
        stamp = "resolved_at"
    compiled = compile_spec(source=source, measure=measure,
                            period={"kind": "month", "timestamp": stamp})
    assert compiled.aggregate.empty == empty
    assert compiled.aggregate.min_sample == min_sample
