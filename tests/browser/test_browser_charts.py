"""The demo's dashboard in headless Chromium: charts drawn, the heatmap whole, screenshots.

The screenshots are kept under the pytest tmp dir; with ``UPDATE_SCREENSHOTS=1`` they are
also copied to ``docs/img/`` (the README's pictures):

    UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_browser_charts.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fiveo_sync.compute import load_history
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.spec import CHARACTERISTICS, DIMENSIONS
from fiveo_sync.paths import shipped_dir
from fiveo_sync.state import StateStore

pytestmark = pytest.mark.browser
# Read at import: the suite's autouse fixture clears FIVEO_* variables before each test.
UPDATE = os.environ.get("UPDATE_SCREENSHOTS") == "1"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
DEMO_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: week numbers count from it


class _Charts(HTMLParser):
    """Figures (charts) and heatmap cells of a dumped DOM."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.figures: dict[str, dict] = {}
        self.cells: list[dict] = []
        self.rows: list[str] = []
        self.rows_by: dict[str, list[str]] = {}
        self._figure: dict | None = None
        self._grouping = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "figure" and "chart-card" in cls:
            self._figure = {"id": a["id"], "indicator": a.get("data-indicator"),
                            "series": a.get("data-series"), "slots": None, "points": [],
                            "targets": 0}
            self.figures[a["id"]] = self._figure
        elif self._figure is not None and tag == "svg":
            self._figure["slots"] = int(a["data-points"])
        elif self._figure is not None and tag == "circle" and "pt" in cls:
            self._figure["points"].append(cls)
        elif self._figure is not None and tag == "line" and "target" in cls:
            self._figure["targets"] += 1
        elif tag == "section" and "heatmap" in cls:
            self._grouping = a.get("data-grouping") or ""
        elif tag == "td" and "cell" in cls:
            self.cells.append({"o": a.get("data-o"), "class": cls, "title": a.get("title"),
                               "grouping": a.get("data-grouping"),
                               "group": a.get("data-group")})
        elif tag == "tr" and a.get("data-view"):
            self.rows_by.setdefault(self._grouping, []).append(a["data-view"])
            if self._grouping == "o":
                self.rows.append(a["data-view"])

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None


def _history(out_dir: Path) -> dict[str, list]:
    series: dict[str, list] = {}
    with StateStore(out_dir / "state.sqlite") as store:
        for result in load_history(store):
            series.setdefault(result.series_key, []).append(result)
    return {k: sorted(v, key=lambda r: r.period_start) for k, v in series.items()}


def _index(result) -> int:
    """A period's position in calendar time (months, weeks); sprints have none."""
    start = result.period_start
    if result.period_kind == "month":
        return start.year * 12 + start.month
    if result.period_kind == "week":
        return (start - DEMO_EPOCH).days // 7
    return -1


def _expected(items, moment):
    """What a chart must draw: slots for the last 12 complete periods (months and weeks
    without a result included), the stored results among them, then the one to date."""
    done = [r for r in items if r.period_end <= moment]
    partial = [r for r in items if r.period_start <= moment < r.period_end]
    if not done or _index(done[-1]) < 0:
        return len(done[-12:]), done[-12:], partial
    last = _index(partial[0]) - 1 if partial else _index(done[-1])
    span = min(12, last - _index(done[0]) + 1)
    return span, [r for r in done if _index(r) > last - span], partial


def _keep(png: Path, name: str) -> None:
    if UPDATE:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, DOCS_IMG / name)


