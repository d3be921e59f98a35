"""Security classification, suppliers on incidents and work-item satisfaction."""

from __future__ import annotations

import pytest

from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import UnreadableValue, read_jira_rating

from .mapping_fixtures import shipped_portfolio, shipped_sources

VENDOR, OWN, NORTHWIND = "a" * 32, "b" * 32, "c" * 32
GROUPS = [{"sys_id": VENDOR, "name": "Payments L2", "vendors": NORTHWIND},
          {"sys_id": OWN, "name": "Email L2", "vendors": ""}]
COMPANIES = [{"sys_id": NORTHWIND, "name": "Northwind Hosting", "vendor": "true"}]
SATISFACTION_FIELD = {"id": "customfield_10037", "name": "Satisfaction", "custom": True,
                      "schema": {"type": "sd-feedback", "customId": 10037,
                                 "custom": "com.atlassian.servicedesk:sd-request-feedback"}}


def incident(n: int, **values: object) -> dict:
    return {"sys_id": f"{n:032d}", "number": f"INC{n:07d}", "state": "2",
            "category": "software", **values}


def sn(**streams: list[dict]):
    raw = {("servicenow", name): rows for name, rows in streams.items()}
    return normalise(shipped_sources(), shipped_portfolio(), raw)


def issue(key: str, **fields: object) -> dict:
    return {"id": "1", "key": key, "fields": {
        "project": {"key": key.split("-")[0]}, "issuetype": {"name": "Story"},
        "status": {"name": "Done", "statusCategory": {"key": "done"}}, "labels": [],
        **fields}}


def jira(*issues: dict, field_list: list[dict] | None = None):
    raw = {("jira", "issue"): list(issues),
           ("jira", "field"): [SATISFACTION_FIELD] if field_list is None else field_list}
    return normalise(shipped_sources(), shipped_portfolio(), raw)


def test_incidents_of_the_security_category_are_security_incidents() -> None:
    data = sn(incident=[incident(1, category="security"), incident(2),
                        incident(3, category=""),
                        incident(4, category={"value": "security",
                                              "display_value": "Security"})])
    assert [i.security for i in data.incidents] == [True, False, False, True]


def test_an_incident_takes_the_vendor_staffing_its_assignment_group() -> None:
    data = sn(sys_user_group=GROUPS, core_company=COMPANIES, incident=[
        incident(1, assignment_group=VENDOR),
        incident(2, assignment_group={"value": VENDOR, "link": "https://x/api"}),
        incident(3, assignment_group=OWN), incident(4), incident(5, assignment_group="d" * 32)])
    assert [(i.assignment_group, i.supplier) for i in data.incidents] == [
        ("Payments L2", "Northwind Hosting"), ("Payments L2", "Northwind Hosting"),
        ("Email L2", None), (None, None), ("d" * 32, None)]


def test_a_company_not_marked_vendor_is_no_supplier() -> None:
    data = sn(sys_user_group=GROUPS,
              core_company=[{"sys_id": NORTHWIND, "name": "Northwind", "vendor": "false"}],
              incident=[incident(1, assignment_group=VENDOR)])
    assert data.incidents[0].supplier is None


def test_work_items_are_security_by_label_issue_type_or_security_level() -> None:
    level = {"self": "https://x/rest/api/2/securitylevel/10000", "id": "10000",
             "name": "Security team", "description": "Only the security team"}
    data = jira(issue("PAY-1", labels=["security", "backend"]),
                issue("PAY-2", issuetype={"name": "Vulnerability"}),
                issue("PAY-3", security=level), issue("PAY-4", security=None),
                issue("PAY-5", labels=["securityish"], issuetype={"name": "Bug"}))
    assert [w.security for w in data.work_items] == [True, True, True, False, False]


def test_satisfaction_is_read_from_the_feedback_field_object() -> None:
    data = jira(issue("PAY-1", customfield_10037={
                    "self": "https://x/rest/servicedeskapi/request/10001/feedback",
                    "rating": 4}),
                issue("PAY-2", customfield_10037=None), issue("PAY-3"),
                issue("PAY-4", customfield_10037=1))
    assert [w.satisfaction for w in data.work_items] == [4.0, None, None, 1.0]


def test_satisfaction_field_found_by_name_without_the_plugin_schema() -> None:
    data = jira(issue("PAY-1", customfield_10200={"rating": 5}),
                field_list=[{"id": "customfield_10200", "name": "Satisfaction"}])
    assert data.work_items[0].satisfaction == 5.0


def test_without_a_satisfaction_field_every_rating_is_none() -> None:
    data = jira(issue("PAY-1", customfield_10037={"rating": 4}), field_list=[])
    assert data.work_items[0].satisfaction is None


def test_a_malformed_rating_skips_the_work_item() -> None:
    data = jira(issue("PAY-1", customfield_10037={"rating": "great"}),
                issue("PAY-2", customfield_10037={"rating": 9}),
                issue("PAY-3", customfield_10037={"rating": 3}))
    assert [w.key for w in data.work_items] == ["PAY-3"]
    assert data.skipped == {"work_item": {"unparsable satisfaction": 2}}


@pytest.mark.parametrize("value", [0, 5.5, "x", [4], True])
def test_ratings_outside_one_to_five_are_unreadable(value: object) -> None:
    with pytest.raises(UnreadableValue):
        read_jira_rating(value)
