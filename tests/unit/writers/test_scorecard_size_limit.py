"""A scorecard too big for Jira's 32,767-character description keeps what needs attention.

Links shrink first (longest first); when even a table without links does not fit, the
unrated rows leave first, then the met ones, and the intro names them. Missed rows stay,
with their evidence link.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from support.results import build_result

from fiveo_sync.evidence_links import LinkBuilder
from fiveo_sync.writers.context import PublishContext
from fiveo_sync.writers.jira import (
    MAX_DESCRIPTION_CHARS,
    ScorecardTarget,
    build_scorecard_description,
    build_scorecard_rows,
)

NOW = datetime(2025, 4, 9, tzinfo=UTC)
JIRA = "https://acme.atlassian.net"
TARGET = ScorecardTarget("payments-web", "Payments Web", "PAY", ())


def _results(count: int, status: str, prefix: str) -> list:
    return [build_result(indicator=f"orient.{prefix}_{i:02d}", name=f"{prefix} {i:02d}",
                         o="orient", view="product", scope_type="product", scope="payments-web",
                         status=status, sources=("jira",),
                         evidence={"work_item": (f"PAY-{i}",)})
            for i in range(count)]


def _size(document) -> int:
    return len(document) if isinstance(document, str) else len(json.dumps(document))


def _context() -> PublishContext:
    return PublishContext(links=LinkBuilder(jira_url=JIRA))


def test_a_scorecard_that_fits_keeps_every_row_and_link():
    rows = build_scorecard_rows(_results(3, "missed", "late") + _results(3, "met", "fine"), NOW)
    adf = build_scorecard_description(TARGET, rows, "adf", _context())
    text = json.dumps(adf)
    assert all(f"late {i:02d}" in text and f"fine {i:02d}" in text for i in range(3))
    assert text.count('"type": "link"') == 6
    assert "size limit" not in text


def test_too_many_rows_drop_met_ones_first_and_name_them():
    results = _results(12, "missed", "late") + _results(30, "met", "fine")
    rows = build_scorecard_rows(results, NOW)
    adf = build_scorecard_description(TARGET, rows, "adf", _context())
    assert _size(adf) <= MAX_DESCRIPTION_CHARS
    intro = adf["content"][0]["content"][0]["text"]
    cells = [json.dumps(row) for block in adf["content"] if block["type"] == "table"
             for row in block["content"][1:]]
    # every missed row stays, with its evidence link
    for i in range(12):
        (row,) = [c for c in cells if f'"late {i:02d}"' in c]
        assert f"PAY-{i}%29" in row
    kept_met = {i for i in range(30) if any(f'"fine {i:02d}"' in c for c in cells)}
    left_met = set(range(30)) - kept_met
    assert left_met, "the test must overflow the limit"
    # the last met rows leave first, and the intro names each one left out
    assert kept_met == set(range(len(kept_met)))
    assert "Left out here to stay within Jira's size limit" in intro
    assert all(f"fine {i:02d}" in intro for i in left_met)
    assert not any(f"fine {i:02d}" in intro for i in kept_met)


def test_wiki_scorecards_keep_the_same_limit():
    rows = build_scorecard_rows(_results(12, "missed", "late") + _results(60, "met", "fine"),
                                NOW)
    wiki = build_scorecard_description(TARGET, rows, "wiki", _context())
    assert len(wiki) <= MAX_DESCRIPTION_CHARS
    assert all(f"late {i:02d}" in wiki for i in range(12))
