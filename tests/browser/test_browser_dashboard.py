from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from fiveo_sync.report.html import write_dashboard

pytestmark = pytest.mark.browser
AT = datetime(2025, 4, 2, 3, 4, tzinfo=UTC)


@pytest.fixture
def dashboard(tmp_path, sample_views):
    write_dashboard(sample_views, tmp_path / "dash", generated_at=AT)
    return tmp_path / "dash"


def test_service_page_renders_without_console_errors(chromium, dashboard):
    run = chromium.load_page(dashboard / "service-payments.html")
    assert run.console == []
    for o in ("organise", "orient", "operate", "observe", "optimise"):
        assert f'id="o-{o}"' in run.dom
    assert 'data-indicator="operate.mttr"' in run.dom
    assert 'data-indicator="observe.change_failure_rate"' in run.dom
    assert "12.35 h" in run.dom and "<svg" in run.dom


def test_index_and_product_pages_render_clean(chromium, dashboard):
    for name in ("index.html", "product-payments-web.html"):
        run = chromium.load_page(dashboard / name)
        assert run.console == [], name
    assert "Payments Web" in chromium.load_page(dashboard / "index.html").dom


def test_hostile_service_name_is_text_in_the_browser(chromium, dashboard):
    run = chromium.load_page(dashboard / "service-script-alert-1-script.html")
    assert run.console == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run.dom
    assert not re.search(r"<script[\s>]", run.dom)
    assert "<b>bold" not in run.dom


def test_console_scan_catches_errors_and_blocked_external_assets(chromium, dashboard):
    # Negative control: the scan must see a failing script and the CSP's refusal of an
    # external image, or the clean-page assertions above would prove nothing.
    page = (dashboard / "service-payments.html").read_text()
    broken = page.replace("</main>", '<img src="https://example.invalid/x.png"></main>')
    (dashboard / "broken.html").write_text(broken)
    assert any("example.invalid" in line or "Refused" in line
               for line in chromium.load_page(dashboard / "broken.html").console)
    (dashboard / "script.html").write_text("<!DOCTYPE html><p>x</p>"
                                           "<script>missingFunction()</script>")
    assert any("missingFunction" in line
               for line in chromium.load_page(dashboard / "script.html").console)


def test_screenshot_helper_writes_a_png(chromium, dashboard, tmp_path):
    png = tmp_path / "service.png"
    chromium.screenshot(dashboard / "service-payments.html", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_names_are_text_in_charts_and_heatmap(chromium, dashboard):
    for name in ("portfolio.html", "service-script-alert-1-script.html"):
        run = chromium.load_page(dashboard / name)
        assert run.console == [], name
        assert not re.search(r"<script[\s>]", run.dom) and "<b>bold" not in run.dom, name
    dom = chromium.load_page(dashboard / "portfolio.html").dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    # The hostile service's row: five cells, its orient cell at risk and linked to its page.
    assert dom.count(' data-o="') == 15  # the five O's heatmap (then characteristics, ...)
    assert 'href="service-script-alert-1-script.html#o-orient"' in dom
    charts = chromium.load_page(dashboard / "service-script-alert-1-script.html").dom
    assert "|*_{x} &amp; &lt;b&gt;bold&lt;/b&gt;" in charts  # the chart's caption and title
