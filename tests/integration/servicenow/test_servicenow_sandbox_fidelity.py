"""The sandbox against pysnow, plain requests, the documented shapes and recorded payloads."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pysnow
import pytest
import requests

from connectors.servicenow.sandbox import ServiceNowSandbox

RECORDED = (Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"
            / "servicenow-recorded")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def sb() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=3, now=datetime(2025, 3, 3, 12, tzinfo=UTC), incidents=400,
                           changes=120, problems=40, tls=True) as sandbox:
        yield sandbox


def _get(sb: ServiceNowSandbox, path: str, who: str = "integration", **params: object):
    return requests.get(sb.url + path, params=params, auth=sb.credentials[who], timeout=10,
                        verify=sb.ca_bundle)


def _recorded(name: str) -> dict:
    assert RECORDED.is_dir(), f"recorded fixtures missing at {RECORDED}"
    body = json.loads((RECORDED / name).read_text())
    result = body.get("result", body)
    return result[0] if isinstance(result, list) else result


def _shape(value: object) -> str:
    if isinstance(value, dict):
        return "ref" if "link" in value else "object:" + ",".join(sorted(value))
    return "datetime" if isinstance(value, str) and DATETIME.match(value) else type(value).__name__


@pytest.mark.parametrize(("name", "table"), [
    ("docs-table-get-incident.json", "incident"),
    ("demisto-incident-list-with-reference-links.json", "incident"),
    ("docs-table-get-problem-list.json", "problem"),
])
def test_sandbox_records_have_the_recorded_field_names_and_value_shapes(
        sb: ServiceNowSandbox, name: str, table: str) -> None:
    recorded = _recorded(name)
    ours = _get(sb, f"/api/now/table/{table}", sysparm_limit=50).json()["result"]
    assert set(recorded) <= set(ours[0])
    for field, value in recorded.items():
        if value in ("", None):
            continue
        shapes = {_shape(r[field]) for r in ours if r[field] != ""}
        expected = _shape(value)
        if expected == "ref":
            assert shapes <= {"ref"}, field
        else:
            assert shapes <= {expected}, (field, shapes, expected)


def test_change_request_display_value_all_matches_the_recorded_change_fields(
        sb: ServiceNowSandbox) -> None:
    recorded = _recorded("docs-chg-get-change.json")
    ours = _get(sb, "/api/now/table/change_request", sysparm_limit=1,
                sysparm_display_value="all", sysparm_exclude_reference_link="true"
                ).json()["result"][0]
    assert set(recorded) <= set(ours)
    for field, value in recorded.items():
        assert set(ours[field]) == set(value), field


def test_every_value_is_a_string_and_references_are_link_value_or_empty(
        sb: ServiceNowSandbox) -> None:
    rows = _get(sb, "/api/now/v2/table/incident", sysparm_limit=100).json()["result"]
    for row in rows:
        for value in row.values():
            assert isinstance(value, str | dict)
            if isinstance(value, dict):
                assert set(value) == {"link", "value"}
                assert value["link"].endswith("/" + value["value"])
    bare = _get(sb, "/api/now/table/incident", sysparm_limit=5,
                sysparm_exclude_reference_link="true").json()["result"]
    assert all(isinstance(v, str) for r in bare for v in r.values())


def test_paging_headers_and_versions(sb: ServiceNowSandbox) -> None:
    first = _get(sb, "/api/now/table/incident", sysparm_limit=100,
                 sysparm_query="ORDERBYnumber")
    # 400 generated incidents and 18 of category security (3 a month over 6 months)
    assert first.headers["X-Total-Count"] == "418"
    rels = dict((m[1], m[0]) for m in re.findall(r'<([^>]+)>;rel="(\w+)"', first.headers["Link"]))
    assert set(rels) == {"first", "prev", "next", "last"}
    assert "sysparm_offset=-100" in rels["prev"] and "sysparm_offset=400" in rels["last"]
    last = requests.get(rels["last"], auth=sb.credentials["integration"], timeout=10,
                        verify=sb.ca_bundle)
    assert "Link" not in last.headers and len(last.json()["result"]) == 18
    negative = requests.get(rels["prev"], auth=sb.credentials["integration"], timeout=10,
                            verify=sb.ca_bundle)
    assert negative.status_code == 400
    assert negative.json()["error"]["detail"] == "Negative offset is not supported"
    nocount = _get(sb, "/api/now/table/incident", sysparm_limit=1, sysparm_no_count="true",
                   sysparm_suppress_pagination_header="true")
    assert "X-Total-Count" not in nocount.headers and "Link" not in nocount.headers
    assert _get(sb, "/api/now/v1/table/incident", sysparm_query="number=NONE").status_code == 404
    assert _get(sb, "/api/now/v2/table/incident", sysparm_query="number=NONE").json() == {
        "result": []}


def test_encoded_query_precedence_ordering_dot_walk_and_dropped_terms(
        sb: ServiceNowSandbox) -> None:
    rows = sb.table("incident")

    def numbers(query: str) -> list[str]:
        body = _get(sb, "/api/now/table/incident", sysparm_query=query,
                    sysparm_fields="number").json()["result"]
        return [r["number"] for r in body]

    expected = sorted(r["number"] for r in rows
                      if r["priority"] == "1" and r["state"] in ("6", "7")
                      or r["category"] == "network" and r["reopen_count"] != "0")
    got = numbers("priority=1^state=6^ORstate=7^NQcategory=network^reopen_count!=0"
                  "^ORDERBYnumber")
    assert got == expected
    desc = numbers("priorityIN1,2^ORDERBYDESCnumber")
    assert desc == sorted((r["number"] for r in rows if r["priority"] in ("1", "2")),
                          reverse=True)
    assert numbers("nosuchfield=1^priority=1^ORDERBYnumber") == numbers(
        "priority=1^ORDERBYnumber")
    assert numbers("Priority=1") == numbers("")  # case-sensitive name: term dropped
    person = sb.world.people[0]
    walked = numbers(f"caller_id.user_name={person.user_name}^ORDERBYnumber")
    assert walked == sorted(r["number"] for r in rows if r["caller_id"] == person.sn_sys_id)
    assert numbers("short_descriptionLIKEvpn^numberSTARTSWITHINC^problem_idISNOTEMPTY") == [
        r["number"] for r in rows if "vpn" in r["short_description"].lower()
        and r["problem_id"]]


def test_pysnow_reads_the_sandbox_unchanged(sb: ServiceNowSandbox) -> None:
    user, password = sb.credentials["integration"]
    session = requests.Session()
    session.auth, session.verify = (user, password), sb.ca_bundle
    client = pysnow.Client(host=urlsplit(sb.url).netloc, use_ssl=True, session=session)
    incidents = client.resource(api_path="/table/incident")
    buffered = list(incidents.get(query={"priority": "1"}).all())
    assert buffered and all(r["priority"] == "1" for r in buffered)
    streamed = list(incidents.get(query="priority=1", stream=True).all())
    assert [r["sys_id"] for r in streamed] == [r["sys_id"] for r in buffered]
    one = incidents.get(query={"number": buffered[0]["number"]}, stream=True).first()
    assert one["sys_id"] == buffered[0]["sys_id"]
    limited = list(incidents.get(query="", limit=7).all())
    assert len(limited) == 7


def test_writes_audit_deletes_and_the_import_set_transform(sb: ServiceNowSandbox) -> None:
    auth = sb.credentials["integration"]
    created = requests.post(f"{sb.url}/api/now/table/incident", auth=auth, timeout=10,
                            json=[{"short_description": "disk full", "sys_id": "x"}, {}],
                            verify=sb.ca_bundle)
    assert created.status_code == 201
    sys_id = created.json()["result"]["sys_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sys_id)
    assert created.headers["Location"].endswith(f"/api/now/table/incident/{sys_id}")
    patched = requests.patch(f"{sb.url}/api/now/table/incident/{sys_id}", auth=auth,
                             json={"state": "2"}, timeout=10, verify=sb.ca_bundle).json()["result"]
    assert patched["state"] == "2" and patched["sys_mod_count"] == "1"
    deleted = requests.delete(f"{sb.url}/api/now/table/incident/{sys_id}", auth=auth,
                              timeout=10, verify=sb.ca_bundle)
    assert deleted.status_code == 204 and deleted.content == b""
    assert any(r["documentkey"] == sys_id and r["tablename"] == "incident"
               for r in sb.table("sys_audit_delete"))
    row = {"u_key": "fiveo:x:service:Email:all:2025-02", "u_value": "4.5"}
    first = requests.post(f"{sb.url}/api/now/import/u_fiveo_indicator_import", auth=auth,
                          json=row, timeout=10, verify=sb.ca_bundle).json()
    again = requests.post(f"{sb.url}/api/now/import/u_fiveo_indicator_import", auth=auth,
                          json=row, timeout=10, verify=sb.ca_bundle).json()
    changed = requests.post(f"{sb.url}/api/now/import/u_fiveo_indicator_import", auth=auth,
                            json={**row, "u_value": "5"}, timeout=10, verify=sb.ca_bundle).json()
    assert [b["result"][0]["status"] for b in (first, again, changed)] == [
        "inserted", "ignored", "updated"]
    assert len([r for r in sb.table("u_fiveo_indicator") if r["u_key"] == row["u_key"]]) == 1
    many = requests.post(f"{sb.url}/api/now/import/u_fiveo_indicator_import/insertMultiple",
                         auth=auth, json={"records": [row, {**row, "u_key": "k2"}]},
                         timeout=10, verify=sb.ca_bundle)
    assert set(many.json()) == {"import_set_id", "multi_import_set_id"}


def test_attachment_upload_list_and_download(sb: ServiceNowSandbox) -> None:
    auth = sb.credentials["integration"]
    target = sb.table("incident")[0]["sys_id"]
    up = requests.post(f"{sb.url}/api/now/attachment/file", auth=auth, data=b'{"a": 1}',
                       params={"table_name": "incident", "table_sys_id": target,
                               "file_name": "report.json"},
                       headers={"Content-Type": "application/json"}, timeout=10,
                       verify=sb.ca_bundle)
    assert up.status_code == 201
    meta = up.json()["result"]
    assert set(_recorded("docs-attachment-post-file.json")) <= set(meta)
    listed = _get(sb, "/api/now/attachment", sysparm_query=f"table_sys_id={target}")
    assert [m["sys_id"] for m in listed.json()["result"]] == [meta["sys_id"]]
    downloaded = requests.get(meta["download_link"], auth=auth, timeout=10, verify=sb.ca_bundle)
    assert downloaded.content == b'{"a": 1}'


def test_rate_limit_rule_answers_429_with_headers_and_the_real_body(
        sb: ServiceNowSandbox) -> None:
    sb.set_rate_limit(2, user="fiveo.readonly")
    try:
        answers = [_get(sb, "/api/now/table/sys_user", who="readonly", sysparm_limit=1)
                   for _ in range(3)]
    finally:
        sb.set_rate_limit(None)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert int(answers[2].headers["Retry-After"]) > 0
    assert answers[2].json()["error"]["message"] == "Rate limit exceeded"


def test_acl_hidden_rows_make_short_pages_and_404s(sb: ServiceNowSandbox) -> None:
    ids = [r["sys_id"] for r in sb.table("incident")]
    sb.acl.hidden_rows["incident"] = set(ids[:3])
    try:
        page = _get(sb, "/api/now/table/incident", sysparm_limit=10)
        assert len(page.json()["result"]) == 7 and page.headers["X-Total-Count"] == "418"
        assert _get(sb, f"/api/now/table/incident/{ids[0]}").status_code == 404
    finally:
        sb.acl.hidden_rows.clear()
