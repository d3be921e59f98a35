"""pysnc writes to the ServiceNow sandbox as it does to an instance, over verified HTTPS.

``insert`` POSTs, ``update`` PATCHes the changed fields, ``delete`` expects 204;
``update_multiple``, ``delete_multiple`` and queries longer than ~10,000 characters go
through the Batch API. Every write is read back from the sandbox's rows and through a
fresh ``GlideRecord``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pysnc import ServiceNowClient
from pysnc.exceptions import NotFoundException, RoleException

from connectors.servicenow.sandbox import ServiceNowSandbox

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=17, now=NOW, tls=True, incidents=200, changes=40,
                           problems=10) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: ServiceNowSandbox) -> ServiceNowClient:
    return ServiceNowClient(sandbox.url, sandbox.credentials["integration"],
                            verify=sandbox.ca_bundle, auto_retry=False)


def test_insert_update_delete_round_trip(client, sandbox):
    caller = sandbox.table("sys_user")[0]
    gr = client.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "pysnc round trip"
    gr.urgency = "1"
    gr.caller_id = caller["sys_id"]
    sys_id = gr.insert()
    assert sys_id is not None and len(str(sys_id)) == 32
    stored = sandbox.record("incident", str(sys_id))
    assert stored["short_description"] == "pysnc round trip"
    assert (stored["urgency"], stored["caller_id"]) == ("1", caller["sys_id"])
    assert stored["sys_created_by"] == "fiveo.integration"
    assert gr.get_display_value("caller_id") == caller["name"]

    again = client.GlideRecord("incident")
    assert again.get(str(sys_id))
    again.short_description = "pysnc round trip, edited"
    assert again.update() == sys_id
    patch = [r for r in sandbox.log if r.method == "PATCH"][-1]
    assert patch.path == f"/api/now/table/incident/{sys_id}" and patch.status == 200
    stored = sandbox.record("incident", str(sys_id))
    assert stored["short_description"] == "pysnc round trip, edited"
    assert stored["urgency"] == "1"  # untouched fields stay
    assert stored["sys_mod_count"] == "1"
    fresh = client.GlideRecord("incident")
    assert fresh.get(str(sys_id))
    assert fresh.get_value("short_description") == "pysnc round trip, edited"

    assert fresh.delete() is True
    assert sandbox.record("incident", str(sys_id)) is None
    assert client.GlideRecord("incident").get(str(sys_id)) is False
    audit = [r for r in sandbox.table("sys_audit_delete") if r["documentkey"] == str(sys_id)]
    assert [(a["tablename"], a["sys_created_by"]) for a in audit] == \
        [("incident", "fiveo.integration")]


def test_update_of_a_deleted_record_is_the_platform_404(client, sandbox):
    row = sandbox.create("incident", short_description="to vanish")
    gr = client.GlideRecord("incident")
    assert gr.get(row["sys_id"])
    sandbox.delete("incident", row["sys_id"])
    gr.short_description = "too late"
    with pytest.raises(NotFoundException) as raised:
        gr.update()
    assert "No Record found" in str(raised.value)
    assert "Record doesn't exist or ACL restricts the record retrieval" in str(raised.value)


def test_read_only_user_cannot_insert(sandbox):
    reader = ServiceNowClient(sandbox.url, sandbox.credentials["readonly"],
                              verify=sandbox.ca_bundle, auto_retry=False)
    gr = reader.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "not allowed"
    with pytest.raises(RoleException, match="User Not Authorized"):
        gr.insert()
    assert not [r for r in sandbox.table("incident") if r["short_description"] == "not allowed"]


def test_update_multiple_and_delete_multiple_go_through_the_batch_api(client, sandbox):
    made = [sandbox.create("incident", short_description=f"pysnc batch {i}", urgency="3")
            for i in range(4)]
    before = sandbox.requests_for("/api/now/v1/batch", "POST")
    gr = client.GlideRecord("incident")
    gr.add_query("short_description", "STARTSWITH", "pysnc batch ")
    gr.query()
    for record in gr:
        record.urgency = "2"
    assert gr.update_multiple() is True
    assert sorted(sandbox.record("incident", m["sys_id"])["urgency"] for m in made) == ["2"] * 4

    doomed = client.GlideRecord("incident")
    doomed.add_query("short_description", "STARTSWITH", "pysnc batch ")
    assert doomed.delete_multiple() is True
    assert all(sandbox.record("incident", m["sys_id"]) is None for m in made)
    assert sandbox.requests_for("/api/now/v1/batch", "POST") == before + 2


def test_a_query_too_long_for_a_url_is_sent_through_the_batch_api(client, sandbox):
    rows = sandbox.table("incident")
    wanted = sorted(r["number"] for r in rows[::3])
    padding = ",".join(f"INC9{i:06d}" for i in range(1200))  # numbers that do not exist
    gr = client.GlideRecord("incident", batch_size=500)
    gr.add_encoded_query(f"numberIN{','.join(wanted)},{padding}")
    gr.fields = "number"
    before = sandbox.requests_for("/api/now/v1/batch", "POST")
    gr.query()
    assert sorted(r.get_value("number") for r in gr) == wanted
    assert sandbox.requests_for("/api/now/v1/batch", "POST") == before + 1


def test_attachment_upload_list_read_and_delete(client, sandbox):
    gr = client.GlideRecord("incident")
    gr.add_query("number", sandbox.table("incident")[5]["number"])
    gr.query()
    assert gr.next()
    location = gr.add_attachment("notes.txt", b"pysnc attachment body", "text/plain")
    attachment_id = location.rsplit("/", 1)[-1]
    stored = sandbox.record("sys_attachment", attachment_id)
    assert (stored["table_name"], stored["table_sys_id"], stored["file_name"]) == \
        ("incident", gr.get_value("sys_id"), "notes.txt")
    listed = gr.get_attachments()
    files = [(a.file_name, a.read()) for a in listed]
    assert files == [("notes.txt", b"pysnc attachment body")]
    assert len(listed) == 1  # X-Total-Count
    for attachment in gr.get_attachments():
        attachment.delete()
    assert sandbox.record("sys_attachment", attachment_id) is None


def test_gs_get_user_id_is_the_caller(client, sandbox):
    me = next(u for u in sandbox.table("sys_user") if u["user_name"] == "fiveo.integration")
    mine = {sandbox.create("incident", short_description=f"mine {i}", caller_id=me["sys_id"])
            ["sys_id"] for i in range(2)}
    gr = client.GlideRecord("incident")
    gr.add_encoded_query("caller_id=javascript:gs.getUserID()")
    gr.fields = "sys_id"
    gr.query()
    assert {r.get_value("sys_id") for r in gr} == mine == {
        r["sys_id"] for r in sandbox.table("incident") if r["caller_id"] == me["sys_id"]}
