"""pysnow drives the ServiceNow sandbox unchanged, over verified HTTPS.

pysnow takes a ``requests.Session`` whose ``verify`` is the sandbox CA bundle. Queries are
built with its ``QueryBuilder`` (``datetime`` bounds become
``javascript:gs.dateGenerate(...)``), reads use ``get(...).all()``/``one()``, writes
``create``/``update`` (GET + PUT)/``delete`` (GET + DELETE); the Aggregate API is reached
as a pysnow resource on ``/stats/incident``. Answers are compared with the sandbox's rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pysnow
import pytest
import requests

from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.sandbox.schema import load_choices

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=19, now=NOW, tls=True, incidents=250, changes=40,
                           problems=10) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: ServiceNowSandbox) -> Iterator[pysnow.Client]:
    session = requests.Session()
    session.auth = sandbox.credentials["integration"]
    session.verify = sandbox.ca_bundle
    host = sandbox.url.removeprefix("https://")
    snow = pysnow.Client(host=host, use_ssl=True, session=session)
    yield snow
    snow.close()


@pytest.fixture
def incidents(client: pysnow.Client):
    return client.resource(api_path="/table/incident")


def test_query_builder_or_and_new_query(incidents, sandbox):
    query = (pysnow.QueryBuilder()
             .field("priority").equals("4").AND().field("short_description").contains("Cloud")
             .OR().field("short_description").starts_with("Email")
             .NQ().field("state").equals(["1", "2"])
             .AND().field("number").order_descending())
    got = [r["number"] for r in incidents.get(query, fields=["number"]).all()]
    expected = [r for r in sandbox.table("incident")
                if (r["priority"] == "4" and ("cloud" in r["short_description"].lower()
                                              or r["short_description"].startswith("Email")))
                or r["state"] in ("1", "2")]
    assert got == sorted((r["number"] for r in expected), reverse=True)
    assert len(got) > 3


def test_datetime_bounds_become_gs_date_generate(incidents, sandbox):
    start, end = datetime(2025, 1, 1), datetime(2025, 1, 15, 12, 0)
    query = pysnow.QueryBuilder().field("opened_at").between(start, end)
    got = sorted(r["number"] for r in incidents.get(query, fields=["number"]).all())
    expected = sorted(r["number"] for r in sandbox.table("incident")
                      if "2025-01-01 00:00:00" <= r["opened_at"] <= "2025-01-15 12:00:00")
    assert got == expected and expected
    after = pysnow.QueryBuilder().field("opened_at").greater_than(datetime(2025, 2, 20))
    assert sorted(r["number"] for r in incidents.get(after, fields=["number"]).all()) == \
        sorted(r["number"] for r in sandbox.table("incident")
               if r["opened_at"] > "2025-02-20 00:00:00")


def test_is_empty_and_display_values(incidents, sandbox):
    query = pysnow.QueryBuilder().field("resolved_at").is_empty()
    records = incidents.get(query, display_value=True,
                            fields=["number", "state", "assignment_group"]).all()
    rows = {r["number"]: r for r in sandbox.table("incident") if r["resolved_at"] == ""}
    groups = {g["sys_id"]: g["name"] for g in sandbox.table("sys_user_group")}
    states = dict(load_choices()["incident"]["state"])
    assert sorted(r["number"] for r in records) == sorted(rows) and rows
    for record in records:
        row = rows[record["number"]]
        assert record["state"] == states[row["state"]]
        if row["assignment_group"]:
            assert record["assignment_group"]["display_value"] == groups[row["assignment_group"]]
            assert record["assignment_group"]["link"].endswith(row["assignment_group"])


def test_name_value_pairs_take_display_values_of_choices_and_references(client, sandbox):
    group = sandbox.table("sys_user_group")[1]
    resource = client.resource(api_path="/table/incident")
    resource.parameters.add_custom({"state": "closed", "assignment_group": group["name"].upper(),
                                    "sysparm_fields": "number"})
    got = sorted(r["number"] for r in resource.get("").all())
    expected = sorted(r["number"] for r in sandbox.table("incident")
                      if r["state"] == "7" and r["assignment_group"] == group["sys_id"])
    assert got == expected and expected


def test_paging_headers_on_a_middle_page(incidents, sandbox):
    response = incidents.get("active=false^ORDERBYnumber", limit=10, offset=20,
                             fields=["number"])
    numbers = [r["number"] for r in response.all()]
    rows = sorted(r["number"] for r in sandbox.table("incident") if r["active"] == "false")
    assert numbers == rows[20:30]
    assert response.headers["X-Total-Count"] == str(len(rows))
    links = dict(reversed(part.split(";rel=")) for part in response.headers["Link"].split(","))
    assert {k.strip('"') for k in links} == {"first", "prev", "next", "last"}
    assert "sysparm_offset=30" in links['"next"'] and "sysparm_offset=10" in links['"prev"']
    assert f"sysparm_offset={(len(rows) - 1) // 10 * 10}" in links['"last"']


def test_create_update_delete(incidents, sandbox):
    created = incidents.create({"short_description": "pysnow write", "impact": "2"}).one()
    sys_id = created["sys_id"]
    assert sandbox.record("incident", sys_id)["short_description"] == "pysnow write"
    updated = incidents.update({"sys_id": sys_id}, {"short_description": "pysnow edited"}).one()
    assert updated["short_description"] == "pysnow edited"
    assert sandbox.record("incident", sys_id)["impact"] == "2"
    assert [r.method for r in sandbox.log if r.path.endswith(sys_id)] == ["PUT"]
    assert incidents.delete({"sys_id": sys_id}) == {"status": "record deleted"}
    assert sandbox.record("incident", sys_id) is None
    with pytest.raises(pysnow.exceptions.NoResults):  # unversioned: 200 {"result": []}
        incidents.get(query={"sys_id": sys_id}).one()


def test_create_with_input_display_values(client, sandbox):
    group = sandbox.table("sys_user_group")[2]
    resource = client.resource(api_path="/table/incident")
    resource.parameters.add_custom({"sysparm_input_display_value": "true"})
    created = resource.create({"short_description": "by display values",
                               "state": "In Progress", "assignment_group": group["name"]}).one()
    stored = sandbox.record("incident", created["sys_id"])
    assert (stored["state"], stored["assignment_group"]) == ("2", group["sys_id"])
    plain = client.resource(api_path="/table/incident").create(
        {"short_description": "raw values", "state": "In Progress"}).one()
    assert sandbox.record("incident", plain["sys_id"])["state"] == "In Progress"


def test_aggregate_api_through_a_pysnow_resource(client, sandbox):
    stats = client.resource(api_path="/stats/incident")
    stats.parameters.add_custom({"sysparm_count": "true", "sysparm_group_by": "priority",
                                 "sysparm_avg_fields": "reassignment_count",
                                 "sysparm_order_by": "COUNT^DESC"})
    groups = stats.get("active=false").all()
    rows = [r for r in sandbox.table("incident") if r["active"] == "false"]
    counts = Counter(r["priority"] for r in rows)
    assert [(g["groupby_fields"][0]["value"], int(g["stats"]["count"])) for g in groups] == \
        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    for group in groups:
        members = [int(r["reassignment_count"]) for r in rows
                   if r["priority"] == group["groupby_fields"][0]["value"]]
        assert group["stats"]["avg"]["reassignment_count"] == \
            f"{sum(members) / len(members):.4f}"

    total = client.resource(api_path="/stats/incident")
    total.parameters.add_custom({"sysparm_count": "true", "sysparm_max_fields": "opened_at"})
    one = total.get("priority=4").one()
    fours = [r for r in sandbox.table("incident") if r["priority"] == "4"]
    assert one["stats"] == {"count": str(len(fours)),
                            "max": {"opened_at": max(r["opened_at"] for r in fours)}}


def test_aggregate_having_and_display_values_of_a_reference_group(client, sandbox):
    stats = client.resource(api_path="/stats/incident")
    stats.parameters.add_custom({"sysparm_count": "true", "sysparm_group_by": "assignment_group",
                                 "sysparm_having": "count^assignment_group^>=^30",
                                 "sysparm_display_value": "all"})
    groups = stats.get("").all()
    names = {g["sys_id"]: g["name"] for g in sandbox.table("sys_user_group")}
    counts = Counter(r["assignment_group"] for r in sandbox.table("incident"))
    expected = sorted((k, n) for k, n in counts.items() if n >= 30)
    assert expected and len(expected) < len(counts)
    assert sorted((g["groupby_fields"][0]["value"], int(g["stats"]["count"]))
                  for g in groups) == expected
    for group in groups:
        field = group["groupby_fields"][0]
        assert field["field"] == "assignment_group"
        assert field["display_value"] == names.get(field["value"], "")


def test_missing_table_and_unknown_api_answer_in_the_platform_error_shape(client):
    with pytest.raises(requests.HTTPError) as raised:
        client.resource(api_path="/table/u_missing").get("active=true").all()
    assert raised.value.response.status_code == 400
    assert raised.value.response.json() == {
        "error": {"message": "Invalid table u_missing", "detail": None}, "status": "failure"}
    with pytest.raises(requests.HTTPError) as raised:
        client.resource(api_path="/table/incident").get("active=true", limit=0).all()
    assert raised.value.response.status_code == 400
    assert raised.value.response.json()["error"] == {
        "message": "Invalid value given for sysparm_limit",
        "detail": "sysparm_limit value must be a positive integer"}
    with pytest.raises(requests.HTTPError) as raised:
        client.resource(api_path="/no_such_api/thing").get("").all()
    body = raised.value.response.json()
    assert raised.value.response.headers["Content-Type"].startswith("application/json")
    assert raised.value.response.status_code == 400 and body["status"] == "failure"
    assert body["error"]["message"] == "Requested URI does not represent any resource"
