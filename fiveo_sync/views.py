"""Owner views: what a service owner and a product owner each see (design "Views").

A service owner's view holds the service's results, the combined results stored under the
service and the results of the products the portfolio links to it. A product owner's view
holds the product's results and the combined results of the services it is linked to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.engine.result import IndicatorResult

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")


@dataclass(frozen=True)
class View:
    """One owner's view.

    Attributes:
        kind: service|product.
        id: portfolio id.
        name: display name (falls back to the id).
        owner: the owner named in the portfolio, or None.
        results: the latest result of every series in the view, ordered by O, indicator,
            scope and breakdown.
        history: per ``series_key``, ``(period, value, status)`` oldest first (sparklines).
        linked: ids of the linked products (service view) or services (product view).
    """

    kind: str
    id: str
    name: str
    owner: str | None
    results: list[IndicatorResult]
    history: dict[str, list[tuple[str, float | None, str]]] = field(default_factory=dict)
    linked: list[str] = field(default_factory=list)


def _order(result: IndicatorResult) -> tuple:
    o = O_ORDER.index(result.o) if result.o in O_ORDER else len(O_ORDER)
    return (o, result.indicator, result.scope_type != "service", result.scope,
            result.breakdown != "all", result.breakdown)


def _view(kind: str, spec: Any, series: dict[str, list[IndicatorResult]],
          wanted: set[tuple[str, str]], linked: list[str]) -> View:
    latest, history = [], {}
    for key, items in series.items():
        first = items[0]
        if (first.scope_type, first.scope) not in wanted:
            continue
        if kind == "product" and first.scope_type == "service" and first.view != "combined":
            continue
        latest.append(items[-1])
        history[key] = [(r.period, r.value, r.status) for r in items]
    latest.sort(key=_order)
    return View(kind, spec.id, getattr(spec, "name", None) or spec.id,
                getattr(spec, "owner", None), latest, history, linked)


def build_views(results: Iterable[IndicatorResult], portfolio: Any) -> list[View]:
    """The service and product views of a portfolio.

    Args:
        results: results of any periods (e.g. all stored results).
        portfolio: the portfolio (services with linked products, products).

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
    linked_services: dict[str, list[str]] = defaultdict(list)
    for service in services:
        for product_id in service.products or ():
            linked_services[product_id].append(service.id)
    views = []
    for service in services:
        wanted = {("service", service.id)} | {("product", p) for p in service.products or ()}
        views.append(_view("service", service, series, wanted, list(service.products or ())))
    for product in products:
        wanted = {("product", product.id)} | {("service", s)
                                              for s in linked_services[product.id]}
        views.append(_view("product", product, series, wanted, linked_services[product.id]))
    return views
