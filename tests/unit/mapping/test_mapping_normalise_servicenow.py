from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import read_servicenow_datetime
from fiveo_sync.records import Change, Incident, Problem

from .mapping_fixtures import (
    SERVICENOW,
    require_fixtures,
    servicenow_records,
    shipped_portfolio,
    shipped_sources,
)

# Every recorded ServiceNow file and the stream its records belong to. Files of other APIs
# (attachments, import sets) hold no canonical records; sc_task is checked field by field.
STREAM_OF_FILE = {
    "demisto-chg-create-standard-change-from-template.json": "change_request",
    "demisto-incident-list-display-value-all-with-links.json": "incident",
    "demisto-incident-list-with-reference-links.json": "incident",
    "demisto-incident-single-sanitized.json": "incident",
    "demisto-sc-task-list-display-value-all-no-links.json": None,
    "docs-attachment-get-list.json": None,
    "docs-attachment-get.json": None,
    "docs-attachment-post-file.json": None,
    "docs-attachment-post-upload.json": None,
    "docs-chg-get-change-list.json": "change_request",
    "docs-chg-get-change.json": "change_request",
    "docs-importset-get-imp-user.json": None,
    "docs-importset-post-imp-user.json": None,
    "docs-table-get-incident.json": "incident",
    "docs-table-get-problem-list.json": "problem",
    "docs-table-patch-incident.json": "incident",
    "docs-table-post-incident.json": "incident",
}
CANONICAL = {"incident": ("incidents", Incident), "change_request": ("changes", Change),
             "problem": ("problems", Problem)}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def run(stream, records):
    return normalise(shipped_sources(), shipped_portfolio(), {("servicenow", stream): records})


def test_every_recorded_file_is_classified():
    require_fixtures()
    assert sorted(p.name for p in SERVICENOW.glob("*.json")) == sorted(STREAM_OF_FILE)


@pytest.mark.parametrize("name", sorted(n for n, s in STREAM_OF_FILE.items() if s))
def test_every_record_becomes_a_typed_canonical_record(name):
    require_fixtures()
    stream = STREAM_OF_FILE[name]
    records = servicenow_records(name)
    data = run(stream, records)
    attr, cls = CANONICAL[stream]
    built = getattr(data, attr)
    assert data.skipped == {}
    assert len(built) == len(records)
    for record in built:
        assert isinstance(record, cls)
        assert isinstance(record.id, str) and record.id
        for value in (getattr(record, f, None) for f in
                      ("opened_at", "resolved_at", "closed_at", "work_end")):
            assert value is None or (isinstance(value, datetime) and value.tzinfo == UTC)
        assert isinstance(record.jira_keys, frozenset)


def test_table_api_incident_fields():
    incident, = run("incident", servicenow_records("docs-table-get-incident.json")).incidents
    assert incident.number == "INC0000046"
    assert incident.state == "new"
    assert incident.priority == 3
    assert incident.opened_at == utc(2015, 11, 2, 22, 4, 15)
    assert incident.resolved_at is None
    assert incident.problem == "a9e4890bc6112276003d7a5a5c774a74"
    assert incident.ci == "a9c0c8d2c6112276018f7705562f9cb0"
    assert incident.category == "software"
    assert incident.reopen_count == 0
    assert incident.service is None
    assert incident.major is False


def test_closed_incident_with_empty_opened_at_and_reference_links():
    incident, = run("incident",
                    servicenow_records("demisto-incident-list-with-reference-links.json")).incidents
    assert incident.state == "closed"
    assert incident.opened_at is None
    assert incident.resolved_at == utc(2016, 12, 13, 21, 43, 14)
    assert incident.service is not None  # raw business service, not in the portfolio


def test_display_value_all_uses_values_and_display_names():
    incidents = run("incident", servicenow_records(
        "demisto-incident-list-display-value-all-with-links.json")).incidents
    first = incidents[0]
    assert first.number == "INC0011111"
    assert first.state == "new"
    assert first.priority == 5
    assert first.opened_at == utc(2024, 2, 29, 13, 8, 46)  # value, not the +2 h display
    assert first.assignment_group == "Test_group"


