"""Improvement decisions as write plans for ServiceNow and Jira."""

from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.improvement import HeldItem, ImprovementItem, jira_label, plan_improvements
from fiveo_sync.writers.improvement import (
    build_jira_improvement_plan,
    build_servicenow_improvement_plan,
    description_lines,
)

SPEC = ImprovementSpec(version=1, kind="improvement")
KEY = "fiveo-improvement:operate.mttr:service:payments:all:2025-01"


def _item(**over) -> ImprovementItem:
    base = dict(action="create", key=KEY, platform="servicenow", reason="target missed",
                indicator="operate.mttr", name="MTTR", scope_type="service",
                scope="payments", breakdown="all", scope_name="Payments", target="≤ 24",
                title="Improve MTTR of Payments", digest="0123456789abcdef",
                periods=(("2025-01", "30 h", "missed", "https://sn.example/incident_list.do"),
                         ("2025-02", "31 h", "missed", "")),
                assignee="alice.martin", assignee_note="Owner: Alice Martin (alice.martin).")
    base.update(over)
    return ImprovementItem(**base)


def test_servicenow_create_carries_key_state_assignee_and_the_periods():
    (op,) = build_servicenow_improvement_plan([_item()], SPEC, {"alice.martin": "abc123"})
    assert (op.action, op.target, op.key) == ("create", "servicenow", KEY)
    assert op.fields["correlation_id"] == KEY and op.fields["state"] == "new"
    assert op.fields["assigned_to"] == "abc123"
    assert op.fields["description"].splitlines()[6:10] == [
        "Complete periods:",
        "- 2025-01: 30 h (missed) evidence: https://sn.example/incident_list.do",
        "- 2025-02: 31 h (missed)", ""]
    assert description_lines(_item())[-1].endswith("digest 0123456789abcdef")


def test_servicenow_resolve_closes_with_the_note_and_unknown_users_stay_unassigned():
    item = _item(action="resolve", ref="sys9", note="Target met again.")
    (op,) = build_servicenow_improvement_plan([item], SPEC, {})
    assert (op.action, op.ref) == ("update", "sys9")
    assert op.fields["state"] == "closed" and op.fields["close_notes"] == "Target met again."
    assert op.fields["assigned_to"] == "" and op.reason.startswith("resolve: ")
    (left,) = build_servicenow_improvement_plan([_item(action="leave", ref="s")], SPEC)
    assert left.action == "skip_unchanged" and not left.writes


def test_jira_ops_label_the_key_and_render_per_flavour():
    item = _item(platform="jira", project="PAY", assignee="acc-1")
    (op,) = build_jira_improvement_plan([item], SPEC, flavour="adf",
                                        assignees={"acc-1": {"accountId": "acc-1"}})
    assert op.fields["labels"] == ["fiveo-improvement", jira_label(KEY)]
    assert op.fields["project"] == "PAY" and op.fields["issue_type"] == "Task"
    assert op.fields["assignee"] == {"accountId": "acc-1"}
    assert op.fields["description"]["type"] == "doc"
    assert "digest 0123456789abcdef" in str(op.fields["description"])
    (wiki,) = build_jira_improvement_plan([item], SPEC, flavour="wiki")
    assert wiki.fields["assignee"] is None
    assert "[records|https://sn.example/incident_list.do]" in wiki.fields["description"]
    resolve = _item(platform="jira", project="PAY", action="resolve", ref="PAY-7", note="Met.")
    (op,) = build_jira_improvement_plan([resolve], SPEC, flavour="wiki")
    assert op.ref == "PAY-7" and op.fields["resolve_comment"] == "Met.\n"
    assert "status" in op.changed


def _product_result(month: int) -> IndicatorResult:
    return IndicatorResult(
        indicator="operate.mttr", name="MTTR", o="operate", view="product",
        scope_type="product", scope="web", breakdown="all", period=f"2025-{month:02d}",
        period_kind="month", period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC), value=30.0, unit="h", n=1,
        excluded=0, target="≤ 24", target_low=None, target_high=24.0, direction="down",
        status="missed", baseline=None, trend="none", delta=None, sources=("jira",))


def test_a_jira_item_is_found_by_its_label():
    now = datetime(2025, 3, 10, tzinfo=UTC)
    key = "fiveo-improvement:operate.mttr:product:web:all:2025-01"
    held = {jira_label(key): HeldItem(jira_label(key), "WEB-3", closed=True)}
    spec = SPEC.model_copy(update={"jira": SPEC.jira.model_copy(update={"project": "WEB"})})
    (item,) = plan_improvements([_product_result(1), _product_result(2)], spec, now, held)
    assert (item.action, item.ref, item.key) == ("leave", "WEB-3", key)
