"""Owner views: what a service owner and a product owner each see (design "Views").

A service owner's view holds the service's results, the combined results stored under the
service and the results of the products the portfolio links to it. A product owner's view
holds the product's results and the combined results of the services it is linked to.

Each series (indicator, scope, breakdown) is one :class:`SeriesRow`: its headline is the
last complete period and the current period to date stands beside it, marked partial
(:mod:`fiveo_sync.headline`, ``docs/owner-views.md``). Owners and linked services or
products carry display names (:mod:`fiveo_sync.names`), and each shown value its evidence
links (:mod:`fiveo_sync.evidence_links`). Every view (console, dashboard, results.json)
reads these objects, so they all agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.evidence_links import EvidenceLink, LinkBuilder
from fiveo_sync.headline import split_series
from fiveo_sync.names import NameBook, scope_display_name
from fiveo_sync.ownership import OwnerState, load_ownership

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")


@dataclass(frozen=True)
class SeriesRow:
    """One series as an owner sees it.

    Attributes:
        series_key: the series (``IndicatorResult.series_key``).
        headline: the last complete period's result (decides the status), or None.
        partial: the current period to date (never decides the status), or None.
        headline_links: evidence links of the headline value.
        partial_links: evidence links of the partial value.
        scope_name: display name of the row's service or product (its id when unnamed).
    """

    series_key: str
    headline: IndicatorResult | None
    partial: IndicatorResult | None
    headline_links: list[EvidenceLink] = field(default_factory=list)
    partial_links: list[EvidenceLink] = field(default_factory=list)
    scope_name: str = ""

    @property
    def lead(self) -> IndicatorResult:
        """The result naming the row (indicator, scope, O): the headline, else the partial."""
        lead = self.headline or self.partial
        assert lead is not None  # build_views never makes an empty row
        return lead

    @property
    def status(self) -> str:
        """The headline status; ``no_complete_period`` before the first period ends."""
        return self.headline.status if self.headline is not None else "no_complete_period"


@dataclass(frozen=True)
class View:
    """One owner's view.

    Attributes:
        kind: service|product.
        id: portfolio id.
        name: display name (falls back to the id).
        owner: the owner's id as the portfolio names it, or None.
        results: the headline (last complete period) result of every series that has one,
            ordered by O, indicator, scope and breakdown.
        history: per ``series_key``, ``(period, value, status)`` oldest first (sparklines).
        linked: ids of the linked products (service view) or services (product view).
        rows: every series: headline and partial side by side, in the order of ``results``.
        owner_name: the owner's display name (the id when unknown), or None.
        linked_names: display names of the linked products or services, by id.
        now: the moment the view was made (what "complete" is measured against).
        ownership: whether the owner is active, missing, inactive or not found, with the
            acting owner (:mod:`fiveo_sync.ownership`); None when not assessed.
    """

    kind: str
    id: str
    name: str
    owner: str | None
    results: list[IndicatorResult]
    history: dict[str, list[tuple[str, float | None, str]]] = field(default_factory=dict)
    linked: list[str] = field(default_factory=list)
    rows: list[SeriesRow] = field(default_factory=list)
    owner_name: str | None = None
    linked_names: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None
    ownership: OwnerState | None = None


def _order(result: IndicatorResult) -> tuple:
    o = O_ORDER.index(result.o) if result.o in O_ORDER else len(O_ORDER)
    return (o, result.indicator, result.scope_type != "service", result.scope,
            result.breakdown != "all", result.breakdown)


def _row(key: str, items: list[IndicatorResult], now: datetime | None,
         links: LinkBuilder | None, scope_names: dict[tuple[str, str], str]) -> SeriesRow | None:
    if now is None:  # no clock given: every stored period counts as complete
        split_headline, split_partial = items[-1], None
    else:
        split = split_series(items, now)
        split_headline, split_partial = split.headline, split.partial
    if split_headline is None and split_partial is None:
        return None
    build = links.links if links is not None else (lambda _r: [])
    first = items[0]
    return SeriesRow(key, split_headline, split_partial, build(split_headline),
                     build(split_partial),
                     scope_names.get((first.scope_type, first.scope), first.scope))


def _view(kind: str, spec: Any, series: dict[str, list[IndicatorResult]],
          wanted: set[tuple[str, str]], linked: list[str], context: dict[str, Any]) -> View:
    rows, history = [], {}
    for key, items in series.items():
        first = items[0]
        if (first.scope_type, first.scope) not in wanted:
            continue
        if kind == "product" and first.scope_type == "service" and first.view != "combined":
            continue
        row = _row(key, items, context["now"], context["links"], context["typed_names"])
        if row is None:
            continue
        rows.append(row)
        history[key] = [(r.period, r.value, r.status) for r in items]
    rows.sort(key=lambda r: _order(r.lead))
    names: NameBook = context["names"]
    owner = getattr(spec, "owner", None)
    return View(kind, spec.id, context["scope_names"].get(spec.id, spec.id), owner,
                [r.headline for r in rows if r.headline is not None], history, linked,
                rows=rows, owner_name=names.name(owner),
                linked_names={i: context["scope_names"].get(i, i) for i in linked},
                now=context["now"], ownership=context["ownership"].get((kind, spec.id)))


def build_views(results: Iterable[IndicatorResult], portfolio: Any, *,
                now: datetime | None = None, names: NameBook | None = None,
                links: LinkBuilder | None = None,
                ownership: Mapping[tuple[str, str], OwnerState] | None = None) -> list[View]:
    """The service and product views of a portfolio.

    Args:
        results: results of any periods (e.g. all stored results).
        portfolio: the portfolio (services with linked products, products).
        now: the moment of the view, aware UTC: periods ending at or before it are
            complete. None treats every stored period as complete (the latest leads).
        names: display names of owners (default: ids shown as they are).
        links: builds the evidence links (default: no links).
        ownership: per ``(kind, id)``, the owner's state (default: not assessed).

    Returns:
        One view per service, then one per product, in portfolio order.
    """
    series: dict[str, list[IndicatorResult]] = defaultdict(list)
    for result in results:
        series[result.series_key].append(result)
    for items in series.values():
        items.sort(key=lambda r: r.period_start)
    services = list(getattr(portfolio, "services", ()) or ())
    products = list(getattr(portfolio, "products", ()) or ())
    names = names or NameBook()
    scope_names = {s.id: scope_display_name(s, names) for s in (*services, *products)}
    typed_names = {("service", s.id): scope_names[s.id] for s in services}
    typed_names.update({("product", p.id): scope_names[p.id] for p in products})
    context = {"now": now, "names": names, "links": links, "ownership": ownership or {},
               "scope_names": scope_names, "typed_names": typed_names}
    linked_services: dict[str, list[str]] = defaultdict(list)
    for service in services:
        for product_id in service.products or ():
            linked_services[product_id].append(service.id)
    views = []
    for service in services:
        wanted = {("service", service.id)} | {("product", p) for p in service.products or ()}
        views.append(_view("service", service, series, wanted, list(service.products or ()),
                           context))
    for product in products:
        wanted = {("product", product.id)} | {("service", s)
                                              for s in linked_services[product.id]}
        views.append(_view("product", product, series, wanted, linked_services[product.id],
                           context))
    return views


def load_owner_views(store: Any, portfolio: Any, settings: Any, now: datetime) -> list[View]:
    """Owner views from the state store, as every command shows them.

    Args:
        store: the state store (result history, pulled users and issues for names).
        portfolio: the portfolio.
        settings: the settings (instance URLs of the evidence links).
        now: the moment of the view (aware UTC).

    Returns:
        The views, complete periods first, with display names, evidence links and the
        owner's state (an owner who left is flagged; first-seen moments are recorded).
    """
    from fiveo_sync.compute import load_history
    from fiveo_sync.evidence_links import build_link_builder
    from fiveo_sync.names import build_name_book, portfolio_people

    names = build_name_book(store, portfolio_people(portfolio))
    return build_views(load_history(store), portfolio, now=now, names=names,
                       links=build_link_builder(settings),
                       ownership=load_ownership(store, portfolio, names, now))
