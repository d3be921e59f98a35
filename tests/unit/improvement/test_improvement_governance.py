"""The governance page lists the open improvement items per service and product."""

from __future__ import annotations

from fiveo_sync.report.governance import build_governance_body, build_improvement_section

HOSTILE = "<script>alert(1)</script>"
ITEMS = [
    {"key": "fiveo-improvement:optimise.velocity:product:web:all:2025-01", "platform": "jira",
     "scope_type": "product", "scope": "web", "scope_name": "Web", "indicator":
     "optimise.velocity", "name": "Velocity", "title": "Improve Velocity of Web",
     "since": "2025-01", "latest": "2025-03", "link": "https://jira.example/issues/?jql=x"},
    {"key": "fiveo-improvement:operate.mttr:service:payments:all:2025-02",
     "platform": "servicenow", "scope_type": "service", "scope": "payments",
     "scope_name": HOSTILE, "indicator": "operate.mttr", "name": "MTTR",
     "title": "Improve MTTR", "since": "2025-02", "latest": "2025-03",
     "link": "javascript:alert(1)"},
]


class View:
    kind, id, name, ownership = "service", "payments", "Payments", None


def test_items_are_listed_per_element_with_a_link_to_the_platform():
    html = build_improvement_section(ITEMS, [(View(), "service-payments.html")])
    assert '<span class="tally">2 open</span>' in html
    # Services first, then products; the element links to its page.
    assert html.index("operate.mttr") < html.index("optimise.velocity")
    assert '<a href="service-payments.html">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in html
    assert '<a href="https://jira.example/issues/?jql=x">Jira</a>' in html
    assert "<td>2025-02</td><td>2025-03</td>" in html
    assert "javascript:" not in html and HOSTILE not in html  # never a script, never a link


def test_no_items_says_so_and_none_leaves_the_section_out():
    assert "No open improvement item" in build_improvement_section([])
    assert 'id="improvements"' not in build_governance_body([], None)
    assert 'id="improvements"' in build_governance_body([], None, [])
