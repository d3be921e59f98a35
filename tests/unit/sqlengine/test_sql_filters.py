"""Filter operators in SQL compare loosely typed values as admins write them in YAML.

Counted: pay's incidents opened in January 2025 (i1, i2, i3, i4 and the canceled i6).
"""

from __future__ import annotations

import pytest

OPENED = {"kind": "month", "timestamp": "opened_at"}


@pytest.mark.parametrize(("filters", "count"), [
    ([], 5),
    ([{"op": "eq", "field": "priority", "value": "1"}], 3),  # text "1" equals the number 1
    ([{"op": "eq", "field": "priority", "value": True}], 3),  # as 1 == True in Python
    ([{"op": "in", "field": "priority", "values": [2, "3"]}], 2),
    ([{"op": "ne", "field": "state", "value": "canceled"}], 4),
    ([{"op": "eq", "field": "caused_by", "value": None}], 3),
    ([{"op": "gt", "field": "number", "value": "INC0003"}], 2),  # text order
    ([{"op": "lt", "field": "reopen_count", "value": "1"}], 2),  # empty never compares
    ([{"op": "missing", "field": "assignment_group"}], 4),  # blank text is empty
    ([{"op": "exists", "field": "assignment_group"}], 1),
    ([{"op": "matches", "field": "number", "pattern": "^INC000[12]"}], 2),
    ([{"op": "exists", "field": "jira_keys"}], 1),
    ([{"op": "missing", "field": "jira_keys"}], 4),
    ([{"op": "in", "field": "jira_keys", "values": ["PAY-1", "X-1"]}], 1),
    ([{"op": "not_in", "field": "jira_keys", "values": ["PAY-1"]}], 4),
    ([{"op": "any", "filters": [{"op": "eq", "field": "priority", "value": 3},
                                {"op": "eq", "field": "major", "value": True}]}], 2),
    ([{"op": "not", "filter": {"op": "eq", "field": "state", "value": "canceled"}}], 4),
    ([{"op": "all", "filters": [{"op": "ge", "field": "priority", "value": 2},
                                {"op": "le", "field": "priority", "value": "2.5"}]}], 1),
])
def test_filters_select_the_records_the_python_engine_selects(cells, filters, count):
    got = cells(source="incident", filters=filters, period=OPENED, measure={"kind": "count"})
    assert got[("pay", "all", "2025-01")] == (float(count), count, 0)


@pytest.mark.parametrize("filters", [
    [{"op": "gt", "field": "opened_at", "value": "2025-01-01"}],  # no order with a literal
    [{"op": "eq", "field": "number", "value": 1}],  # "INC0001" is not the number 1
    [{"op": "in", "field": "state", "values": []}],
])
def test_filters_that_select_nothing_leave_no_cell(cells, filters):
    got = cells(source="incident", filters=filters, period=OPENED, measure={"kind": "count"})
    assert ("pay", "all", "2025-01") not in got
    assert got[("pay", "all", "2025-03")] == (0.0, 0, 0)


@pytest.mark.parametrize(("params", "count"), [
    ({}, 1),  # bug_types defaults to [Bug]: PAY-1 (OPS-1 is another product's)
    ({"bug_types": ["Bug", "Story"]}, 2),
    ({"bug_types": []}, 0),
])
def test_parameters_resolve_filter_values(cells, params, count):
    got = cells(source="work_item", view="product", params=params,
                filters=[{"op": "in", "field": "type", "param": "bug_types"},
                         {"op": "not_in", "field": "resolution",
                          "param": "discarded_resolutions"}],
                period={"kind": "month", "timestamp": "created"}, measure={"kind": "count"})
    assert got.get(("pay-app", "all", "2025-01"), (0.0, 0, 0)) == (float(count), count, 0)


def test_task_fields_of_an_sla_read_its_incident(cells):
    got = cells(source="sla", filters=[{"op": "le", "field": "task.priority", "value": 1}],
                period={"kind": "month", "timestamp": "end_time"}, measure={"kind": "count"})
    assert got[("pay", "all", "2025-01")] == (1.0, 1, 0)
    assert ("mail", "all", "2025-01") not in got
