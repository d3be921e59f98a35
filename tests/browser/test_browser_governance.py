"""Owners who left in the browser: the demo's governance page, banner and heatmap flag."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.names import NameBook, PersonRecord
from fiveo_sync.ownership import build_ownership
from fiveo_sync.report.html import write_dashboard

pytestmark = pytest.mark.browser


def test_demo_governance_page_banner_and_heatmap_flag(chromium, demo_dashboard):
    out_dir, _ = demo_dashboard
    run = chromium.load_page(out_dir / "governance.html")
    assert run.console == []
    assert 'data-view="hr-self-service" data-owner-state="inactive"' in run.dom
    assert "Pablo Duarte" in run.dom and "Sami Lindqvist" in run.dom
    page = chromium.load_page(out_dir / "service-hr-self-service.html")
    assert page.console == []
    assert re.search(r'<section class="owner-banner" role="alert" data-owner-state="inactive">'
                     r"<strong>Owner inactive</strong>: owner Pablo Duarte \(pablo\.duarte\) is "
                     r"inactive since \d{4}-\d\d-\d\d", page.dom)
    heatmap = chromium.load_page(out_dir / "portfolio.html")
    assert heatmap.console == []
    # one flag on the element's row in each heatmap: × the O's, characteristics, dimensions
    assert heatmap.dom.count('class="owner-flag"') == 3
    assert 'href="governance.html"' in (out_dir / "index.html").read_text(encoding="utf-8")


def test_hostile_owner_names_stay_text_on_the_governance_page(chromium, tmp_path):
    hostile = "<script>alert(1)</script><b>bold"
    portfolio = PortfolioSpec.model_validate({
        "version": 1, "kind": "portfolio",
        "services": [{"id": "hr", "business_service": "HR", "name": hostile, "owner": "x"}],
        "governance": {"fallback_owner": "acting"}})
    people = {("servicenow", "x"): PersonRecord("x", hostile, False, "2026-10-03 09:30:00",
                                                "servicenow")}
    states, _ = build_ownership(portfolio, people, NameBook({"acting": hostile}),
                                now=datetime(2026, 12, 2, tzinfo=UTC))
    view = SimpleNamespace(kind="service", id="hr", name=hostile, owner="x", owner_name=hostile,
                           results=[], history={}, linked=[], ownership=states[("service", "hr")])
    write_dashboard([view], tmp_path, improvement_manager=hostile)
    for name in ("governance.html", "service-hr.html", "portfolio.html"):
        run = chromium.load_page(tmp_path / name)
        assert run.console == [], name
        assert not re.search(r"<script[\s>]", run.dom) and "<b>bold" not in run.dom, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run.dom, name
