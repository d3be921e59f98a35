"""Owners who left: which services and products have lost their active owner.

An element (a portfolio service or product) is flagged when its owner is

- **missing**: the portfolio names none and (services) the CMDB record has no "Owned by";
- **inactive**: the account is deactivated — ServiceNow ``sys_user.active=false``, a Jira
  user object with ``active: false`` (as the most recently updated pulled issue shows it);
- **not found**: no such user in the pulled data (ServiceNow ``sys_user``; Jira users
  appear only on pulled issues, as assignee, reporter or creator).

*Since when*: for an inactive ServiceNow user, the ``sys_updated_on`` of the record (the
deactivation is its last update); otherwise the first moment fiveo-sync saw the state,
kept in the state store's key/value metadata under :data:`FIRST_SEEN_KEY` and dropped when
the owner is active again. A flagged element shows the governance fallback owner
(``portfolio.yaml`` ``governance.fallback_owner``, default the improvement manager) as its
acting owner (``docs/ownership.md``).

:func:`build_ownership` is pure; :func:`load_ownership` feeds it from the state store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fiveo_sync.names import NameBook, PersonRecord, build_people, scope_display_name

ACTIVE, MISSING, INACTIVE, NOT_FOUND = "active", "missing", "inactive", "not_found"
UNKNOWN = "unknown"  # nothing pulled from the owner's platform yet: no verdict
FIRST_SEEN_KEY = "ownership_first_seen"
_PLATFORM = {"service": "servicenow", "product": "jira"}
_PHRASES = {MISSING: "is missing", INACTIVE: "is inactive", NOT_FOUND: "is not found"}


@dataclass(frozen=True)
class OwnerState:
    """The ownership of one service or product.

    Attributes:
        kind: service|product.
        id: portfolio id.
        name: the element's display name.
        state: active|missing|inactive|not_found, or unknown (nothing pulled from the
            owner's platform: not flagged).
        owner: the (last known) owner's id, None when missing.
        owner_name: the owner's display name (the id when unknown), None when missing.
        since: when the state began, ISO UTC (``2026-10-03T09:30:00Z``); None when active.
        acting_owner: the fallback owner's id for a flagged element, else None.
        acting_owner_name: the fallback owner's display name.
    """

    kind: str
    id: str
    name: str
    state: str
    owner: str | None
    owner_name: str | None
    since: str | None = None
    acting_owner: str | None = None
    acting_owner_name: str | None = None

    @property
    def flagged(self) -> bool:
        """Whether the element has lost its active owner."""
        return self.state not in (ACTIVE, UNKNOWN)

    @property
    def owner_label(self) -> str:
        """``Bob Smith (bob.smith)``, the id alone when unnamed, ``–`` when missing."""
        return _label(self.owner, self.owner_name)

    @property
    def acting_label(self) -> str:
        """The acting owner as ``Name (id)``; ``none configured`` without a fallback."""
        if not self.acting_owner:
            return "none configured (portfolio.yaml governance.fallback_owner)"
        return _label(self.acting_owner, self.acting_owner_name)

    def sentence(self) -> str:
        """One line for a person: ``owner Bob Smith (bob.smith) is inactive since …``."""
        if not self.flagged:
            return f"owner {self.owner_label} is {self.state}"
        who = "no owner is set" if self.state == MISSING else \
            f"owner {self.owner_label} {_PHRASES[self.state]}"
        since = f" since {self.since[:10]}" if self.since else ""
        return f"{who}{since}; acting owner: {self.acting_label}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (results.json's ``ownership`` of a view)."""
        return {"state": self.state, "flagged": self.flagged, "owner": self.owner,
                "owner_name": self.owner_name, "since": self.since,
                "acting_owner": self.acting_owner,
                "acting_owner_name": self.acting_owner_name, "text": self.sentence()}


def _label(ident: str | None, name: str | None) -> str:
    if not ident:
        return "–"
    return f"{name} ({ident})" if name and name != ident else ident


def _sn_stamp(value: str | None) -> str | None:
    """``2026-10-03 09:30:00`` (ServiceNow, UTC) → ``2026-10-03T09:30:00Z``."""
    if not value or len(value) < 19:
        return None
    return f"{value[:10]}T{value[11:19]}Z"


def _seen_key(kind: str, ident: str, state: str, owner: str | None) -> str:
    return f"{kind}:{ident}:{state}:{owner or ''}"


def build_ownership(portfolio: Any, people: Mapping[tuple[str, str], PersonRecord],
                    names: NameBook, *,
                    now: datetime, first_seen: Mapping[str, str] | None = None,
                    cmdb_owners: Mapping[str, str] | None = None,
                    platforms: Iterable[str] = ("servicenow", "jira"),
                    ) -> tuple[dict[tuple[str, str], OwnerState], dict[str, str]]:
    """Assess every service's and product's owner.

    Args:
        portfolio: the portfolio (services, products, ``governance``).
        people: account records by ``(platform, id)`` (:func:`fiveo_sync.names.build_people`):
            a service's owner is looked up on ServiceNow, a product's on Jira.
        names: display names (the elements' and the fallback owner's).
        now: the moment of the assessment (aware UTC): the first-seen moment of a new state.
        first_seen: the stored first-seen moments (``{key: ISO}``).
        cmdb_owners: per service id, its CMDB "Owned by" (a sys_id or user name), used
            when the portfolio names no owner.
        platforms: the platforms whose people were pulled; an owner on another platform
            (services: servicenow, products: jira) is ``unknown``, not ``not_found``.

    Returns:
        ``{(kind, id): OwnerState}`` and the first-seen moments to store (flagged
        elements only: an owner active again forgets the old episode).
    """
    seen_before = dict(first_seen or {})
    seen_now: dict[str, str] = {}
    governance = getattr(portfolio, "governance", None)
    acting = getattr(governance, "fallback_owner", None) or getattr(
        governance, "improvement_manager", None)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    pulled = set(platforms)
    states: dict[tuple[str, str], OwnerState] = {}
    for kind, items in (("service", getattr(portfolio, "services", ()) or ()),
                        ("product", getattr(portfolio, "products", ()) or ())):
        for item in items:
            owner = getattr(item, "owner", None) or (
                (cmdb_owners or {}).get(item.id) if kind == "service" else None)
            record = people.get((_PLATFORM[kind], str(owner))) if owner else None
            if record is not None:
                owner = record.ident  # a CMDB sys_id becomes the user_name people know
            state = MISSING if not owner else NOT_FOUND if record is None else \
                ACTIVE if record.active else INACTIVE
            if state == NOT_FOUND and _PLATFORM[kind] not in pulled:
                state = UNKNOWN
            flagged = state not in (ACTIVE, UNKNOWN)
            since = None
            if flagged:
                key = _seen_key(kind, item.id, state, owner)
                seen_now[key] = seen_before.get(key, stamp)
                since = seen_now[key]
                if state == INACTIVE and record is not None and record.platform == "servicenow":
                    since = _sn_stamp(record.updated) or since
            owner_name = (record.name if record is not None else names.name(owner)) \
                if owner else None
            stand_in = (getattr(governance, "jira_fallback_owner", None) or acting
                        if kind == "product" else acting)
            states[(kind, item.id)] = OwnerState(
                kind, item.id, scope_display_name(item, names), state, owner, owner_name,
                since, stand_in if flagged else None,
                names.name(stand_in) if flagged and stand_in else None)
    return states, seen_now


def _reference(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value") or value.get("display_value")
    return "" if value is None else str(value).strip()


def build_cmdb_owners(portfolio: Any, cmdb: Iterable[Any]) -> dict[str, str]:
    """Per portfolio service, the "Owned by" of its ``cmdb_ci_service`` record (if any)."""
    records = [p for p in cmdb if isinstance(p, dict)]
    owners = {}
    for service in getattr(portfolio, "services", ()) or ():
        ref = str(service.business_service)
        match = next((p for p in records if ref == _reference(p.get("sys_id"))), None) or next(
            (p for p in records if _reference(p.get("name")).casefold() == ref.casefold()),
            None)
        owned_by = _reference(match.get("owned_by")) if match else ""
        if owned_by:
            owners[service.id] = owned_by
    return owners


def load_ownership(store: Any, portfolio: Any, names: NameBook,
                   now: datetime) -> dict[tuple[str, str], OwnerState]:
    """The ownership of every element, from the state store; records first-seen moments.

    Args:
        store: the state store (pulled ``sys_user``, ``cmdb_ci_service``, Jira issues;
            key/value metadata), or None (every named owner counts as not found).
        portfolio: the portfolio.
        names: display names.
        now: the moment of the view or run (aware UTC).

    Returns:
        ``{(kind, id): OwnerState}``.
    """
    if store is None:
        return build_ownership(portfolio, {}, names, now=now, platforms=())[0]
    cmdb = build_cmdb_owners(portfolio, store.iter_payloads("servicenow", "cmdb_ci_service"))
    product_owners = {str(p.owner) for p in getattr(portfolio, "products", ()) or () if p.owner}
    people = build_people(store, product_owners)
    stored = store.get_meta(FIRST_SEEN_KEY) or {}
    pulled = [source for source, stream in (("servicenow", "sys_user"), ("jira", "issue"))
              if store.count_records(source, stream)]
    states, seen = build_ownership(portfolio, people, names, now=now, first_seen=stored,
                                   cmdb_owners=cmdb, platforms=pulled)
    if seen != stored:
        store.set_meta(FIRST_SEEN_KEY, seen)
    return states
