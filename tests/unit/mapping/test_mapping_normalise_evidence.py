"""Outages, survey responses, suppliers and groups from raw Table API records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import (
    UnreadableValue,
    read_servicenow_duration,
    read_servicenow_list,
)
from fiveo_sync.records import Group, Outage, Supplier

from .mapping_fixtures import shipped_portfolio, shipped_sources

PAYMENTS, EMAIL = "a" * 32, "b" * 32
SERVICES = [{"sys_id": PAYMENTS, "name": "Payments", "sys_updated_on": "2025-01-01 00:00:00"},
            {"sys_id": EMAIL, "name": "Email", "sys_updated_on": "2025-01-01 00:00:00"}]
INC1, INC2 = "1" * 32, "2" * 32
INCIDENTS = [{"sys_id": INC1, "number": "INC0000001", "state": "7", "business_service": EMAIL},
             {"sys_id": INC2, "number": "INC0000002", "state": "7",
              "business_service": PAYMENTS}]
SURVEY, OVERALL, SPEED, COMMENTS = "c" * 32, "d" * 32, "e" * 32, "f" * 32


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run(**streams: list[dict]):
    raw = {("servicenow", "cmdb_ci_service"): SERVICES, **{
        ("servicenow", name): rows for name, rows in streams.items()}}
    return normalise(shipped_sources(), shipped_portfolio(), raw)


def outage(sys_id: str, **values: object) -> dict:
    return {"sys_id": sys_id, "number": f"OUT{sys_id[:4]}", "type": "outage",
            "cmdb_ci": PAYMENTS, "begin": "2025-01-31 23:20:00", "end": "2025-02-01 01:05:00",
            "duration": "1970-01-01 01:45:00", "task_number": INC2,
            "sys_updated_on": "2025-02-01 02:00:00", **values}


def test_outages_are_typed_utc_and_attributed_to_portfolio_services() -> None:
    data = run(cmdb_ci_outage=[
        outage("o1"),
        outage("o2", type="planned", cmdb_ci={"value": EMAIL, "display_value": "Email"},
               end="", duration="", task_number=""),
        outage("o3", type="maintenance"), outage("o4", begin="31/01/2025 23:20")])
    assert data.outages == (
        Outage(id="o1", number="OUTo1", type="outage", service="payments",
               begin=utc(2025, 1, 31, 23, 20), end=utc(2025, 2, 1, 1, 5), duration_s=6300.0,
               task=INC2),
        Outage(id="o2", number="OUTo2", type="planned", service="email",
               begin=utc(2025, 1, 31, 23, 20), end=None, duration_s=None, task=None))
    assert data.skipped == {"outage": {"unknown type": 1, "unparsable begin": 1}}


def _instance(sys_id: str, state: str, task: str, **values: object) -> dict:
    return {"sys_id": sys_id, "number": f"AINST{sys_id}", "metric_type": SURVEY,
            "state": state, "trigger_id": task, "user": "u" * 32,
            "sys_created_on": "2025-02-10 09:00:00", "taken_on": "",
            "sys_updated_on": "2025-02-10 09:00:00", **values}


def _result(instance: str, metric: str, value: str, n: int) -> dict:
    return {"sys_id": f"{instance}-{n}", "instance": instance, "metric": metric,
            "actual_value": value, "sys_updated_on": "2025-02-11 09:00:00"}


def test_survey_responses_score_the_csat_metric_and_take_the_incident_service() -> None:
    data = run(
        incident=INCIDENTS,
        asmt_metric_type=[{"sys_id": SURVEY, "name": "Customer Satisfaction"}],
        asmt_metric=[{"sys_id": OVERALL, "name": "Overall satisfaction"},
                     {"sys_id": SPEED, "name": "Speed of resolution"},
                     {"sys_id": COMMENTS, "name": "Comments"}],
        asmt_assessment_instance=[
            _instance("i1", "complete", INC1, taken_on="2025-02-11 08:30:00"),
            _instance("i2", "ready", INC2), _instance("i3", "wip", INC2),
            _instance("i4", "complete", "9" * 32, taken_on="2025-02-12 10:00:00"),
            _instance("i5", "expired", INC1)],
        asmt_metric_result=[
            _result("i1", OVERALL, "2", 1), _result("i1", SPEED, "5", 2),
            _result("i1", COMMENTS, "", 3), _result("i3", OVERALL, "4", 1),
            _result("i4", SPEED, "3", 1)])
    responses = {r.id: r for r in data.survey_responses}
    first = responses["i1"]
    assert (first.survey, first.state, first.answered, first.score, first.answers) == (
        "Customer Satisfaction", "complete", True, 2.0, 3)
    assert (first.service, first.task, first.sent_at, first.taken_on) == (
        "email", INC1, utc(2025, 2, 10, 9), utc(2025, 2, 11, 8, 30))
    assert (responses["i2"].answered, responses["i2"].score, responses["i2"].answers) == (
        False, None, 0)
    # Partly answered is not a response yet; answered without the CSAT question: no score.
    assert (responses["i3"].state, responses["i3"].score) == ("in_progress", None)
    assert (responses["i4"].answered, responses["i4"].score, responses["i4"].service) == (
        True, None, None)
    assert data.skipped == {"survey_response": {"unknown state": 1}}


def test_without_score_metrics_every_numeric_answer_counts() -> None:
    sources = shipped_sources()
    sources = sources.model_copy(update={"parameters": sources.parameters.model_copy(
        update={"survey_score_metrics": ()})})
    raw = {("servicenow", "asmt_assessment_instance"): [
        _instance("i1", "complete", INC1, taken_on="2025-02-11 08:30:00")],
        ("servicenow", "asmt_metric_result"): [
            _result("i1", OVERALL, "2", 1), _result("i1", SPEED, "5", 2),
            _result("i1", COMMENTS, "", 3)]}
    (response,) = normalise(sources, shipped_portfolio(), raw).survey_responses
    assert response.score == 3.5 and response.answers == 3


def test_groups_name_the_vendor_company_staffing_them() -> None:
    vendor, own = "v" * 32, "w" * 32
    data = run(core_company=[
        {"sys_id": vendor, "name": "Northwind Hosting", "vendor": "true"},
        {"sys_id": own, "name": "Example Org", "vendor": "false"}, {"sys_id": "x" * 32}],
        sys_user_group=[
            {"sys_id": "g1", "name": "Portal L2", "vendors": f"{own},{vendor}"},
            {"sys_id": "g2", "name": "Email L2", "vendors": ""},
            {"sys_id": "g3", "name": "Payments L2", "vendors": own}])
    assert data.suppliers == (Supplier(id=vendor, name="Northwind Hosting", vendor=True),
                              Supplier(id=own, name="Example Org", vendor=False))
    assert data.groups == (
        Group(id="g1", name="Portal L2", companies=(own, vendor), supplier="Northwind Hosting"),
        Group(id="g2", name="Email L2", companies=(), supplier=None),
        Group(id="g3", name="Payments L2", companies=(own,), supplier=None))
    assert data.skipped == {"supplier": {"missing name": 1}}


@pytest.mark.parametrize(("raw", "seconds"), [
    ("1970-01-01 02:30:00", 9000.0), ("1970-01-03 00:00:01", 172801.0), ("9000", 9000.0),
    ({"value": "1970-01-01 00:00:05", "display_value": "5 Seconds"}, 5.0), ("", None)])
def test_durations_read_as_seconds(raw: object, seconds: float | None) -> None:
    assert read_servicenow_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["1969-12-31 23:00:00", "2 hours", "1970-13-01 00:00:00"])
def test_unreadable_durations(raw: str) -> None:
    with pytest.raises(UnreadableValue):
        read_servicenow_duration(raw)


def test_list_fields_read_as_tuples() -> None:
    assert read_servicenow_list(" a , b,,c ") == ("a", "b", "c")
    assert read_servicenow_list({"value": "a,b", "display_value": "A, B"}) == ("a", "b")
    assert read_servicenow_list(["a", " b"]) == ("a", "b")
    assert read_servicenow_list("") == ()


def test_the_sandbox_evidence_normalises_without_a_skip() -> None:
    with ServiceNowSandbox(seed=5, now=datetime(2025, 3, 3, 12, tzinfo=UTC)) as sandbox:
        tables = ("incident", "cmdb_ci_service", "sys_user_group", "core_company",
                  "cmdb_ci_outage", "asmt_assessment_instance", "asmt_metric_result",
                  "asmt_metric", "asmt_metric_type")
        raw = {("servicenow", name): sandbox.table(name) for name in tables}
        data = normalise(shipped_sources(), shipped_portfolio(), raw)
        assert data.skipped == {}
        assert len(data.outages) == len(raw[("servicenow", "cmdb_ci_outage")])
        responses = data.survey_responses
        assert len(responses) == len(raw[("servicenow", "asmt_assessment_instance")])
        answered = [r for r in responses if r.answered]
        assert answered and all(r.score in {1.0, 2.0, 3.0, 4.0, 5.0} for r in answered)
        assert all(r.score is None for r in responses if not r.answered)
        assert {r.service for r in responses} <= {s.id for s in shipped_portfolio().services}
        assert sorted(g.supplier for g in data.groups if g.supplier) == [
            "Contoso Networks", "Northwind Hosting"]
        assert {o.service for o in data.outages} <= {s.id for s in shipped_portfolio().services}
