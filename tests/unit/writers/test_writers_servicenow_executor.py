from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from responses import matchers

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.servicenow.executor import execute_plan, fetch_current
from fiveo_sync.writers.servicenow import build_record, build_servicenow_plan

BASE = "https://acme.service-now.com"
TABLE_URL = f"{BASE}/api/now/v2/table/u_fiveo_indicator"
IMPORT_URL = f"{BASE}/api/now/import/u_fiveo_indicator_import"
NOW = datetime(2025, 4, 2, tzinfo=UTC)


def _settings(mode="table"):
    return SimpleNamespace(servicenow=SimpleNamespace(write=SimpleNamespace(
        mode=mode, table="u_fiveo_indicator", staging_table="u_fiveo_indicator_import")))


@pytest.fixture
def http():
    return HttpClient("servicenow", build_session(), RetryPolicy(max_attempts=3),
                      sleep=lambda _s: None)


def _query(last=""):
    return "u_keySTARTSWITHfiveo:" + (f"^sys_id>{last}" if last else "") + "^ORDERBYsys_id"


def test_fetch_current_pages_by_sys_id_until_an_empty_page(http, mocked, make_result):
    rec1 = build_record(make_result(period="2025-01"), run_id="r", computed_at=NOW)
    rec2 = build_record(make_result(period="2025-02"), run_id="r", computed_at=NOW)
    for last, rows in (("", [rec1 | {"sys_id": "a1"}]), ("a1", [rec2 | {"sys_id": "b2"}]),
                       ("b2", [])):
        mocked.get(TABLE_URL, json={"result": rows}, match=[matchers.query_param_matcher(
            {"sysparm_query": _query(last), "sysparm_limit": "1"}, strict_match=False)])
    current = fetch_current(http, BASE, _settings(), page_size=1)
    assert set(current) == {rec1["u_key"], rec2["u_key"]}
    assert current[rec2["u_key"]]["sys_id"] == "b2"


def test_table_mode_posts_new_patches_changed_and_marks_vanished(http, mocked, make_result):
    held_changed = build_record(make_result(period="2025-02"), run_id="r1", computed_at=NOW)
    held_gone = build_record(make_result(period="2025-01"), run_id="r1", computed_at=NOW)
    current = {held_changed["u_key"]: held_changed | {"sys_id": "s2"},
               held_gone["u_key"]: held_gone | {"sys_id": "s1"}}
    plan = build_servicenow_plan(
        [make_result(period="2025-02", value=99.0), make_result(period="2025-03")],
        current, run_id="r2", computed_at=NOW)
    mocked.patch(f"{TABLE_URL}/s1", json={}, match=[matchers.json_params_matcher(
        {"u_status": "retired"}, strict_match=False)])
    mocked.patch(f"{TABLE_URL}/s2", json={}, match=[matchers.json_params_matcher(
        {"u_value": "99", "u_run_id": "r2", "u_computed_at": "2025-04-02 00:00:00"})])
    mocked.post(TABLE_URL, status=201, json={}, match=[matchers.json_params_matcher(
        {"u_key": "fiveo:operate.mttr:service:payments:all:2025-03"}, strict_match=False)])
    report = execute_plan(http, BASE, plan, _settings())
    assert [o.action for o in report.outcomes] == ["marked", "updated", "created"]
    assert not report.failed


def test_unchanged_ops_send_nothing(http, mocked, make_result):
    held = build_record(make_result(), run_id="r1", computed_at=NOW) | {"sys_id": "s"}
    plan = build_servicenow_plan([make_result()], {held["u_key"]: held}, run_id="r2",
                                 computed_at=NOW)
    report = execute_plan(http, BASE, plan, _settings())
    assert [o.action for o in report.outcomes] == ["unchanged"]


def test_a_403_stops_the_target_with_the_platform_message(http, mocked, make_result):
    plan = build_servicenow_plan([make_result(period="2025-01"), make_result(period="2025-02")],
                                 {}, run_id="r", computed_at=NOW)
    mocked.post(TABLE_URL, status=403, json={"error": {"message": "User Not Authorized",
                                                       "detail": "ACL"}, "status": "failure"})
    report = execute_plan(http, BASE, plan, _settings())
    assert report.error and "User Not Authorized" in report.error
    assert report.outcomes == []


def test_a_400_fails_one_record_and_the_rest_go_on(http, mocked, make_result):
    plan = build_servicenow_plan([make_result(period="2025-01"), make_result(period="2025-02")],
                                 {}, run_id="r", computed_at=NOW)
    mocked.post(TABLE_URL, status=400, json={"error": {"message": "Invalid value",
                                                       "detail": "u_value"}})
    mocked.post(TABLE_URL, status=201, json={})
    report = execute_plan(http, BASE, plan, _settings())
    assert [o.action for o in report.outcomes] == ["failed", "created"]
    assert "Invalid value" in report.outcomes[0].detail


def test_post_is_resent_only_after_a_lookup_and_the_target_stops(http, mocked, make_result):
    plan = build_servicenow_plan([make_result(period="2025-01"), make_result(period="2025-02")],
                                 {}, run_id="r", computed_at=NOW)
    for _ in range(3):  # the policy's max_attempts
        mocked.post(TABLE_URL, status=503, body="busy")
        mocked.get(TABLE_URL, json={"result": []})
    report = execute_plan(http, BASE, plan, _settings())
    assert report.failed and "503" in report.error
    methods = [c.request.method for c in mocked.calls]
    assert methods == ["POST", "GET"] * 3  # never two POSTs without a lookup between


def test_post_that_landed_before_its_answer_was_lost_is_not_sent_again(http, mocked,
                                                                        make_result):
    plan = build_servicenow_plan([make_result(period="2025-01")], {}, run_id="r",
                                 computed_at=NOW)
    mocked.post(TABLE_URL, status=503, body="busy")
    mocked.get(TABLE_URL, json={"result": [{"sys_id": "a" * 32}]})
    report = execute_plan(http, BASE, plan, _settings())
    assert [o.action for o in report.outcomes] == ["created"] and not report.failed
    assert [c.request.method for c in mocked.calls] == ["POST", "GET"]
    assert "u_key%3Dfiveo" in mocked.calls[1].request.url


def test_import_set_mode_posts_rows_and_reads_transform_status(http, mocked, make_result):
    plan = build_servicenow_plan([make_result(period=p) for p in ("2025-01", "2025-02",
                                                                   "2025-03")],
                                 {}, run_id="r", computed_at=NOW)

    def row(status, **extra):
        return {"import_set": "ISET0010001", "staging_table": "u_fiveo_indicator_import",
                "result": [{"transform_map": "fiveo indicator", "table": "u_fiveo_indicator",
                            "status": status, "sys_id": "x", **extra}]}

    mocked.post(IMPORT_URL, status=503, body="")  # an upsert: retried
    mocked.post(IMPORT_URL, status=201, json=row("inserted"))
    mocked.post(IMPORT_URL, status=201, json=row("updated"))
    mocked.post(IMPORT_URL, status=201, json=row("error", error_message="bad u_value"))
    report = execute_plan(http, BASE, plan, _settings("import_set"))
    assert [o.action for o in report.outcomes] == ["created", "updated", "failed"]
    assert report.outcomes[2].detail == "bad u_value"
    sent = json.loads(mocked.calls[1].request.body)
    assert sent["u_key"] == "fiveo:operate.mttr:service:payments:all:2025-01"
    assert all(isinstance(v, str) for v in sent.values())
