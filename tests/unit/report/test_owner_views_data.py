"""Names, evidence links and the partial column in each view (issue 14), without platforms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from fiveo_sync.commands.report import render_table, views_to_json
from fiveo_sync.evidence_links import LONG_URL_CHARS, LinkBuilder
from fiveo_sync.names import NameBook, build_name_book
from fiveo_sync.report.html import build_view_page
from fiveo_sync.views import build_views
from fiveo_sync.writers.context import build_publish_context
from fiveo_sync.writers.jira import (
    ScorecardTarget,
    build_scorecard_description,
    build_scorecard_rows,
)
from fiveo_sync.writers.servicenow import build_record

NOW = datetime(2025, 4, 9, tzinfo=UTC)
SN = "https://acme.service-now.com"
JIRA = "https://acme.atlassian.net"
IDS = ("0a" * 16, "1b" * 16)


class FakeStore:
    """Stored payloads by (source, stream)."""

    def __init__(self, streams):
        self.streams, self.reads = streams, []

    def iter_payloads(self, source, stream):
        for payload in self.streams.get((source, stream), []):
            self.reads.append((source, stream))
            yield payload


def _store():
    return FakeStore({
        ("servicenow", "sys_user"): [
            {"sys_id": "u1", "user_name": "alice.martin", "name": "Alice Martin"},
            {"sys_id": "u2", "user_name": "nobody"}],  # no name: stays an id
        ("servicenow", "sys_user_group"): [{"sys_id": "g1", "name": "Payments L2"}],
        ("servicenow", "cmdb_ci_service"): [{"sys_id": "s1", "name": "Payments"}],
        ("jira", "issue"): [
            {"key": "PAY-1", "fields": {"assignee": None, "reporter": {
                "accountId": "acc-1", "displayName": "Chloe Lindqvist"}}},
            {"key": "PAY-2", "fields": {"assignee": {
                "name": "bruno", "key": "JIRAUSER1", "displayName": "Bruno Diaz"}}}],
    })


def test_name_book_resolves_servicenow_and_jira_people():
    names = build_name_book(_store())
    assert names.name("alice.martin") == names.name("u1") == "Alice Martin"
    assert names.name("g1") == "Payments L2" and names.name("s1") == "Payments"
    assert names.name("acc-1") == "Chloe Lindqvist"
    assert names.name("bruno") == names.name("JIRAUSER1") == "Bruno Diaz"  # Data Center
    assert names.name("nobody") == "nobody" and not names.known("nobody")
    assert names.label("alice.martin") == "Alice Martin (alice.martin)"
    assert names.label(None) == "–"


def test_name_book_stops_reading_issues_once_every_owner_is_found():
    store = _store()
    names = build_name_book(store, {"alice.martin", "acc-1"})
    assert names.name("acc-1") == "Chloe Lindqvist"
    assert store.reads.count(("jira", "issue")) == 1  # PAY-2 was never read


def test_links_are_exact_lists_and_long_ones_are_marked(make_result):
    links = LinkBuilder(servicenow_url=SN + "/", jira_url=JIRA)
    result = make_result(evidence={"incident": IDS})
    (link,) = links.links(result)
    parts = urlsplit(link.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SN}/incident_list.do"
    assert parse_qs(parts.query)["sysparm_query"] == [f"sys_idIN{IDS[0]},{IDS[1]}"]
    assert (link.label, link.long) == ("2 incidents", False)
    (issue,) = links.links(make_result(evidence={"work_item": ("PAY-2", "PAY-10")}))
    assert parse_qs(urlsplit(issue.url).query)["jql"] == [
        "key in (PAY-2, PAY-10) ORDER BY key ASC"]
    many = tuple(f"{i:032x}" for i in range(80))
    (long_link,) = links.links(make_result(evidence={"sla": many}))
    assert "/task_sla_list.do?" in long_link.url and len(long_link.url) > LONG_URL_CHARS
    assert long_link.long and long_link.count == 80
    assert LinkBuilder(jira_url=JIRA).links(result) == []  # no ServiceNow instance: no link


def _views(make_result, names=None):
    november = make_result(period="2025-03", status="met", evidence={"incident": IDS})
    april = make_result(period="2025-04", status="missed", value=40.0,
                        period_start=datetime(2025, 4, 1, tzinfo=UTC),
                        period_end=datetime(2025, 5, 1, tzinfo=UTC))
    service = SimpleNamespace(id="payments", name=None, business_service="s1",
                              owner="alice.martin", products=("payments-web",))
    product = SimpleNamespace(id="payments-web", name="Payments Web", owner="acc-1")
    portfolio = SimpleNamespace(services=[service], products=[product])
    views = build_views([april, november], portfolio, now=NOW,
                        names=names or build_name_book(_store()),
                        links=LinkBuilder(servicenow_url=SN))
    return views, portfolio


def test_console_and_json_show_names_headline_partial_and_evidence(make_result):
    views, _ = _views(make_result)
    text = render_table(views[:1], colour=False)
    assert "== service Payments (payments), owner: Alice Martin (alice.martin)" in text
    line = next(t for t in text.splitlines() if "operate.mttr" in t)
    assert " 2025-03 " in line and " met " in line and "missed" not in line
    assert "2025-04 to date: 40.00 h (partial)" in line and "[2 incidents]" in line
    (view,) = json.loads(json.dumps(views_to_json(views[:1])))
    assert view["owner_name"] == "Alice Martin"
    assert view["linked_names"] == {"payments-web": "Payments Web"}
    (series,) = view["series"]
    assert series["status"] == "met"
    assert series["headline"]["period"] == "2025-03" and series["partial"]["period"] == "2025-04"
    assert series["headline"]["evidence"] == {"incident": list(IDS)}
    assert series["headline"]["evidence_links"][0]["count"] == 2


def test_dashboard_row_has_partial_evidence_link_and_owner_tooltip(make_result):
    names = NameBook({"alice.martin": "<b>Alice</b>", "s1": "Payments"})
    views, _ = _views(make_result, names)
    page = build_view_page(views[0], title="t", stamp="s", now=NOW)
    assert '<span title="alice.martin">&lt;b&gt;Alice&lt;/b&gt;</span>' in page
    assert "2025-04 to date: 40 h (partial)" in page
    assert f'href="{SN}/incident_list.do?sysparm_query=sys_idIN' in page
    assert "Complete period" in page and "To date (partial)" in page


def test_servicenow_record_and_jira_scorecard_carry_names_and_links(make_result):
    views, portfolio = _views(make_result)
    context = build_publish_context(portfolio, build_name_book(_store()),
                                    LinkBuilder(servicenow_url=SN, jira_url=JIRA))
    headline = views[0].rows[0].headline
    record = build_record(headline, run_id="r", computed_at=NOW, context=context)
    assert (record["u_scope_name"], record["u_owner_name"], record["u_owner_id"]) == (
        "Payments", "Alice Martin", "alice.martin")
    assert record["u_period_state"] == "complete"
    assert record["u_evidence"] == views[0].rows[0].headline_links[0].url
    product = make_result(view="product", scope_type="product", scope="payments-web",
                          evidence={"work_item": ("PAY-1",)})
    target = ScorecardTarget("payments-web", "Payments Web", "PAY", ("payments",))
    rows = build_scorecard_rows([product], NOW)
    wiki = build_scorecard_description(target, rows, "wiki", context)
    assert "Product owner: Chloe Lindqvist (acc\\-1)" in wiki
    assert f"[1 issue|{JIRA}/issues/?jql=key%20in%20%28PAY-1%29" in wiki
    adf = build_scorecard_description(target, rows, "adf", context)
    cells = [c for row in adf["content"] if row["type"] == "table" for c in row["content"]]
    hrefs = [mark["attrs"]["href"] for row in cells for cell in row["content"]
             for para in cell["content"] for text in para["content"]
             for mark in text.get("marks", ())]
    assert hrefs == [f"{JIRA}/issues/?jql=key%20in%20%28PAY-1%29%20ORDER%20BY%20key%20ASC"]


def test_console_table_groups_by_characteristic_or_dimension(make_result):
    availability = make_result(indicator="operate.availability", name="Availability",
                               characteristic="availability",
                               dimension="information_and_technology", evidence={})
    supplier = make_result(indicator="observe.supplier_mttr", name="Supplier MTTR",
                           o="observe", characteristic="performance",
                           dimension="partners_and_suppliers", evidence={})
    service = SimpleNamespace(id="payments", name="Payments", business_service="s1",
                              owner="alice.martin", products=())
    portfolio = SimpleNamespace(services=[service], products=[])
    views = build_views([availability, supplier], portfolio, now=NOW,
                        names=build_name_book(_store()), links=LinkBuilder())
    by_o = [t.strip() for t in render_table(views, colour=False).splitlines()]
    assert by_o.index("Operate") < by_o.index("Observe")
    text = render_table(views, colour=False, group_by="characteristic")
    lines = [t.strip() for t in text.splitlines()]
    assert "Operate" not in lines and "Quality" not in lines  # empty groups are left out
    assert lines.index("Availability") < lines.index("Performance")
    assert lines[lines.index("Availability") + 1].startswith("operate.availability")
    assert lines[lines.index("Performance") + 1].startswith("observe.supplier_mttr")
    lines = [t.strip() for t in render_table(views, False, "dimension").splitlines()]
    assert lines.index("Information and technology") < lines.index("Partners and suppliers")