def test_service_page_draws_a_chart_per_indicator_with_target_and_partial(chromium,
                                                                          demo_dashboard):
    out_dir, moment = demo_dashboard
    run = chromium.load_page(out_dir / "service-payments.html")
    assert run.console == []
    page = _Charts(run.dom)
    assert len(page.figures) >= 20
    # The MTTR chart of payments: the last 12 complete months (as many as the store has)
    # and the current month to date, drawn hollow; a target line.
    history = _history(out_dir)
    key = "fiveo:operate.mttr:service:payments:all"
    slots, complete, partial = _expected(history[key], moment)
    assert complete and len(partial) == 1
    mttr = next(f for f in page.figures.values() if f["series"] == key)
    assert mttr["slots"] == slots + 1
    with_value = [r for r in (*complete, *partial) if r.value is not None]
    assert len(mttr["points"]) == len(with_value)
    assert mttr["targets"] == 1
    expected = Counter(f"status-{r.status}" for r in complete if r.value is not None)
    drawn = Counter(next(c for c in cls if c.startswith("status-"))
                    for cls in mttr["points"] if "partial" not in cls)
    assert drawn == expected
    if partial[0].value is not None:
        assert mttr["points"][-1][-1] == "partial"
    # Every chart on the page: as many slots as periods to show, a point per value, the
    # period to date (if it has a value) the only hollow one.
    for figure in page.figures.values():
        slots, complete, partial = _expected(history[figure["series"]], moment)
        shown = [*complete, *partial]
        if not any(r.value is not None for r in shown):
            assert figure["slots"] is None, figure  # "no values yet", no empty axes
            continue
        assert figure["slots"] == slots + len(partial), figure
        assert len(figure["points"]) == sum(r.value is not None for r in shown), figure
        hollow = [cls for cls in figure["points"] if "partial" in cls]
        assert len(hollow) == sum(r.value is not None for r in partial), figure
    assert sum(f["targets"] > 0 for f in page.figures.values()) >= len(page.figures) // 2


def test_portfolio_heatmap_has_one_cell_per_view_and_o(chromium, demo_dashboard):
    out_dir, _ = demo_dashboard
    run = chromium.load_page(out_dir / "portfolio.html")
    assert run.console == []
    page = _Charts(run.dom)
    mappings = load_mappings(shipped_dir("mappings"))
    services = [s.id for s in mappings.portfolio.services]
    products = [p.id for p in mappings.portfolio.products]
    # Services first, then products (each sorted by name), every one exactly once.
    assert sorted(page.rows[:len(services)]) == sorted(services)
    assert sorted(page.rows[len(services):]) == sorted(products)
    by_o = [c for c in page.cells if c["grouping"] == "o"]
    assert len(by_o) == 5 * len(page.rows)
    assert [c["o"] for c in by_o] == list(O_ORDER) * len(page.rows)
    assert all(c["title"] for c in page.cells)
    # The same rows again × the characteristics and × the ITIL dimensions.
    for grouping, groups in (("characteristic", CHARACTERISTICS), ("dimension", DIMENSIONS)):
        assert page.rows_by[grouping] == page.rows
        cells = [c["group"] for c in page.cells if c["grouping"] == grouping]
        assert cells == list(groups) * len(page.rows)  # every shipped indicator is classified
    statuses = {next(x for x in c["class"] if x.startswith("status-")) for c in page.cells}
    assert statuses <= {"status-met", "status-at_risk", "status-missed", "status-no_data",
                        "status-insufficient_data", "status-no_complete_period",
                        "status-none"}
    assert 'href="portfolio.html"' in (out_dir / "index.html").read_text(encoding="utf-8")


def test_screenshots_of_a_service_page_and_the_heatmap(chromium, demo_dashboard,
                                                       tmp_path_factory):
    out_dir, _ = demo_dashboard
    shots = tmp_path_factory.mktemp("screenshots")
    service = shots / "service-page.png"
    chromium.screenshot(out_dir / "service-payments.html", service,
                        width=1280, height=1400)
    heatmap = shots / "portfolio-heatmap.png"
    run = chromium.screenshot(out_dir / "portfolio.html", heatmap,
                              width=1280, height=1200)
    assert run.console == []
    for png in (service, heatmap):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    _keep(service, "service-page.png")
    _keep(heatmap, "portfolio-heatmap.png")
