from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from support.results import FakeView, build_result

from fiveo_sync.element_status import cell_status
from fiveo_sync.report.html import write_dashboard
from fiveo_sync.report.portfolio import build_portfolio_body, headline_results

AT = datetime(2025, 4, 2, 3, 4, tzinfo=UTC)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "cell" in (attrs.get("class") or ""):
            self._in = {"class": attrs["class"], "title": attrs.get("title"),
                        "o": attrs.get("data-o"), "grouping": attrs.get("data-grouping"),
                        "group": attrs.get("data-group"), "href": None, "text": ""}
            self.cells.append(self._in)
        elif tag == "a" and self._in is not None:
            self._in["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self._in["text"] += data


def _cells(html, grouping="o"):
    parser = _Cells()
    parser.feed(html)
    return [c for c in parser.cells if c["grouping"] == grouping]


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
    assert by_o["operate"]["title"] == ("Payments · Operate: 1 missed, 1 met; "
                                        "missed: Time to resolve, median (MTTR)")
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


def _classified_view():
    results = [
        build_result(indicator="operate.availability", name="Service availability",
                     characteristic="availability", dimension="information_and_technology",
                     status="missed"),
        build_result(indicator="operate.outage_minutes", name="Unplanned outage minutes",
                     characteristic="availability", dimension="information_and_technology",
                     status="met"),
        build_result(indicator="observe.supplier_mttr", name="Supplier MTTR", o="observe",
                     characteristic="performance", dimension="partners_and_suppliers",
                     status="at_risk"),
        build_result(indicator="observe.legacy", name="Legacy", o="observe", status="met"),
    ]
    return FakeView("service", "payments", "Payments", "alice", results)


def test_characteristic_heatmap_groups_series_by_what_they_tell_and_links_to_the_group():
    body = build_portfolio_body([(_classified_view(), "service-payments.html")])
    cells = {c["group"]: c for c in _cells(body, "characteristic")}
    # every declared characteristic gets a column, then the indicators that declare none
    assert list(cells) == ["quality", "availability", "performance", "resilience",
                           "security", "velocity", "satisfaction", "unclassified"]
    availability = cells["availability"]
    assert availability["class"] == "cell heat status-missed"
    assert availability["href"] == "service-payments.html#c-availability"
    assert availability["title"] == ("Payments · Availability: 1 missed, 1 met; "
                                     "missed: Service availability")
    assert cells["performance"]["class"] == "cell heat status-at_risk"
    assert cells["security"]["class"] == "cell heat status-none"
    assert cells["unclassified"]["class"] == "cell heat status-met"
    dimensions = {c["group"]: c for c in _cells(body, "dimension")}
    assert dimensions["partners_and_suppliers"]["href"] == (
        "service-payments.html#d-partners_and_suppliers")
    assert dimensions["organisations_and_people"]["class"] == "cell heat status-none"


def test_open_improvement_items_are_counted_per_element_and_link_to_governance():
    other = FakeView("service", "hr", "HR", "bo", [build_result(scope="hr")])
    items = [{"scope_type": "service", "scope": "payments"},
             {"scope_type": "service", "scope": "payments"},
             {"scope_type": "product", "scope": "payments"}]  # same id, other kind
    body = build_portfolio_body([(_classified_view(), "p.html"), (other, "h.html")],
                                improvements=items)
    assert body.count('data-open-items="2"><a href="governance.html#improvements">2 open') == 3
    assert body.count('data-open-items="0">–') == 3  # one per grouping for HR
    assert "Open items" in body
    assert "open-items" not in build_portfolio_body([(other, "h.html")])


def test_view_page_regroups_its_own_series_with_anchors_and_chart_links(tmp_path):
    view = _classified_view()
    write_dashboard([view], tmp_path, generated_at=AT)
    page = (tmp_path / "service-payments.html").read_text()
    section = page[page.index('id="groups"'):]
    assert '<tr id="c-availability" data-group="availability">' in section
    assert '<tr id="d-partners_and_suppliers"' in section
    availability = section[section.index('id="c-availability"'):]
    availability = availability[:availability.index("</tr>")]
    assert 'badge status-missed' in availability
    assert "Service availability" in availability and "Unplanned outage minutes" in availability
    assert "Supplier MTTR" not in availability
    anchors = {a.split('"')[0] for a in section.split('href="#')[1:]}
    assert anchors and all(f'id="{a}"' in page for a in anchors)  # every link lands on a chart
