"""The sandbox's generated outages, satisfaction surveys and suppliers."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.sandbox.database import SN_FORMAT, Database
from connectors.servicenow.sandbox.evidence import MISS_SERVICE
from connectors.servicenow.sandbox.generator import populate

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
_EVIDENCE = ("cmdb_ci_outage", "asmt_metric_type", "asmt_metric", "asmt_assessment_instance",
             "asmt_metric_result", "core_company")


@pytest.fixture(scope="module")
def sandbox() -> ServiceNowSandbox:
    return ServiceNowSandbox(seed=7, now=NOW)


def _ts(text: str) -> datetime:
    return datetime.strptime(text, SN_FORMAT).replace(tzinfo=UTC)


def _unplanned_minutes(sandbox: ServiceNowSandbox) -> dict[tuple[str, str], float]:
    """Unplanned outage minutes per (service sys_id, month), split at month boundaries."""
    minutes: dict[tuple[str, str], float] = defaultdict(float)
    for row in sandbox.table("cmdb_ci_outage"):
        if row["type"] != "outage":
            continue
        begin, end = _ts(row["begin"]), _ts(row["end"])
        boundary = datetime(end.year, end.month, 1, tzinfo=UTC)
        parts = [(begin, boundary), (boundary, end)] if begin < boundary else [(begin, end)]
        for lo, hi in parts:
            minutes[(row["cmdb_ci"], lo.strftime("%Y-%m"))] += (hi - lo).total_seconds() / 60
    return minutes


def test_the_existing_tables_are_exactly_what_the_generator_alone_makes(sandbox) -> None:
    alone = Database(sandbox.clock)
    populate(alone, sandbox.world)
    for name, table in alone.tables.items():
        if name in _EVIDENCE or name in ("sys_db_object", "sys_dictionary", "sys_choice"):
            continue
        # Security incidents are evidence rows added to the incident table.
        mine = {r["sys_id"]: {k: v for k, v in r.items() if k != "vendors"}
                for r in sandbox.table(name) if r.get("category") != "security"}
        theirs = {}
        for row in table:
            values = table.as_dict(row)
            values.pop("vendors", None)
            theirs[values["sys_id"]] = values
        assert mine == theirs, name


def test_same_seed_same_evidence_and_another_seed_differs() -> None:
    first, again = ServiceNowSandbox(seed=3, now=NOW), ServiceNowSandbox(seed=3, now=NOW)
    other = ServiceNowSandbox(seed=4, now=NOW)
    for name in _EVIDENCE:
        assert first.table(name) == again.table(name), name
    assert first.table("cmdb_ci_outage") != other.table("cmdb_ci_outage")


def test_outage_rows_are_consistent_and_typed(sandbox) -> None:
    rows = sandbox.table("cmdb_ci_outage")
    services = {s.sys_id for s in sandbox.world.services}
    assert {r["type"] for r in rows} == {"outage", "degradation", "planned"}
    numbers = [r["number"] for r in rows]
    assert numbers == sorted(numbers) and numbers[0] == "OUT0001001"
    last = NOW.replace(tzinfo=None).strftime(SN_FORMAT)
    for row in rows:
        assert row["cmdb_ci"] in services
        begin, end = _ts(row["begin"]), _ts(row["end"])
        assert begin < end <= _ts(row["sys_updated_on"]) and row["sys_updated_on"] < last
        assert _ts(row["duration"]).timestamp() == (end - begin).total_seconds()
    planned = [r for r in rows if r["type"] == "planned"]
    changes = {r["sys_id"]: r for r in sandbox.table("change_request")}
    assert planned and all(changes[r["task_number"]]["work_start"] == r["begin"]
                           for r in planned)


def test_fixed_cases_span_overlap_and_a_clear_miss(sandbox) -> None:
    world = sandbox.world
    rows = [r for r in sandbox.table("cmdb_ci_outage") if r["type"] == "outage"]
    spanning = [r for r in rows if r["begin"][:7] != r["end"][:7]]
    assert [(r["cmdb_ci"], r["begin"], r["end"]) for r in spanning] == [
        (world.services[0].sys_id, "2024-12-31 23:20:00", "2025-01-01 01:05:00")]
    email = sorted((r["begin"], r["end"]) for r in rows
                   if r["cmdb_ci"] == world.services[1].sys_id and r["begin"][:7] == "2025-02")
    assert email == [("2025-02-21 10:00:00", "2025-02-21 10:20:00"),
                     ("2025-02-21 10:12:00", "2025-02-21 10:30:00")]
    minutes = _unplanned_minutes(sandbox)
    miss = world.services[MISS_SERVICE].sys_id
    assert minutes[(miss, "2025-02")] == 300 and minutes[(miss, "2025-01")] == 95
    # 99.9 % of February is 40.3 minutes: only the miss service is above it.
    over = {svc for (svc, month), m in minutes.items() if month == "2025-02" and m > 40.3}
    assert over == {miss}


def test_surveys_follow_closed_incidents_and_only_answered_ones_have_results(sandbox) -> None:
    incidents = {r["sys_id"]: r for r in sandbox.table("incident")}
    instances = sandbox.table("asmt_assessment_instance")
    (survey,) = sandbox.table("asmt_metric_type")
    metrics = {r["sys_id"]: r["name"] for r in sandbox.table("asmt_metric")}
    results = defaultdict(list)
    for row in sandbox.table("asmt_metric_result"):
        results[row["instance"]].append(row)
    states = {r["state"] for r in instances}
    assert states == {"complete", "ready", "canceled"}
    for row in instances:
        incident = incidents[row["trigger_id"]]
        assert row["trigger_table"] == "incident" and row["task_id"] == row["trigger_id"]
        assert row["metric_type"] == survey["sys_id"] and row["user"] == incident["caller_id"]
        assert incident["state"] == "7" and row["sys_created_on"] == incident["closed_at"]
        answers = results.get(row["sys_id"], [])
        if row["state"] == "complete":
            assert row["sys_created_on"] <= row["taken_on"] <= row["due_date"]
            scores = {metrics[a["metric"]]: a["actual_value"] for a in answers
                      if a["actual_value"]}
            assert set(scores) == {"Overall satisfaction", "Speed of resolution"}
            assert all(value in {"1", "2", "3", "4", "5"} for value in scores.values())
        else:
            assert answers == [] and row["taken_on"] == ""


def test_every_third_service_group_is_staffed_by_a_vendor(sandbox) -> None:
    companies = {r["sys_id"]: r for r in sandbox.table("core_company")}
    assert sorted(r["vendor"] for r in companies.values()) == ["false"] * 2 + ["true"] * 3
    groups = {r["sys_id"]: r for r in sandbox.table("sys_user_group")}
    for i, service in enumerate(sandbox.world.services):
        vendors = groups[service.support_group_sys_id]["vendors"]
        if i % 3 == 2:
            assert companies[vendors]["vendor"] == "true"
        else:
            assert vendors == ""
