"""Issue 14: evidence links select exactly the counted records; owners appear by name.

One full run over both sandboxes (seed 7, the organisation the shipped portfolio describes),
then every evidence link's query is sent back to the platform it points at — the encoded
query through the ServiceNow Table API, the JQL through Jira's search API — and what comes
back must be exactly the record ids the engine stored as counted. The same run's console
report, results.json, ServiceNow records and Jira scorecard must name the owners as people
know them: every product's scorecard, on Jira Cloud (owner by accountId) and Data Center
(owner by user name: Data Center has no accountId), names its owner by display name with
the id beside it, and its scope cells name the product and services the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.commands.report import render_table
from fiveo_sync.compute import load_history
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.evidence_links import LinkBuilder, build_link_builder
from fiveo_sync.logs import get_logger
from fiveo_sync.paths import shipped_dir
from fiveo_sync.runner import Runner
from fiveo_sync.state import StateStore
from fiveo_sync.views import load_owner_views

NOW = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)  # mid-April: March complete, April partial
TABLES = {"incident": "incident", "change": "change_request", "problem": "problem",
          "sla": "task_sla"}


class Ran:
    """The sandboxes after one run, and what the run stored."""

    def __init__(self, sn: ServiceNowSandbox, jira: JiraSandbox, out_dir: Path) -> None:
        self.sn, self.jira, self.out_dir = sn, jira, out_dir
        self.settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out_dir))
        report = Runner(self.settings, clock=sn.clock, log=get_logger("test")).run()
        assert report.exit_code == 0, report.summary()
        self.mappings = load_mappings(self.settings.mappings.dir)
        with StateStore(self.settings.state.path) as store:
            self.results = load_history(store)
            self.views = load_owner_views(store, self.mappings.portfolio, self.settings,
                                          sn.clock())

    def sn_get(self, path: str, params: dict[str, str]) -> list[dict]:
        user, password = self.sn.credentials["integration"]
        reply = requests.get(f"{self.sn.url}{path}", params=params, auth=(user, password),
                             timeout=30, verify=self.sn.ca_bundle)
        assert reply.status_code == 200, reply.text[:300]
        return reply.json()["result"]

    def jira_search(self, jql: str) -> list[str]:
        auth = (self.jira.credentials["email"], self.jira.credentials["api_token"])
        keys, token = [], None
        while True:
            body = {"jql": jql, "fields": ["key"], "maxResults": 100}
            if token:
                body["nextPageToken"] = token
            reply = requests.post(f"{self.jira.url}/rest/api/3/search/jql", json=body,
                                  auth=auth, timeout=30, verify=self.jira.ca_bundle)
            assert reply.status_code == 200, reply.text[:300]
            page = reply.json()
            keys += [issue["key"] for issue in page["issues"]]
            token = page.get("nextPageToken")
            if not token:
                return keys


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    out = tmp_path_factory.mktemp("owner-views")
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, deployment="cloud", tls=True) as jira:
        yield Ran(sn, jira, out / "out")


def _largest_per_kind(results, per_kind: int = 3) -> dict[str, list]:
    """The results with the most evidence of each record kind (the hardest links)."""
    chosen: dict[str, list] = {}
    for kind in (*TABLES, "work_item"):
        having = [r for r in results if r.evidence.get(kind)]
        having.sort(key=lambda r: (-len(r.evidence[kind]), r.key))
        chosen[kind] = having[:per_kind]
    return chosen


def test_servicenow_links_select_exactly_the_counted_records(ran):
    links = build_link_builder(ran.settings)
    checked = 0
    for kind, results in _largest_per_kind(ran.results).items():
        if kind == "work_item":
            continue
        assert results, f"no result counted any {kind}"
        for result in results:
            (link,) = [x for x in links.links(result) if x.kind == kind]
            parts = urlsplit(link.url)
            assert parts.path == f"/{TABLES[kind]}_list.do"
            query = parse_qs(parts.query)["sysparm_query"][0]
            rows = ran.sn_get(f"/api/now/table/{TABLES[kind]}",
                              {"sysparm_query": query, "sysparm_fields": "sys_id",
                               "sysparm_limit": "10000"})
            assert sorted(r["sys_id"] for r in rows) == list(result.evidence[kind]), result.key
            checked += 1
    assert checked >= 8


def test_jira_links_select_exactly_the_counted_issues(ran):
    links = build_link_builder(ran.settings)
    results = _largest_per_kind(ran.results)["work_item"]
    assert results
    for result in results:
        (link,) = [x for x in links.links(result) if x.kind == "work_item"]
        parts = urlsplit(link.url)
        assert parts.path == "/issues/"
        jql = parse_qs(parts.query)["jql"][0]
        found = ran.jira_search(jql)  # ORDER BY key sorts by issue number, not as text
        assert sorted(found) == list(result.evidence["work_item"]), result.key


def test_record_measures_link_every_record_in_scope_and_period(ran):
    # MTTR: the evidence is the resolved incidents used (n) plus those left out (excluded).
    mttr = [r for r in ran.results if r.indicator == "operate.mttr" and r.n > 0]
    assert mttr
    for result in mttr:
        assert len(result.evidence["incident"]) == result.n + result.excluded, result.key
    by_priority = [r for r in mttr if r.breakdown != "all"]
    assert by_priority
    total = next(r for r in mttr if r.breakdown == "all" and r.scope == by_priority[0].scope
                 and r.period == by_priority[0].period)
    parts = [r for r in by_priority if r.scope == total.scope and r.period == total.period]
    assert {i for r in parts for i in r.evidence["incident"]} <= set(total.evidence["incident"])


def test_headline_is_the_last_complete_month_and_partial_is_april(ran):
    view = next(v for v in ran.views if v.kind == "service" and v.id == "payments")
    row = next(r for r in view.rows if r.lead.indicator == "operate.mttr"
               and r.lead.breakdown == "all")
    assert row.headline is not None and row.headline.period == "2025-03"
    assert row.partial is not None and row.partial.period == "2025-04"
    assert row.status == row.headline.status
    assert all(r.period_end <= NOW for r in view.results)


def _expected_owner_names(ran) -> tuple[str, str, str]:
    service = next(s for s in ran.mappings.portfolio.services if s.id == "payments")
    (user,) = [u for u in ran.sn.table("sys_user") if u["user_name"] == service.owner]
    product = next(p for p in ran.mappings.portfolio.products if p.id == service.products[0])
    (person,) = [p for p in ran.jira.world.people if p.jira_account_id == product.owner]
    return user["name"], person.display_name, product.owner


def test_console_report_and_results_json_name_the_owners(ran):
    service_owner, product_owner, account = _expected_owner_names(ran)
    text = render_table([v for v in ran.views if v.id in ("payments", "payments-web")],
                        colour=False)
    assert f"owner: {service_owner} (alice.martin)" in text
    assert f"owner: {product_owner} ({account})" in text
    assert "to date:" in text and "(partial)" in text
    document = json.loads((ran.out_dir / "results.json").read_text(encoding="utf-8"))
    views = {v["id"]: v for v in document["views"]}
    assert views["payments"]["owner_name"] == service_owner
    assert views["payments-web"]["owner_name"] == product_owner
    assert views["payments-web"]["owner"] == account
    series = views["payments"]["series"]
    mttr = next(s for s in series if s["series_key"] == "fiveo:operate.mttr:service:payments:all")
    assert mttr["headline"]["period"] == "2025-03" and mttr["partial"]["period"] == "2025-04"
    (link,) = mttr["headline"]["evidence_links"]
    assert link["platform"] == "servicenow" and link["count"] == len(
        mttr["headline"]["evidence"]["incident"])


def test_servicenow_records_say_complete_or_partial_and_name_the_owner(ran):
    service_owner, _, _ = _expected_owner_names(ran)
    rows = {r["u_key"]: r for r in ran.sn.table("u_fiveo_indicator")}
    march = rows["fiveo:operate.mttr:service:payments:all:2025-03"]
    april = rows["fiveo:operate.mttr:service:payments:all:2025-04"]
    assert (march["u_period_state"], april["u_period_state"]) == ("complete", "partial")
    assert march["u_owner_name"] == service_owner and march["u_owner_id"] == "alice.martin"
    assert march["u_scope_name"] == "Payments"
    result = next(r for r in ran.results if r.key == march["u_key"])
    (link,) = LinkBuilder(servicenow_url=ran.settings.servicenow.instance_url).links(result)
    assert march["u_evidence"] == link.url
    # A list can filter on it: only complete periods.
    complete = ran.sn_get("/api/now/table/u_fiveo_indicator", {
        "sysparm_query": "u_scope=payments^u_indicator=operate.mttr^u_breakdown=all"
                         "^u_period_state=complete", "sysparm_fields": "u_period"})
    assert "2025-03" in {r["u_period"] for r in complete}
    assert "2025-04" not in {r["u_period"] for r in complete}


def _adf_text(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if node.get("type") == "text":
            out.append(node.get("text", ""))
            for mark in node.get("marks") or ():
                if mark.get("type") == "link":
                    out.append(mark["attrs"]["href"])
        for child in node.get("content") or ():
            out += _adf_text(child)
    return out


def _scorecards_expected(ran, by: str) -> dict[str, tuple[str, set[str]]]:
    """Per Jira project: the owner sentence and the scope cells its scorecard must show.

    The shipped portfolio names product owners by Cloud accountId; the Jira world says who
    each is (display name, Data Center user name).
    """
    portfolio = load_mappings(shipped_dir("mappings")).portfolio
    people = {p.jira_account_id: p for p in ran.jira.world.people}
    expected = {}
    for product in portfolio.products:
        person = people[product.owner]
        ident = person.jira_account_id if by == "accountId" else person.user_name
        scopes = {f"{product.name} (product {product.id})"} | {
            f"{s.name or s.business_service} (service {s.id}, combined)"
            for s in portfolio.services_of_product(product.id)}
        expected[product.jira_projects[0]] = (
            f"Product owner: {person.display_name} ({ident}).", scopes)
    return expected


def _adf_scope_cells(doc) -> set[str]:
    cells = set()
    for node in doc["content"]:
        if node["type"] == "table":
            for row in node["content"][1:]:  # below the header row
                (paragraph,) = row["content"][1]["content"]
                cells.add("".join(t.get("text", "") for t in paragraph["content"]))
    return cells


def _wiki_scope_cells(wiki: str) -> set[str]:
    rows = [line for line in wiki.split("\n") if line.startswith("|")
            and not line.startswith("||")]
    # Cells split on unescaped bars; the scope is the second cell, before any link.
    return {re.sub(r"\\(.)", r"\1", re.split(r"(?<!\\)\|", row)[2]) for row in rows}


def test_every_cloud_scorecard_names_its_owner_and_scopes(ran):
    auth = (ran.jira.credentials["email"], ran.jira.credentials["api_token"])
    label = ran.settings.jira.scorecard.label
    expected = _scorecards_expected(ran, "accountId")
    keys = ran.jira_search(f'labels = "{label}"')
    assert {key.split("-")[0] for key in keys} == set(expected)
    for key in keys:
        owner, scopes = expected[key.split("-")[0]]
        reply = requests.get(f"{ran.jira.url}/rest/api/3/issue/{key}",
                             params={"fields": "description"}, auth=auth, timeout=30,
                             verify=ran.jira.ca_bundle)
        doc = reply.json()["fields"]["description"]
        assert owner in doc["content"][0]["content"][0]["text"], key
        assert _adf_scope_cells(doc) == scopes, key


def test_jira_scorecard_leads_with_complete_period_names_owner_and_links(ran):
    _, product_owner, account = _expected_owner_names(ran)
    product = next(p for p in ran.mappings.portfolio.products if p.id == "payments-web")
    auth = (ran.jira.credentials["email"], ran.jira.credentials["api_token"])
    label = ran.settings.jira.scorecard.label
    (key,) = ran.jira_search(f'project = {product.jira_projects[0]} AND labels = "{label}"')
    reply = requests.get(f"{ran.jira.url}/rest/api/3/issue/{key}",
                         params={"fields": "description"}, auth=auth, timeout=30,
                         verify=ran.jira.ca_bundle)
    assert reply.status_code == 200
    texts = _adf_text(reply.json()["fields"]["description"])
    joined = "\n".join(texts)
    assert f"Product owner: {product_owner} ({account})" in joined
    assert "Complete period" in texts and "To date (partial)" in texts
    assert any(t.endswith("(partial)") and t.startswith("2025-04") for t in texts)
    assert any("/issues/?jql=key%20in%20%28" in t for t in texts)


@pytest.fixture(scope="module")
def ran_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    out = tmp_path_factory.mktemp("owner-views-dc")
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, deployment="datacenter",
                        tls=True) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out / "out",
                                                             deployment="datacenter"))
        assert Runner(settings, clock=sn.clock, log=get_logger("test")).run().exit_code == 0
        ran = Ran.__new__(Ran)
        ran.sn, ran.jira, ran.out_dir, ran.settings = sn, jira, out / "out", settings
        with StateStore(settings.state.path) as store:
            ran.results = load_history(store)
        yield ran


def test_data_center_jql_links_and_wiki_scorecard_links(ran_dc):
    links = build_link_builder(ran_dc.settings)
    token = {"Authorization": f"Bearer {ran_dc.jira.credentials['pat']}"}
    for result in _largest_per_kind(ran_dc.results)["work_item"]:
        (link,) = [x for x in links.links(result) if x.kind == "work_item"]
        jql = parse_qs(urlsplit(link.url).query)["jql"][0]
        keys: list[str] = []
        while True:  # Data Center pages with startAt/total (at most 100 a page)
            reply = requests.post(f"{ran_dc.jira.url}/rest/api/2/search", headers=token,
                                  json={"jql": jql, "fields": ["key"], "maxResults": 100,
                                        "startAt": len(keys)},
                                  timeout=30, verify=ran_dc.jira.ca_bundle)
            assert reply.status_code == 200, reply.text[:300]
            page = reply.json()
            keys += [i["key"] for i in page["issues"]]
            if not page["issues"] or len(keys) >= page["total"]:
                break
        assert sorted(keys) == list(result.evidence["work_item"]), result.key
    label = ran_dc.settings.jira.scorecard.label
    reply = requests.post(f"{ran_dc.jira.url}/rest/api/2/search", headers=token,
                          json={"jql": f'labels = "{label}"', "fields": ["description"]},
                          timeout=30, verify=ran_dc.jira.ca_bundle)
    issues = reply.json()["issues"]
    descriptions = [i["fields"]["description"] for i in issues]
    assert descriptions and all("||Complete period||" in d for d in descriptions)
    assert any(f"|{ran_dc.jira.url}/issues/?jql=key%20in%20%28" in d for d in descriptions)
    # Owners by display name with the Data Center user name beside it, scopes by name.
    expected = _scorecards_expected(ran_dc, "user_name")
    assert {i["key"].split("-")[0] for i in issues} == set(expected)
    for issue in issues:
        owner, scopes = expected[issue["key"].split("-")[0]]
        wiki = issue["fields"]["description"]
        intro = re.sub(r"\\(.)", r"\1", wiki.split("\n")[0])
        assert owner in intro, issue["key"]
        assert _wiki_scope_cells(wiki) == scopes, issue["key"]
