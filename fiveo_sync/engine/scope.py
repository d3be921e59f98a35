"""Scopes of indicators.md §2.3: services, products and combined service+products.

A scope knows which ServiceNow service it covers and which Jira projects and boards; a
combined scope is the service with the union of the products the portfolio links to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scope:
    """Where an indicator is evaluated.

    Attributes:
        view: service|product|combined.
        scope_type: service|product (combined scopes are stored under the service).
        id: portfolio id.
        service: the portfolio service id of the ServiceNow side, or None.
        support_groups: assignment groups of the service (organise.service_attribution).
        projects: Jira project keys of the Jira side.
        boards: Jira board ids of the Jira side.
        products: portfolio ids of the products (a product: itself; combined: the linked
            ones; a service: none).
        targets: ``(indicator id, target)`` overrides of the service or product
            (``targets:`` in portfolio.yaml); a combined scope has its service's.
    """

    view: str
    scope_type: str
    id: str
    service: str | None
    support_groups: frozenset[str]
    projects: frozenset[str]
    boards: frozenset[int]
    products: frozenset[str] = frozenset()
    # Not part of the scope's identity (memo keys use repr, the series book the id).
    targets: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    def target_for(self, indicator: str) -> Any:
        """The scope's own target for an indicator, or None (use the indicator's)."""
        return next((t for i, t in self.targets if i == indicator), None)


def build_scopes(portfolio: Any) -> dict[str, list[Scope]]:
    """Scopes per view from a portfolio (``PortfolioSpec`` or anything shaped like it).

    Args:
        portfolio: has ``services`` (id, support_groups, products) and ``products`` (id,
            jira_projects, boards).

    Returns:
        ``{"service": [...], "product": [...], "combined": [...]}``.
    """
    products = {p.id: p for p in getattr(portfolio, "products", ()) or ()}
    out: dict[str, list[Scope]] = {"service": [], "product": [], "combined": []}
    for service in getattr(portfolio, "services", ()) or ():
        groups = frozenset(getattr(service, "support_groups", ()) or ())
        linked = [products[p] for p in getattr(service, "products", ()) or () if p in products]
        targets = _targets(service)
        out["service"].append(Scope("service", "service", service.id, service.id, groups,
                                    frozenset(), frozenset(), targets=targets))
        out["combined"].append(Scope(
            "combined", "service", service.id, service.id, groups,
            frozenset(k for p in linked for k in (p.jira_projects or ())),
            frozenset(b for p in linked for b in (p.boards or ())),
            frozenset(p.id for p in linked), targets))
    for product in products.values():
        out["product"].append(Scope("product", "product", product.id, None, frozenset(),
                                    frozenset(product.jira_projects or ()),
                                    frozenset(product.boards or ()), frozenset({product.id}),
                                    _targets(product)))
    return out


def _targets(element: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((getattr(element, "targets", None) or {}).items()))
