"""What the writers add to each result for the people who read it on the platform.

A :class:`PublishContext` is built once per push (from the settings, the portfolio and the
names in the state store) and handed to the pure plan builders: the display name of each
scope and its owner, and the evidence links of each value. Without one, writers publish the
results alone (ids instead of names, no links).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.evidence_links import EvidenceLink, LinkBuilder
from fiveo_sync.names import NameBook, scope_display_name


@dataclass(frozen=True)
class PublishContext:
    """Names and links for the writers.

    Attributes:
        links: builds evidence links (None: none).
        names: display names of people and groups.
        scope_names: ``(scope_type, id)`` → the portfolio's name of the service or product.
        owners: ``(scope_type, id)`` → the owner id named in the portfolio.
        ownership: ``(scope_type, id)`` → the owner's state (owners who left,
            :mod:`fiveo_sync.ownership`); absent when not assessed.
    """

    links: LinkBuilder | None = None
    names: NameBook = field(default_factory=NameBook)
    scope_names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    owners: Mapping[tuple[str, str], str] = field(default_factory=dict)
    ownership: Mapping[tuple[str, str], Any] = field(default_factory=dict)

    def scope_name(self, scope_type: str, scope: str) -> str:
        """The display name of a service or product (its id when unnamed)."""
        return self.scope_names.get((scope_type, scope), scope)

    def owner(self, scope_type: str, scope: str) -> tuple[str, str]:
        """``(owner id, owner display name)``, both ``""`` when the portfolio names none."""
        ident = self.owners.get((scope_type, scope))
        if not ident:
            return "", ""
        return ident, self.names.name(ident) or ident

    def owner_state(self, scope_type: str, scope: str) -> Any:
        """The :class:`~fiveo_sync.ownership.OwnerState` of a service or product, or None."""
        return self.ownership.get((scope_type, scope))

    def evidence(self, result: IndicatorResult | None) -> list[EvidenceLink]:
        """The evidence links of a result."""
        return self.links.links(result) if self.links is not None and result else []


def build_publish_context(portfolio: Any, names: NameBook, links: LinkBuilder | None, *,
                          ownership: Mapping[tuple[str, str], Any] | None = None,
                          ) -> PublishContext:
    """The context for a portfolio (services and products, their names and owners)."""
    scope_names, owners = {}, {}
    for scope_type, items in (("service", getattr(portfolio, "services", ()) or ()),
                              ("product", getattr(portfolio, "products", ()) or ())):
        for item in items:
            scope_names[(scope_type, item.id)] = scope_display_name(item, names)
            if getattr(item, "owner", None):
                owners[(scope_type, item.id)] = str(item.owner)
    return PublishContext(links=links, names=names, scope_names=scope_names, owners=owners,
                          ownership=dict(ownership or {}))
