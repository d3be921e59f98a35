from __future__ import annotations

import json

import pytest

from fiveo_sync.writers.jira import (
    MAX_PROPERTY_CHARS,
    CurrentScorecard,
    ScorecardTarget,
    build_jira_plan,
    property_json,
)
from fiveo_sync.writers.jira_markup import escape_wiki

TARGET = ScorecardTarget(product="payments-web", name="Payments Web", project_key="PAY",
                         services=("payments",))


def _results(make_result, status="met"):
    return [
        make_result(view="product", scope_type="product", scope="payments-web",
                    indicator="optimise.velocity", name="Velocity", o="optimise", unit="SP",
                    value=34.0, status=status, sources=("jira",)),
        make_result(view="combined", scope="payments", indicator="observe.cfr",
                    name="Change failure rate", o="observe", unit="%", value=12.5,
                    sources=("servicenow", "jira")),
        make_result(view="service", scope="payments"),  # service view: ServiceNow only
        make_result(view="combined", scope="mail", indicator="observe.cfr"),  # not linked
    ]


def _plan(results, current=None, flavour="adf"):
    return build_jira_plan([TARGET], results, current or {}, flavour=flavour,
                           label="fiveo-scorecard", issue_type="Task")


def _texts(node):
    if isinstance(node, dict):
        if node.get("type") == "text":
            yield node["text"]
        for child in node.get("content", []):
            yield from _texts(child)


def test_new_product_gets_a_create_with_adf_table_and_property(make_result):
    (op,) = _plan(_results(make_result)).ops
    assert op.action == "create" and op.key == "payments-web"
    assert op.fields["summary"] == "5 O scorecard — Payments Web"
    assert op.fields["labels"] == ["fiveo-scorecard"] and op.fields["project"] == "PAY"
    doc = op.fields["description"]
    assert doc["type"] == "doc" and doc["version"] == 1
    texts = list(_texts(doc))
    assert "Velocity" in texts and "Change failure rate" in texts
    assert "Observe" in texts and "Optimise" in texts
    assert "34 SP" in texts and "12.5%" in texts
    assert "Time to resolve, median (MTTR)" not in texts
    prop = op.fields["property"]
    assert {r["indicator"] for r in prop["results"]} == {"optimise.velocity", "observe.cfr"}
    assert op.fields["comment"] is None


def test_data_center_gets_wiki_markup(make_result):
    (op,) = _plan(_results(make_result), flavour="wiki").ops
    text = op.fields["description"]
    assert isinstance(text, str)
    assert "h3. Observe" in text
    assert "||Indicator||Scope||Period||Value||Target||Status||Trend||Source||" in text
    assert "|Velocity|product payments\\-web|2025\\-03|34 SP|" in text


def test_unchanged_scorecard_is_skipped_even_if_found_by_other_summary(make_result):
    results = _results(make_result)
    (created,) = _plan(results).ops
    held = CurrentScorecard("PAY-7", summary=created.fields["summary"],
                            labels=("fiveo-scorecard",), scorecard=created.fields["property"])
    (op,) = _plan(results, {"payments-web": held}).ops
    assert op.action == "skip_unchanged" and op.ref == "PAY-7"
    edited = CurrentScorecard("PAY-7", summary="renamed by someone",
                              labels=("fiveo-scorecard",), scorecard=created.fields["property"])
    (op,) = _plan(results, {"payments-web": edited}).ops
    assert op.action == "update" and op.changed == ("summary",) and op.ref == "PAY-7"


def test_status_change_adds_a_comment(make_result):
    (created,) = _plan(_results(make_result)).ops
    held = CurrentScorecard("PAY-7", created.fields["summary"], ("fiveo-scorecard",),
                            created.fields["property"])
    (op,) = _plan(_results(make_result, status="missed"), {"payments-web": held}).ops
    assert op.action == "update"
    assert "comment" in op.changed and "property" in op.changed
    texts = " ".join(_texts(op.fields["comment"]))
    assert "Velocity (product payments-web): met → missed (2025-03)" in texts
    assert f"fiveo:{op.fields['comment_marker']}" in texts


def test_value_change_without_status_change_updates_without_comment(make_result):
    (created,) = _plan(_results(make_result)).ops
    held = CurrentScorecard("PAY-7", created.fields["summary"], ("fiveo-scorecard",),
                            created.fields["property"])
    results = _results(make_result)
    results[0] = make_result(**{**results[0].__dict__, "value": 40.0})
    (op,) = _plan(results, {"payments-web": held}).ops
    assert op.action == "update" and op.fields["comment"] is None


def test_property_is_trimmed_to_latest_period_when_too_long(make_result):
    results = []
    for i in range(120):
        for period in ("2025-01", "2025-02", "2025-03"):
            results.append(make_result(view="product", scope_type="product",
                                       scope="payments-web", indicator=f"orient.i{i:03d}",
                                       period=period, status="missed" if period < "2025-03"
                                       else "met"))
    (op,) = _plan(results).ops
    prop = op.fields["property"]
    assert len(property_json(prop)) <= MAX_PROPERTY_CHARS
    assert prop["trimmed"] is True
    assert {r["period"] for r in prop["results"]} == {"2025-03"}
    assert len(prop["results"]) + prop["truncated"] == 120


@pytest.mark.parametrize("flavour", ["adf", "wiki"])
def test_hostile_names_stay_text(make_result, flavour):
    hostile = ScorecardTarget(product="<script>alert(1)</script>", name="|*_{x}[y]\n!z!",
                              project_key="PAY")
    result = make_result(view="product", scope_type="product", scope=hostile.product,
                         name="{code}<b>\\x")
    (op,) = build_jira_plan([hostile], [result], {}, flavour=flavour, label="l").ops
    assert op.fields["summary"] == "5 O scorecard — |*_{x}[y] !z!"
    if flavour == "adf":
        texts = list(_texts(op.fields["description"]))
        assert "{code}<b>\\x" in texts
        assert "product <script>alert(1)</script>" in texts
        json.dumps(op.fields["description"])
    else:
        text = op.fields["description"]
        assert "\\{code\\}<b>&#92;x" in text
        assert "\\|\\*\\_\\{x\\}\\[y\\] \\!z\\!" in text


def test_escape_wiki_folds_newlines_and_escapes_markup():
    assert escape_wiki("a|b\nc*d") == "a\\|b c\\*d"
    assert escape_wiki("plain text") == "plain text"
