"""The connector against ``responses`` mocks: paging, retries, errors, settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from pydantic import ValidationError
from responses import matchers
from responses.registries import OrderedRegistry

from connectors.servicenow import build_connector
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.errors import AuthError, ConfigError, UnavailableError
from fiveo_sync.settings import HttpSettings, Settings, SyncSettings

BASE = "https://acme.service-now.com"
TABLE = f"{BASE}/api/now/v2/table/incident"
AUDIT = f"{BASE}/api/now/v2/table/sys_audit_delete"
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
PAGE = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "http" / "servicenow"
                   / "incident_page.json").read_text())
ERROR_401 = {"error": {"message": "User Not Authenticated",
                       "detail": "Required to provide Auth information"}, "status": "failure"}


def _connector(**section: object):
    values = {"instance_url": BASE, "username": "svc", "password": "pw-secret-1", **section}
    settings = Settings(servicenow=ServiceNowSettings(**values),
                        http=HttpSettings(max_attempts=4, backoff_s=0.0),
                        sync=SyncSettings(overlap_s=300, lag_s=60, backfill_days=10))
    return build_connector(settings, clock=lambda: NOW, sleep=lambda _s: None,
                           fields={"incident": ["number", "state"]})


def _query(query: str) -> matchers:
    return matchers.query_param_matcher({"sysparm_query": query}, strict_match=False)


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_first_pull_pages_by_keyset_and_starts_watching_deletions() -> None:
    first = ("sys_updated_on>=2025-02-21 12:00:00^sys_updated_on<2025-03-03 11:59:00"
             "^ORDERBYsys_updated_on^ORDERBYsys_id")
    responses.get(TABLE, json=PAGE, match=[_query(first)])
    row = PAGE["result"][0]
    cursor = f"{row['sys_updated_on']}"
    responses.get(TABLE, json={"result": []}, match=[matchers.query_param_matcher(
        {"sysparm_no_count": "true", "sysparm_exclude_reference_link": "true",
         "sysparm_fields": "number,state,sys_id,sys_updated_on", "sysparm_limit": "1000"},
        strict_match=False), _query(
        "sys_updated_on>=2025-02-21 12:00:00^sys_updated_on<2025-03-03 11:59:00"
        f"^sys_updated_on>{cursor}^NQsys_updated_on>=2025-02-21 12:00:00"
        f"^sys_updated_on<2025-03-03 11:59:00^sys_updated_on={cursor}^sys_id>{row['sys_id']}"
        "^ORDERBYsys_updated_on^ORDERBYsys_id")])
    conn = _connector()
    pages = list(conn.iter_pages("incident", None))
    assert [len(p.records) for p in pages] == [1, 0, 0]
    record = pages[0].records[0]
    assert record.key == row["sys_id"] and record.updated == "2025-03-03T10:00:00Z"
    assert record.payload == row
    assert pages[0].bookmark["run"]["after"] == [cursor, row["sys_id"]]
    assert pages[-1].bookmark == {"v": 1, "watermark": "2025-03-03 11:59:00",
                                  "deletions": "2025-03-03 11:59:00"}


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_later_pull_starts_at_watermark_minus_overlap_and_reads_deletions() -> None:
    responses.get(TABLE, json={"result": []}, match=[_query(
        "sys_updated_on>=2025-03-03 10:55:00^sys_updated_on<2025-03-03 11:59:00"
        "^ORDERBYsys_updated_on^ORDERBYsys_id")])
    responses.get(AUDIT, json={"result": [{"sys_id": "a1", "sys_created_on": "2025-03-03 11:00:00",
                                           "documentkey": "gone", "tablename": "incident"}]},
                  match=[_query("tablename=incident^sys_created_on>=2025-03-03 10:55:00"
                                "^sys_created_on<2025-03-03 11:59:00"
                                "^ORDERBYsys_created_on^ORDERBYsys_id")])
    responses.get(AUDIT, json={"result": []})
    bookmark = {"v": 1, "watermark": "2025-03-03 11:00:00", "deletions": "2025-03-03 11:00:00"}
    pages = list(_connector().iter_pages("incident", bookmark))
    assert [list(p.deleted_keys) for p in pages] == [[], ["gone"], []]
    assert pages[-1].bookmark["deletions"] == "2025-03-03 11:59:00"


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_503_then_429_are_retried_and_counted() -> None:
    responses.get(TABLE, status=503, json={"error": {"message": "down"}, "status": "failure"})
    responses.get(TABLE, status=429, headers={"Retry-After": "0"},
                  json={"error": {"message": "Rate limit exceeded"}, "status": "failure"})
    responses.get(TABLE, json={"result": []})
    responses.get(AUDIT, json={"result": []})
    conn = _connector()
    list(conn.iter_pages("incident", {"watermark": "2025-03-03 11:00:00"}))
    assert conn.stats.retries == 2


@responses.activate
def test_401_is_an_auth_error_with_the_platform_message_and_no_secret() -> None:
    responses.get(TABLE, status=401, json=ERROR_401)
    with pytest.raises(AuthError) as caught:
        list(_connector().iter_pages("incident", None))
    assert "User Not Authenticated" in str(caught.value)
    assert "pw-secret-1" not in str(caught.value)


@responses.activate
def test_persistent_500_is_unavailable_after_retries() -> None:
    responses.get(TABLE, status=500, json={"error": {"message": "boom"}, "status": "failure"})
    with pytest.raises(UnavailableError):
        list(_connector().iter_pages("incident", None))
    assert len(responses.calls) == 4


def test_settings_defaults_and_strictness() -> None:
    s = ServiceNowSettings(instance_url=BASE)
    assert (s.auth, s.page_size, s.write.mode, s.write.table, s.write.staging_table) == (
        "basic", 1000, "table", "u_fiveo_indicator", "u_fiveo_indicator_import")
    assert s.streams[:8] == ["incident", "change_request", "problem", "task_sla",
                             "contract_sla", "cmdb_ci_service", "sys_user_group", "sys_user"]
    assert s.streams[8:] == ["cmdb_ci_outage", "asmt_assessment_instance",
                             "asmt_metric_result", "asmt_metric", "asmt_metric_type",
                             "core_company"]
    with pytest.raises(ValidationError):
        ServiceNowSettings(instance_url=BASE, pagesize=5)
    with pytest.raises(ValidationError):
        ServiceNowSettings(instance_url=BASE, streams=["nope"])


def test_missing_credentials_for_the_auth_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="client_id"):
        build_connector(Settings(servicenow=ServiceNowSettings(
            instance_url=BASE, auth="oauth_client_credentials")))
