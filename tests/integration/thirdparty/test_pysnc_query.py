"""pysnc (ServiceNow's own Python client) reads the ServiceNow sandbox over verified HTTPS.

Every query goes through ``GlideRecord`` unchanged (it sends ``sysparm_display_value=all``,
``sysparm_exclude_reference_link=true``, ``ORDERBYsys_id`` by default and pages on
``X-Total-Count``); every answer is compared with a filter written by hand over the
sandbox's own rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pysnc import ServiceNowClient
from pysnc.exceptions import RequestException

from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.sandbox.schema import load_choices

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=13, now=NOW, tls=True, incidents=300, changes=60,
                           problems=20) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: ServiceNowSandbox) -> ServiceNowClient:
    assert sandbox.url.startswith("https://")
    return ServiceNowClient(sandbox.url, sandbox.credentials["integration"],
                            verify=sandbox.ca_bundle, auto_retry=False)


def numbers(gr) -> list[str]:
    return [record.get_value("number") for record in gr]


def test_add_query_with_or_condition_selects_what_a_hand_filter_selects(client, sandbox):
    gr = client.GlideRecord("incident")
    gr.add_query("priority", "2").add_or_condition("priority", "3")
    gr.add_query("reassignment_count", ">", "0")
    gr.fields = "number,priority"
    gr.query()
    expected = sorted(r["number"] for r in sandbox.table("incident")
                      if r["priority"] in ("2", "3") and r["reassignment_count"] != "0")
    assert sorted(numbers(gr)) == expected
    assert gr.get_row_count() == len(expected) > 0


@pytest.mark.parametrize(("encoded", "keep"), [
    ("short_descriptionLIKEcapacity^priorityIN3,4",
     lambda r: "capacity" in r["short_description"].lower() and r["priority"] in ("3", "4")),
    ("short_descriptionSTARTSWITHCloud^NQshort_descriptionENDSWITHServer^state=6",
     lambda r: r["short_description"].lower().startswith("cloud")
     or (r["short_description"].lower().endswith("server") and r["state"] == "6")),
    ("short_descriptionSTARTSWITHcloud capacity",
     lambda r: r["short_description"].lower().startswith("cloud capacity")),
    ("priorityNOT IN4,5^short_descriptionNOT LIKEcloud",
     lambda r: r["priority"] not in ("4", "5") and "cloud" not in r["short_description"].lower()),
    ("problem_idISNOTEMPTY", lambda r: r["problem_id"] != ""),
    ("resolved_atISEMPTY", lambda r: r["resolved_at"] == ""),
    ("reassignment_count>=2^reopen_count<=0",
     lambda r: int(r["reassignment_count"]) >= 2 and int(r["reopen_count"]) <= 0),
    ("opened_atBETWEEN2025-01-01 00:00:00@2025-01-31 23:59:59",
     lambda r: "2025-01-01 00:00:00" <= r["opened_at"] <= "2025-01-31 23:59:59"),
    ("short_descriptionCONTAINSalert", lambda r: "alert" in r["short_description"].lower()),
])
def test_encoded_query_operators(client, sandbox, encoded, keep):
    gr = client.GlideRecord("incident")
    gr.add_encoded_query(encoded)
    gr.fields = "number"
    gr.query()
    expected = sorted(r["number"] for r in sandbox.table("incident") if keep(r))
    assert expected, "the case must select something to prove anything"
    assert sorted(numbers(gr)) == expected


def test_paging_with_a_small_batch_reads_every_record_once_in_order(client, sandbox):
    gr = client.GlideRecord("incident", batch_size=7)
    gr.add_query("active", "false")
    gr.order_by_desc("opened_at")
    gr.fields = "number,opened_at"
    gr.query()
    got = [(r.get_value("opened_at"), r.get_value("number")) for r in gr]
    rows = [r for r in sandbox.table("incident") if r["active"] == "false"]
    assert len(got) == gr.get_row_count() == len(rows) > 7 * 10
    assert sorted(n for _o, n in got) == sorted(r["number"] for r in rows)
    assert [o for o, _n in got] == sorted((r["opened_at"] for r in rows), reverse=True)
    pages = [p for p in sandbox.log if p.path.endswith("/table/incident")]
    assert {p.params["sysparm_limit"] for p in pages[-(len(rows) // 7):]} == {"7"}


def test_order_by_ascending_on_a_number_field(client, sandbox):
    gr = client.GlideRecord("incident", batch_size=100)
    gr.add_query("reassignment_count", ">", "0")
    gr.order_by("reassignment_count")
    gr.fields = "number,reassignment_count"
    gr.query()
    counts = [int(r.get_value("reassignment_count")) for r in gr]
    assert counts == sorted(int(r["reassignment_count"]) for r in sandbox.table("incident")
                            if int(r["reassignment_count"]) > 0)


def test_get_by_sys_id_gives_values_and_display_values(client, sandbox):
    row = next(r for r in sandbox.table("incident") if r["assignment_group"] and r["state"] == "7")
    group = sandbox.record("sys_user_group", row["assignment_group"])
    gr = client.GlideRecord("incident")
    assert gr.get(row["sys_id"]) is True
    assert gr.get_value("number") == row["number"]
    assert gr.get_value("state") == "7"
    assert gr.get_display_value("state") == "Closed"
    assert gr.get_value("assignment_group") == row["assignment_group"]
    assert gr.get_display_value("assignment_group") == group["name"]
    assert gr.get_value("opened_at") == row["opened_at"]
    assert gr.get_element("opened_at").date_value() == datetime.strptime(
        row["opened_at"] + "+0000", "%Y-%m-%d %H:%M:%S%z")
    labels = dict(load_choices()["incident"]["category"])
    assert gr.get_display_value("category") == labels[row["category"]]


def test_get_of_a_missing_record_is_false(client):
    assert client.GlideRecord("incident").get("0" * 32) is False


def test_display_value_false_and_true(client, sandbox):
    row = next(r for r in sandbox.table("incident") if r["caller_id"])
    caller = sandbox.record("sys_user", row["caller_id"])
    raw = client.GlideRecord("incident")
    raw.display_value = False
    assert raw.get(row["sys_id"])
    assert raw.get_value("caller_id") == row["caller_id"]
    shown = client.GlideRecord("incident")
    shown.display_value = True
    assert shown.get(row["sys_id"])
    assert shown.get_value("caller_id") == caller["name"]
    assert shown.get_value("priority") == dict(load_choices()["incident"]["priority"])[
        row["priority"]]


def test_dot_walked_fields_and_conditions(client, sandbox):
    users = {u["sys_id"]: u for u in sandbox.table("sys_user")}
    groups = {g["sys_id"]: g for g in sandbox.table("sys_user_group")}
    group = next(iter(groups.values()))
    gr = client.GlideRecord("incident")
    gr.add_query("assignment_group.name", group["name"])
    gr.fields = ["number", "caller_id", "caller_id.email", "assignment_group.manager"]
    gr.query()
    expected = {r["number"]: r for r in sandbox.table("incident")
                if r["assignment_group"] == group["sys_id"]}
    seen = {}
    for record in gr:
        row = expected[record.get_value("number")]
        seen[row["number"]] = True
        assert record.caller_id.email == users[row["caller_id"]]["email"]
        assert record.get_value("caller_id.email") == users[row["caller_id"]]["email"]
        assert record.get_value("assignment_group.manager") == group["manager"]
        assert record.get_display_value("assignment_group.manager") == \
            users[group["manager"]]["name"]
    assert set(seen) == set(expected) and expected


def test_gs_date_functions_in_encoded_queries(client, sandbox):
    gr = client.GlideRecord("incident")
    gr.add_encoded_query("opened_at>=javascript:gs.daysAgoStart(30)")
    gr.fields = "number"
    gr.query()
    start = (NOW - timedelta(days=30)).strftime("%Y-%m-%d 00:00:00")
    expected = sorted(r["number"] for r in sandbox.table("incident") if r["opened_at"] >= start)
    assert sorted(numbers(gr)) == expected and expected

    month = client.GlideRecord("incident")
    month.add_encoded_query("opened_atONLast month@javascript:gs.beginningOfLastMonth()"
                            "@javascript:gs.endOfLastMonth()")
    month.fields = "number"
    month.query()
    february = sorted(r["number"] for r in sandbox.table("incident")
                      if r["opened_at"].startswith("2025-02"))
    assert sorted(numbers(month)) == february and february

    recent = client.GlideRecord("incident")
    recent.add_encoded_query("opened_atRELATIVEGT@dayofweek@ago@7")
    recent.fields = "number"
    recent.query()
    # The sandbox clock runs on from NOW, so the bound lies between NOW-7d and a minute later.
    def after(moment: datetime) -> set[str]:
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
        return {r["number"] for r in sandbox.table("incident") if r["opened_at"] > text}
    week_ago = NOW - timedelta(days=7)
    assert after(week_ago + timedelta(minutes=1)) <= set(numbers(recent)) <= after(week_ago)
    assert after(week_ago + timedelta(minutes=1))


def test_unknown_field_in_a_query_is_dropped_like_the_platform(client, sandbox):
    gr = client.GlideRecord("incident")
    gr.add_query("no_such_field", "x")
    gr.add_query("priority", "2")
    gr.fields = "number"
    gr.query()
    assert sorted(numbers(gr)) == sorted(r["number"] for r in sandbox.table("incident")
                                         if r["priority"] == "2")


def test_invalid_query_returns_no_rows_when_the_property_is_set(client, sandbox):
    sandbox.tables_api.invalid_query_returns_no_rows = True
    try:
        gr = client.GlideRecord("incident")
        gr.add_query("no_such_field", "x")
        gr.add_query("priority", "2")
        gr.query()
        assert gr.get_row_count() == 0 and not gr.next()
    finally:
        sandbox.tables_api.invalid_query_returns_no_rows = False


def test_missing_table_raises_the_platform_error(client):
    gr = client.GlideRecord("u_no_such_table")
    with pytest.raises(RequestException, match="Invalid table u_no_such_table"):
        gr.query()


def test_dictionary_choice_and_table_metadata(client, sandbox):
    entry = client.GlideRecord("sys_dictionary")
    entry.add_query("name", "incident")
    entry.add_query("element", "assignment_group")
    entry.query()
    assert entry.next()
    assert entry.get_value("internal_type") == "reference"
    assert entry.get_value("reference") == "sys_user_group"
    assert entry.get_value("column_label") == "Assignment group"

    columns = client.GlideRecord("sys_dictionary", batch_size=40)
    columns.add_query("name", "incident")
    columns.add_not_null_query("element")
    columns.fields = "element"
    columns.query()
    assert sorted(c.get_value("element") for c in columns) == sorted(sandbox.table("incident")[0])

    choice = client.GlideRecord("sys_choice")
    choice.add_encoded_query("name=incident^element=state^inactive=false^ORDERBYsequence")
    choice.order_by("sequence")
    choice.query()
    assert [(c.get_value("value"), c.get_value("label")) for c in choice] == \
        load_choices()["incident"]["state"]

    table = client.GlideRecord("sys_db_object")
    assert table.get("name", "change_request")
    assert table.get_value("label") == "Change Request"
