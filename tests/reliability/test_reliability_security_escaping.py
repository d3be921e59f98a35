"""Issue 7, security: hostile names are text in every output a run writes.

A service named ``<script>alert(1)</script>``, a product whose name is HTML, Jira wiki
markup and control characters at once, and an indicator with such a name go through real
runs (Cloud + table, Data Center + import set). Then: the HTML dashboard in headless
Chromium holds them as text and no element they spell; the Jira scorecard read back from the
sandbox holds them as plain ADF text nodes (Cloud) or fully escaped wiki markup that keeps
its table shape (Data Center); the ServiceNow records read back hold the exact text.
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
                "records": platforms.sn.table("u_fiveo_indicator")}
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
    assert not any(HOSTILE_SERVICE in value or "onerror" in value
                   for r in records for value in r.values())


# -- Jira Cloud: ADF ----------------------------------------------------------------------------

ADF_NODES = {"doc", "paragraph", "heading", "table", "tableRow", "tableHeader", "tableCell",
             "text", "bulletList", "listItem"}


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
    assert all(n.get("marks") is None for n in nodes), "a name became a link or a format"
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
    for row in rows:
        # Only the cell separators are live: a name cannot add a cell, a link or a macro.
        assert _unescaped_specials(row) == ["|"] * (columns + 1), row
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
