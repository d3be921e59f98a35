"""The scorecard as Jira's issue view shows it: header rows, statuses as lozenges, text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fiveo_sync.writers.context import PublishContext
from fiveo_sync.writers.jira import ScorecardTarget, build_jira_plan, scope_cell
from fiveo_sync.writers.jira_markup import (
    build_adf_document,
    build_wiki_document,
    clean_text,
    safe_href,
)

NOW = datetime(2025, 4, 10, tzinfo=UTC)  # March is the last complete month
TARGET = ScorecardTarget("payments-web", "Payments Web", "PAY", ("payments",))
STATUSES = {"Velocity": "met", "Escaped defects": "at_risk", "Lead time": "missed",
            "Sprint goal set": "no_data", "Defect debt": "insufficient_data"}


def _results(make_result):
    return [make_result(view="product", scope_type="product", scope="payments-web",
                        indicator=f"optimise.i{n}", name=name, o="optimise", status=status,
                        value=None if "data" in status else 3.0, sources=("jira",))
            for n, (name, status) in enumerate(STATUSES.items())]


def _description(make_result, flavour):
    (op,) = build_jira_plan([TARGET], _results(make_result), {}, flavour=flavour,
                            label="l", now=NOW).ops
    return op.fields["description"]


def _tables(node):
    if isinstance(node, dict):
        if node.get("type") == "table":
            yield node
        for child in node.get("content", []):
            yield from _tables(child)


def _cell(cell):
    (paragraph,) = cell["content"]
    (inline,) = paragraph.get("content") or [{"type": "text", "text": ""}]
    return inline


def test_adf_tables_have_a_header_row_and_statuses_are_coloured_lozenges(make_result):
    (table,) = _tables(_description(make_result, "adf"))
    header, *rows = table["content"]
    assert {c["type"] for c in header["content"]} == {"tableHeader"}
    titles = [_cell(c)["text"] for c in header["content"]]
    status_at = titles.index("Status")
    assert len(rows) == len(STATUSES)
    shown = {}
    for row in rows:
        assert {c["type"] for c in row["content"]} == {"tableCell"}
        assert len(row["content"]) == len(titles)
        name = _cell(row["content"][0])["text"]
        shown[name] = _cell(row["content"][status_at])
    assert shown["Velocity"] == {"type": "status", "attrs": {"text": "MET", "color": "green"}}
    assert shown["Escaped defects"]["attrs"] == {"text": "AT RISK", "color": "yellow"}
    assert shown["Lead time"]["attrs"] == {"text": "MISSED", "color": "red"}
    assert shown["Sprint goal set"]["attrs"] == {"text": "NO DATA", "color": "neutral"}
    assert shown["Defect debt"]["attrs"] == {"text": "INSUFFICIENT DATA", "color": "neutral"}


def test_wiki_tables_have_a_header_row_and_coloured_statuses(make_result):
    text = _description(make_result, "wiki")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("||"))
    titles = header.strip("|").split("||")
    assert titles[0] == "Indicator" and "Status" in titles
    rows = [line for line in lines if line.startswith("|") and not line.startswith("||")]
    assert len(rows) == len(STATUSES)
    for row in rows:
        # Cells split on unescaped bars only (links hold one each: count them apart).
        cells = row.replace("\\|", "").strip("|").split("|")
        assert len(cells) - row.count("[") == len(titles), row
    assert "|{color:#36B37E}*MET*{color}|" in text
    assert "|{color:#FF991F}*AT RISK*{color}|" in text
    assert "|{color:#FF5630}*MISSED*{color}|" in text
    assert "|{color:#97A0AF}*NO DATA*{color}|" in text


@pytest.mark.parametrize("flavour", ["adf", "wiki"])
def test_the_status_lozenge_is_the_headline_status_not_the_partial_one(make_result,
                                                                          flavour):
    complete = make_result(view="product", scope_type="product", scope="payments-web",
                           indicator="optimise.velocity", name="Velocity", o="optimise",
                           status="met", sources=("jira",))
    partial = make_result(view="product", scope_type="product", scope="payments-web",
                          indicator="optimise.velocity", name="Velocity", o="optimise",
                          status="missed", period="2025-04", sources=("jira",))
    (op,) = build_jira_plan([TARGET], [complete, partial], {}, flavour=flavour, label="l",
                            now=NOW).ops
    text = str(op.fields["description"])
    assert "MET" in text and "MISSED" not in text


GOOD_HREF = ("https://acme.service-now.com/incident_list.do?sysparm_query="
             "sys_idIN1a2b%2C3c4d")
BAD_HREFS = ["javascript:alert(1)", "https://x.example/a|b]", "https://x.example/a b",
             "https://x.example/{code}", "https://x.example/!img.png!", "data:text/html,x",
             "https://x.example/\n[evil|https://e]"]


def _link_cell_adf(href):
    doc = build_adf_document("i", [("Operate", [[("2 incidents", href)]])], ["Evidence"])
    (table,) = _tables(doc)
    return _cell(table["content"][1]["content"][0])


def test_a_built_evidence_link_is_kept_exactly():
    inline = _link_cell_adf(GOOD_HREF)
    assert inline == {"type": "text", "text": "2 incidents",
                      "marks": [{"type": "link", "attrs": {"href": GOOD_HREF}}]}
    wiki = build_wiki_document("i", [("Operate", [[("2 incidents", GOOD_HREF)]])],
                               ["Evidence"])
    assert wiki.splitlines()[-1] == f"|[2 incidents|{GOOD_HREF}]|"


@pytest.mark.parametrize("href", BAD_HREFS)
def test_a_link_target_that_is_not_a_plain_http_url_becomes_its_label_alone(href):
    assert safe_href(href) is None
    assert _link_cell_adf(href) == {"type": "text", "text": "2 incidents"}  # no marks
    wiki = build_wiki_document("i", [("Operate", [[("2 incidents", href)]])], ["Evidence"])
    assert wiki.splitlines()[-1] == "|2 incidents|"  # no link, nothing of the target


def test_scope_cells_name_the_scope_with_its_id_beside_it(make_result):
    context = PublishContext(scope_names={("service", "payments"): "Payments",
                                          ("product", "payments-web"): "Payments Web"})
    combined = make_result(view="combined", scope_type="service", scope="payments")
    product = make_result(view="product", scope_type="product", scope="payments-web")
    unnamed = make_result(view="combined", scope_type="service", scope="email")
    split = make_result(view="service", scope_type="service", scope="payments",
                        breakdown="priority=1")
    assert scope_cell(combined, context) == "Payments (service payments, combined)"
    assert scope_cell(product, context) == "Payments Web (product payments-web)"
    assert scope_cell(unnamed, context) == "email (service, combined)"
    assert scope_cell(split, context) == "Payments (service payments, priority=1)"


@pytest.mark.parametrize(("raw", "clean"), [
    ("Payments\x00down\x1f\x7fagain", "Payments down again"),   # control characters
    ("  two\t\nlines\r\n ", "two lines"),                        # whitespace folded
    ("café | [x] {y}", "café | [x] {y}"),                        # printable kept as is
    ("a\u2028b\u00a0c", "a b c"),                                # Unicode separators
    (42, "42"),
])
def test_adf_text_is_folded_to_single_spaces(raw, clean):
    assert clean_text(raw) == clean
