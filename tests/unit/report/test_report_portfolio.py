from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from support.results import FakeView, build_result

from fiveo_sync.report.html import write_dashboard
from fiveo_sync.report.portfolio import build_portfolio_body, cell_status, headline_results

AT = datetime(2025, 4, 2, 3, 4, tzinfo=UTC)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "cell" in (attrs.get("class") or ""):
            self._in = {"class": attrs["class"], "title": attrs.get("title"),
                        "o": attrs.get("data-o"), "href": None, "text": ""}
            self.cells.append(self._in)
        elif tag == "a" and self._in is not None:
            self._in["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self._in["text"] += data


def _cells(html):
    parser = _Cells()
    parser.feed(html)
    return parser.cells


def test_cell_status_is_the_most_telling_one():
    assert cell_status(["met", "missed", "at_risk"])[0] == "missed"
    assert cell_status(["met", "at_risk", "no_data"])[0] == "at_risk"
    assert cell_status(["no_data", "met", "insufficient_data"])[0] == "met"
    assert cell_status(["no_data", "insufficient_data"])[0] == "insufficient_data"
    assert cell_status(["weird"]) == ("no_data", {"no_data": 1})
    assert cell_status([]) == ("none", {})


def _view():
    results = [
        build_result(),  # operate, met
        build_result(indicator="operate.backlog", status="missed"),
        build_result(indicator="operate.x", status="at_risk", breakdown="priority=1"),
        build_result(indicator="observe.cfr", o="observe", status="at_risk"),
        build_result(indicator="observe.y", o="observe", status="met", scope_type="product",
                     scope="payments-web"),  # a linked product: not this service's headline
    ]
    return FakeView("service", "payments", "Payments", "alice", results)


def test_headline_results_are_the_views_own_scope_and_the_all_breakdown():
    assert headline_results(_view()) == [("operate", "met"), ("operate", "missed"),
                                         ("observe", "at_risk")]


class _Row:
    def __init__(self, headline, partial):
        self.headline, self.partial = headline, partial
        self.lead = headline or partial
        self.status = headline.status if headline else "no_complete_period"


def test_rows_give_the_headline_status_and_no_complete_period():
    partial = build_result(period="2025-04", status="missed")
    view = _view()
    view.rows = [_Row(build_result(status="met"), partial), _Row(None, partial)]
    assert headline_results(view) == [("operate", "met"), ("operate", "no_complete_period")]
    cells = _cells(build_portfolio_body([(view, "s.html")]))
    operate = next(c for c in cells if c["o"] == "operate")
    # The partial period's "missed" decides nothing.
    assert operate["class"] == "cell heat status-met"
    assert operate["title"] == "Payments · Operate: 1 met, 1 no complete period"
    assert operate["text"] == "1 of 2 met1 met · 1 not rated"


def test_one_cell_per_view_and_o_with_counts_and_a_link_to_the_o_section():
    product = FakeView("product", "payments-web", "Payments Web", "bruno",
                       [build_result(scope_type="product", scope="payments-web",
                                     o="optimise", status="insufficient_data")])
    body = build_portfolio_body([(_view(), "service-payments.html"),
                                 (product, "product-payments-web.html")])
    assert ('<span class="seg status-met" style="width:50.0%"></span>'
            '<span class="seg status-missed" style="width:50.0%"></span>') in body
    cells = _cells(body)
    assert len(cells) == 10
    by_o = {c["o"]: c for c in cells[:5]}
    assert by_o["operate"]["class"] == "cell heat status-missed"
    assert by_o["operate"]["title"] == "Payments · Operate: 1 missed, 1 met"
    assert by_o["operate"]["href"] == "service-payments.html#o-operate"
    assert by_o["operate"]["text"] == "1 of 2 missed1 met · 1 missed"
    assert by_o["observe"]["class"] == "cell heat status-at_risk"
    assert by_o["organise"]["class"] == "cell heat status-none"
    assert by_o["organise"]["href"] is None and by_o["organise"]["text"] == "–"
    assert cells[9]["class"] == "cell heat status-insufficient_data"
    assert cells[9]["href"] == "product-payments-web.html#o-optimise"


def test_portfolio_page_is_written_linked_from_the_index_and_escapes_names(tmp_path,
                                                                           sample_views):
    write_dashboard(sample_views, tmp_path, generated_at=AT)
    index = (tmp_path / "index.html").read_text()
    assert 'href="portfolio.html"' in index
    page = (tmp_path / "portfolio.html").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    cells = _cells(page)
    assert len(cells) == 3 * 5  # two services and one product, five O's each
    hostile = [c for c in cells if "script" in (c["title"] or "")]
    assert hostile and all(c["href"] is None or c["href"].startswith("service-script-alert")
                           for c in hostile)
    assert 'content="default-src \'none\'' in page
