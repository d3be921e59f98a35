"""Scopes of indicators.md §2.3: services, products and combined service+products.

A scope knows which ServiceNow service it covers and which Jira projects and boards; a
combined scope is the service with the union of the products the portfolio links to it.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """

    view: str
    scope_type: str
    id: str
    service: str | None
    support_groups: frozenset[str]
    projects: frozenset[str]
    boards: frozenset[int]


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
        out["service"].append(Scope("service", "service", service.id, service.id, groups,
                                    frozenset(), frozenset()))
        out["combined"].append(Scope(
            "combined", "service", service.id, service.id, groups,
            frozenset(k for p in linked for k in (p.jira_projects or ())),
            frozenset(b for p in linked for b in (p.boards or ()))))
    for product in products.values():
        out["product"].append(Scope("product", "product", product.id, None, frozenset(),
                                    frozenset(product.jira_projects or ()),
                                    frozenset(product.boards or ())))
    return out
