"""Issue 7, security: hostile names are text in every output a run writes.

A service named ``<script>alert(1)</script>``, a product whose name is HTML, Jira wiki
markup and control characters at once, and an indicator with such a name go through real
runs (Cloud + table, Data Center + import set). Then: the HTML dashboard in headless
Chromium holds them as text and no element they spell; the Jira scorecard read back from the
sandbox holds them as plain ADF text nodes (Cloud) or fully escaped wiki markup that keeps
its table shape (Data Center); the ServiceNow records read back hold the exact text in the
fields meant for names, and nowhere else.

The writers add markup of their own — status lozenges (ADF ``status`` nodes, wiki
``{color}``) and evidence links — so those are allowed only in the exact shapes the writer
builds: a status word on a lozenge colour, and a link whose label is a count ("12 changes")
and whose URL is made of the instance URL and the counted records' ids. Anything else that
is live markup fails the tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner

from .security_platforms import (
    HOSTILE_INDICATOR,
    HOSTILE_PRODUCT,
    HOSTILE_SERVICE,
    hostile_mappings,
    start_platforms,
)

LOG = get_logger("test")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
WIKI_SPECIAL = "*_?-+^~|{}[]!#"

# What the writers themselves emit: evidence URLs built from the sandbox URL and record ids
# (ServiceNow sys_ids, Jira issue keys) only, count labels, and status lozenges.
_SN_LIST = (r"https://127\.0\.0\.1:\d+/"
            r"(?:incident|change_request|problem|task_sla|cmdb_ci_outage|"
            r"asmt_assessment_instance)_list\.do"
            r"\?sysparm_query=sys_idIN[0-9a-f]{32}(?:%2C[0-9a-f]{32})*")
_JIRA_SEARCH = (r"https://127\.0\.0\.1:\d+/issues/\?jql=key%20in%20%28[A-Z][A-Z0-9]*-\d+"
                r"(?:%2C%20[A-Z][A-Z0-9]*-\d+)*%29%20ORDER%20BY%20key%20ASC")
EVIDENCE_URL = re.compile(f"{_SN_LIST}|{_JIRA_SEARCH}")
EVIDENCE_LABEL = re.compile(r"\d+ (?:incidents?|changes?|problems?|SLAs?|issues?|outages?|"
                            r"surveys?)")
STATUS_WORDS = ("MET", "AT RISK", "MISSED", "NO DATA", "INSUFFICIENT DATA")
LOZENGE_COLOURS = {"green", "yellow", "red", "neutral"}
WIKI_LOZENGE = re.compile(r"(?<!\\)\{color:#(?:36B37E|FF991F|FF5630|97A0AF)\}\*(?:"
                          + "|".join(STATUS_WORDS) + r")\*\{color\}")
WIKI_LINK = re.compile(rf"(?<!\\)\[{EVIDENCE_LABEL.pattern}\|(?:{_SN_LIST}|{_JIRA_SEARCH})\]")


def _folded(text: str) -> str:
    """What a single-line output keeps of a name: control characters folded to spaces."""
    return " ".join(CONTROL.sub(" ", text).split())


def _run(tmp_path: Path, deployment: str, write_mode: str) -> dict[str, Any]:
    mappings = hostile_mappings(tmp_path)
    for platforms in start_platforms(tmp_path, deployment=deployment, write_mode=write_mode,
                                     mappings_dir=mappings):
        report = Runner(platforms.settings, clock=platforms.clock, log=LOG).run()
        assert report.exit_code == 0, report.summary()
        label = platforms.settings.jira.scorecard.label
        cards = {issue.project: issue for issue in platforms.jira.data.iter_issues()
                 if label in issue.labels}
        product = next(p for p in platforms.jira.world.products if p.name == "Payments Web")
        card = cards[product.key]
        return {"out": platforms.settings.report.dir,
                "summary": card.summary, "description": card.extra.get("description"),
                "records": platforms.sn.table("u_fiveo_indicator"),
                "users": platforms.sn.table("sys_user")}
    raise AssertionError("no platforms")


@pytest.fixture(scope="module")
def cloud_run(tmp_path_factory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("cloud"), "cloud", "table")


@pytest.fixture(scope="module")
def datacenter_run(tmp_path_factory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("dc"), "datacenter", "import_set")


# -- ServiceNow --------------------------------------------------------------------------------

@pytest.mark.parametrize("flavour", ["cloud_run", "datacenter_run"])
def test_servicenow_records_hold_the_hostile_name_as_exact_text(flavour, request):
    records = request.getfixturevalue(flavour)["records"]
    mttr = [r for r in records if r["u_indicator"] == "operate.mttr"]
    assert mttr and {r["u_name"] for r in mttr} == {HOSTILE_INDICATOR}
    # Keys are built from ids only, so no name reaches a key or an encoded query.
    assert all(r["u_key"].startswith("fiveo:operate.mttr:") for r in mttr)
    assert len({r["u_key"] for r in records}) == len(records)
    # The service's name is exactly the value of the field meant for it, and nowhere else.
    payments = [r for r in records if r["u_scope"] == "payments"]
    assert payments and {r["u_scope_name"] for r in payments} == {HOSTILE_SERVICE}
    holding = {column for r in records for column, value in r.items()
               if HOSTILE_SERVICE in str(value)}
    assert holding == {"u_scope_name"}
    assert {column for r in records for column, value in r.items()
            if HOSTILE_INDICATOR in str(value)} == {"u_name"}
    # Product names go to Jira only; no fragment of the hostile one reaches a record.
    assert not any("onerror" in str(value) for r in records for value in r.values())
    # The owner is named by the ServiceNow user's own name, the id beside it.
    (owner,) = [u for u in request.getfixturevalue(flavour)["users"]
                if u["user_name"] == "alice.martin"]
    assert {(r["u_owner_name"], r["u_owner_id"]) for r in payments} == {
        (owner["name"], "alice.martin")}
    # Evidence links are built from the instance URL and record ids only.
    assert any(r["u_evidence"] for r in payments)
    assert all(EVIDENCE_URL.fullmatch(r["u_evidence"]) for r in records if r["u_evidence"])


# -- Jira Cloud: ADF ----------------------------------------------------------------------------

ADF_NODES = {"doc", "paragraph", "heading", "table", "tableRow", "tableHeader", "tableCell",
             "text", "bulletList", "listItem", "status"}


def _adf_nodes(node: Any) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("content", []):
        out += _adf_nodes(child)
    return out


def test_cloud_scorecard_is_plain_adf_text(cloud_run):
    doc = cloud_run["description"]
    doc = json.loads(doc) if isinstance(doc, str) else doc  # as the REST v3 body carried it
    assert doc["type"] == "doc"
    nodes = _adf_nodes(doc)
    assert {n["type"] for n in nodes} <= ADF_NODES
    texts = [n["text"] for n in nodes if n["type"] == "text"]
    # The only marks are the writer's evidence links: a count label, a URL built from ids.
    # A text node holding any name has none, so no name became a link or a format.
    marked = [n for n in nodes if n.get("marks") is not None]
    assert marked, "the scorecard carries evidence links"
    for node in marked:
        assert node["type"] == "text" and EVIDENCE_LABEL.fullmatch(node["text"]), node
        (mark,) = node["marks"]
        assert mark["type"] == "link" and set(mark["attrs"]) == {"href"}, node
        assert EVIDENCE_URL.fullmatch(mark["attrs"]["href"]), node
    # Status lozenges carry a status word on a lozenge colour, nothing taken from a name.
    statuses = [n for n in nodes if n["type"] == "status"]
    assert statuses
    assert all(set(n["attrs"]) == {"text", "color"} and n["attrs"]["text"] in STATUS_WORDS
               and n["attrs"]["color"] in LOZENGE_COLOURS and "content" not in n
               for n in statuses), statuses
    assert all(text and not CONTROL.search(text) for text in texts)
    assert any(_folded(HOSTILE_PRODUCT) in text for text in texts)
    assert HOSTILE_INDICATOR in texts  # a table cell holds the name, nothing else
    assert cloud_run["summary"] == f"5 O scorecard — {_folded(HOSTILE_PRODUCT)}"


# -- Jira Data Center: wiki markup ---------------------------------------------------------------

def _unescape_wiki(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace("&#92;", "\\")


def _unescaped_specials(line: str) -> list[str]:
    line = line.replace("&#92;", "")  # the entity spelling a backslash is not markup
    return [m.group(1) for m in re.finditer(r"(?<!\\)([*_?\-+^~|{}\[\]!#])", line)]


def test_datacenter_scorecard_wiki_escapes_every_markup_character(datacenter_run):
    wiki = datacenter_run["description"]
    assert isinstance(wiki, str)
    lines = wiki.split("\n")
    intro = lines[0]
    assert _unescaped_specials(intro) == [], intro
    assert _folded(HOSTILE_PRODUCT) in _unescape_wiki(intro)
    assert not CONTROL.search(wiki.replace("\n", ""))
    header = next(line for line in lines if line.startswith("||"))
    columns = header.count("||") - 1
    rows = [line for line in lines if line.startswith("|") and not line.startswith("||")]
    named_rows = [row for row in rows if row.startswith("|Probe ")]
    assert named_rows
    hostile_service_rows = [row for row in rows if "script>alert(1)" in row]
    assert hostile_service_rows  # the service's name is in the scope cells
    links = lozenges = 0
    for row in rows:
        # The writer's own markup, in exactly the shapes it builds, is set aside first.
        links += len(WIKI_LINK.findall(row))
        lozenges += len(WIKI_LOZENGE.findall(row))
        bare = WIKI_LOZENGE.sub("STATUS", WIKI_LINK.sub("LINK", row))
        # Then only the cell separators are live: a name cannot add a cell, a link or a macro.
        assert _unescaped_specials(bare) == ["|"] * (columns + 1), row
    assert links and lozenges
    assert all(_unescape_wiki(row).startswith(f"|{HOSTILE_INDICATOR}|") for row in named_rows)


# -- HTML dashboard in headless Chromium --------------------------------------------------------

def _load_chromium_runner():
    path = Path(__file__).resolve().parents[1] / "browser" / "chromium_runner.py"
    spec = importlib.util.spec_from_file_location("fiveo_reliability_chromium_runner", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chromium():
    runner = _load_chromium_runner()
    if runner.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); runs in CI")
    return runner


class _Dom(HTMLParser):
    """Elements, attributes and text of a dumped DOM."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.browser
@pytest.mark.parametrize(("page", "name"), [("service-payments.html", HOSTILE_SERVICE),
                                            ("product-payments-web.html", HOSTILE_PRODUCT),
                                            ("index.html", HOSTILE_SERVICE)],
                         ids=["service-page", "product-page", "index"])
def test_dashboard_shows_hostile_names_as_text_in_the_browser(chromium, cloud_run, page, name):
    run = chromium.load_page(Path(cloud_run["out"]) / page)
    assert run.console == []
    dom = _Dom(run.dom)
    assert "script" not in dom.tags and "img" not in dom.tags and "b" not in dom.tags
    assert not [a for a in dom.attributes if a.startswith("on")]
    text = "".join(dom.text)
    visible = CONTROL.sub("", name)
    assert visible in CONTROL.sub("", text)
    if page.startswith("service-"):
        assert CONTROL.sub("", HOSTILE_INDICATOR) in CONTROL.sub("", text)
