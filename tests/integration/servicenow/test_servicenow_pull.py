"""Incremental pulls from the ServiceNow sandbox into the state store."""

from __future__ import annotations

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.state import StateStore

STREAMS = ["incident", "change_request", "problem", "task_sla", "contract_sla",
           "cmdb_ci_service", "sys_user_group", "sys_user"]


def test_first_pull_stores_exactly_the_sandbox_records(sandbox: ServiceNowSandbox,
                                                       store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, page_size=400)
    sn.pull(conn, store)
    for stream in STREAMS:
        assert store.record_versions("servicenow", stream) == sn.versions(sandbox, stream)


def test_second_pull_without_changes_makes_at_most_two_requests_per_stream(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, page_size=500)
    sn.pull(conn, store)
    sandbox.advance(120)
    made = sn.pull(conn, store)
    assert made and all(count <= 2 for count in made.values()), made


def test_third_pull_reflects_updates_creates_and_deletes(sandbox: ServiceNowSandbox,
                                                         store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, page_size=500)
    sn.pull(conn, store)
    incidents = sandbox.table("incident")
    sandbox.advance(30)
    sandbox.update("incident", incidents[0]["sys_id"], state="7", close_code="Duplicate")
    sandbox.update("incident", incidents[1]["sys_id"], priority="1")
    created = sandbox.create("incident", short_description="VPN down", priority="2")
    sandbox.delete("incident", incidents[2]["sys_id"])
    sandbox.delete("change_request", sandbox.table("change_request")[0]["sys_id"])
    sandbox.advance(120)  # past the lag
    sn.pull(conn, store)
    for stream in ("incident", "change_request"):
        assert store.record_versions("servicenow", stream) == sn.versions(sandbox, stream)
    stored = {r.key: r.payload for r in store.iter_records("servicenow", "incident")}
    assert stored[incidents[0]["sys_id"]]["state"] == "7"
    assert stored[created["sys_id"]]["priority"] == "2"
    assert incidents[2]["sys_id"] not in stored


def test_records_are_raw_table_api_payloads_with_only_the_requested_fields(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    conn = sn.connect(sandbox)
    sn.pull(conn, store, ["incident"])
    record = next(store.iter_records("servicenow", "incident"))
    assert set(record.payload) == set(conn.fields_for("incident"))
    assert all(isinstance(v, str) for v in record.payload.values())
    assert record.updated.endswith("Z") and "T" in record.updated
    logged = [r for r in sandbox.log if r.path.endswith("/table/incident")]
    params = logged[0].params
    assert params["sysparm_no_count"] == "true"
    assert params["sysparm_exclude_reference_link"] == "true"
    assert params["sysparm_display_value"] == "false"
    assert params["sysparm_query"].endswith("^ORDERBYsys_updated_on^ORDERBYsys_id")
    assert params.get("sysparm_offset", "0") == "0"


@pytest.mark.parametrize("auth", ["oauth_password", "oauth_client_credentials"])
def test_oauth_pull_refreshes_an_expired_token(sandbox: ServiceNowSandbox, store: StateStore,
                                               auth: str, sn) -> None:
    conn = sn.connect(sandbox, auth=auth, page_size=500)
    sn.pull(conn, store, ["sys_user"])
    sandbox.auth.expire_all()
    sandbox.advance(120)
    sn.pull(conn, store, ["incident"])
    assert store.record_versions("servicenow", "incident") == sn.versions(sandbox, "incident")
