from __future__ import annotations

import json

import pytest

from fiveo_sync.writers.plan import Plan, WriteOp, render_table


def test_plan_sorts_by_target_key_and_action():
    ops = (WriteOp("update", "servicenow", "b", {"x": "1"}),
           WriteOp("create", "jira", "z", {}),
           WriteOp("create", "servicenow", "a", {}))
    plan = Plan(ops)
    assert [(op.target, op.key) for op in plan] == [("jira", "z"), ("servicenow", "a"),
                                                    ("servicenow", "b")]
    assert Plan(tuple(reversed(ops))) == plan


def test_write_op_is_frozen_including_its_fields():
    source = {"u_value": "1"}
    op = WriteOp("create", "servicenow", "k", source)
    source["u_value"] = "2"
    assert op.fields["u_value"] == "1"
    with pytest.raises(TypeError):
        op.fields["u_value"] = "3"  # type: ignore[index]
    with pytest.raises(AttributeError):
        op.action = "update"  # type: ignore[misc]


def test_unknown_action_or_target_is_refused():
    with pytest.raises(ValueError, match="action"):
        WriteOp("delete", "servicenow", "k")
    with pytest.raises(ValueError, match="target"):
        WriteOp("create", "slack", "k")


def test_counts_list_every_action():
    plan = Plan((WriteOp("skip_unchanged", "jira", "a"), WriteOp("mark", "servicenow", "b")))
    assert plan.counts() == {"create": 0, "update": 0, "skip_unchanged": 1, "mark": 1}
    assert plan.for_target("jira").counts()["mark"] == 0
    assert plan.targets == ("jira", "servicenow")


def test_table_shows_one_line_per_op_and_totals():
    plan = Plan((WriteOp("update", "servicenow", "fiveo:operate.mttr:service:pay:all:2025-03",
                         {"u_value": "3"}, reason="values changed",
                         changed=("u_value", "u_status")),
                 WriteOp("create", "jira", "payments-web", {}, reason="no scorecard\nin PAY")))
    text = render_table(plan)
    lines = text.splitlines()
    assert lines[0].split() == ["TARGET", "ACTION", "KEY", "CHANGED", "REASON"]
    assert "u_value,u_status" in lines[2]
    assert "no scorecard in PAY" in lines[1]
    assert lines[-1] == "total: 1 create, 1 update, 0 skip_unchanged, 0 mark"


def test_json_is_stable_and_complete():
    plan = Plan((WriteOp("create", "servicenow", "k", {"u_name": "Ünïcode"}, reason="new"),))
    text = plan.to_json()
    assert text.endswith("\n")
    data = json.loads(text)
    assert data["counts"]["create"] == 1
    assert data["ops"][0] == {"action": "create", "target": "servicenow", "key": "k",
                              "ref": "", "reason": "new", "changed": [],
                              "fields": {"u_name": "Ünïcode"}}
    assert plan.to_json() == text