def test_change_management_api_numbers_and_dates():
    change, = run("change_request", servicenow_records("docs-chg-get-change.json")).changes
    assert change.number == "CHG0000024"
    assert change.state == "closed"  # JSON number 3.0
    assert change.type == "standard"
    assert change.close_code == "successful"
    assert change.closed_at == utc(2015, 7, 6, 18, 56, 23)
    assert change.work_end == utc(2015, 7, 6, 18, 56, 10)
    new, = run("change_request", servicenow_records(
        "demisto-chg-create-standard-change-from-template.json")).changes
    assert new.state == "new"  # -5.0


def test_problem_with_older_state_choice():
    problem, = run("problem", servicenow_records("docs-table-get-problem-list.json")).problems
    assert problem.state == "closed"
    assert problem.closed_at == utc(2016, 1, 19, 4, 52, 4)
    assert problem.known_error is False


def test_sc_task_display_value_all_fields_read_as_values():
    task, = servicenow_records("demisto-sc-task-list-display-value-all-no-links.json")
    assert read_servicenow_datetime(task["opened_at"]) == utc(2020, 4, 20, 20, 58, 46)


def test_business_service_attributes_records_to_portfolio_services():
    records = [
        {"sys_id": "a1", "number": "INC1", "state": "2", "priority": "1",
         "business_service": {"link": "x", "value": "svc1"},
         "short_description": "Fails since PAY-12 deploy (UTF-8 issue), see MAIL-3 and XYZ-9"},
        {"sys_id": "a2", "number": "INC2", "state": "6", "priority": "3",
         "business_service": "svc2", "assignment_group": "grp1"},
        {"sys_id": "a3", "number": "INC3", "state": "99"},
        {"sys_id": "a4", "state": "1"},
        {"sys_id": "a5", "number": "INC5", "state": "1", "opened_at": "yesterday"},
    ]
    data = normalise(shipped_sources(), shipped_portfolio(), {
        ("servicenow", "incident"): records,
        ("servicenow", "cmdb_ci_service"): [{"sys_id": "svc1", "name": "Payments"},
                                            {"sys_id": "svc2", "name": "Elsewhere"}],
        ("servicenow", "sys_user_group"): [{"sys_id": "grp1", "name": "Payments L2"}],
    })
    first, second = data.incidents
    assert first.service == "payments"
    assert first.major is True
    assert first.jira_keys == {"PAY-12", "MAIL-3"}
    assert second.service == "svc2"
    assert second.assignment_group == "Payments L2"
    assert data.skipped == {"incident": {"unknown state": 1, "missing number": 1,
                                         "unparsable opened_at": 1}}
    payments = next(s for s in data.services if s.id == "payments")
    assert payments.sys_id == "svc1" and payments.owner == "alice.martin"


def test_slas_get_their_kind_and_canonical_stage():
    sources = shipped_sources().model_copy(update={"parameters": shipped_sources().parameters
                                                   .model_copy(update={"response_slas":
                                                                       ("Response (1 h)",)})})
    slas = [
        {"sys_id": "s1", "task": {"value": "a1"}, "sla": {"value": "d1"}, "stage": "cancelled",
         "has_breached": "false", "start_time": "2025-03-03 08:00:00", "end_time": ""},
        {"sys_id": "s2", "task": "a1", "sla": {"value": "d2", "display_value": "Response (1 h)"},
         "stage": "completed", "has_breached": "true", "start_time": "2025-03-03 08:00:00",
         "end_time": "2025-03-03 08:20:00"},
    ]
    data = normalise(sources, shipped_portfolio(), {
        ("servicenow", "task_sla"): slas,
        ("servicenow", "contract_sla"): [{"sys_id": "d1", "name": "P2 resolution (8 h)"}]})
    first, second = data.slas
    assert (first.definition, first.kind, first.stage) == ("P2 resolution (8 h)", "resolution",
                                                           "canceled")
    assert (second.definition, second.kind, second.has_breached) == ("Response (1 h)",
                                                                     "response", True)
    assert second.end_time == utc(2025, 3, 3, 8, 20)
