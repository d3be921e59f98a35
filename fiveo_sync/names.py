"""Names people know: display names for the ids that owners, groups and assignees carry.

The portfolio names a service owner by ServiceNow ``user_name`` and a product owner by Jira
``accountId`` (Data Center: user name); records name groups by ``sys_id``. People read
``Alice Martin``, not ``alice.martin`` or ``6dc56f8d473271aeba6df13c``. A :class:`NameBook`
maps every such id to the display name from the pulled lookup data:

- ServiceNow ``sys_user``: ``user_name`` and ``sys_id`` → ``name``;
- ServiceNow ``sys_user_group``: ``sys_id`` → ``name``;
- ServiceNow ``cmdb_ci_service``: ``sys_id`` → ``name`` (a service's default display name);
- Jira has no user stream: users appear in issue payloads as ``assignee`` and ``reporter``
  with ``displayName`` (Cloud keys them by ``accountId``, Data Center by ``name``/``key``).

Every view shows ``name`` with the id beside it (a second column, a tooltip); an id that
resolves to nothing is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_JIRA_PEOPLE = ("assignee", "reporter", "creator")


class NameBook:
    """Display names by id.

    Args:
        names: ``{id: display name}``.
    """

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = {str(k): str(v) for k, v in (names or {}).items() if k and v}

    def name(self, ident: str | None) -> str | None:
        """The display name of an id, the id itself when unknown, None for None."""
        if ident is None:
            return None
        return self._names.get(str(ident), str(ident))

    def known(self, ident: str | None) -> bool:
        """Whether the id has a display name different from itself."""
        return ident is not None and self._names.get(str(ident), str(ident)) != str(ident)

    def label(self, ident: str | None) -> str:
        """``Name (id)`` for a known id, the id alone otherwise, ``–`` for None."""
        if ident is None:
            return "–"
        if self.known(ident):
            return f"{self.name(ident)} ({ident})"
        return str(ident)

    def as_dict(self) -> dict[str, str]:
        """The mapping, e.g. for tests and JSON."""
        return dict(self._names)


def _servicenow_names(store: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for payload in store.iter_payloads("servicenow", "sys_user"):
        name = _text(payload.get("name"))
        if not name:
            continue
        for ident in (payload.get("user_name"), payload.get("sys_id")):
            if _text(ident):
                names[_text(ident)] = name
    for stream in ("sys_user_group", "cmdb_ci_service"):
        for payload in store.iter_payloads("servicenow", stream):
            name, ident = _text(payload.get("name")), _text(payload.get("sys_id"))
            if name and ident:
                names[ident] = name
    return names


def _jira_names(store: Any, wanted: set[str] | None) -> dict[str, str]:
    names: dict[str, str] = {}
    for payload in store.iter_payloads("jira", "issue"):
        fields = payload.get("fields") if isinstance(payload, dict) else None
        for person in (fields.get(f) for f in _JIRA_PEOPLE) if isinstance(fields, dict) else ():
            if not isinstance(person, dict) or not _text(person.get("displayName")):
                continue
            for ident in (person.get("accountId"), person.get("name"), person.get("key")):
                if _text(ident):
                    names.setdefault(_text(ident), _text(person["displayName"]))
        if wanted is not None and wanted <= names.keys():
            break  # every id asked for is resolved: no need to read the other issues
    return names


def _text(value: Any) -> str:
    if isinstance(value, dict):  # a reference read with display values
        value = value.get("display_value") or value.get("value")
    return "" if value is None else str(value).strip()


def build_name_book(store: Any, wanted: Iterable[str] | None = None) -> NameBook:
    """The display names the state store knows.

    Args:
        store: the state store (pulled ``sys_user``, ``sys_user_group``, Jira issues), or
            None (no names).
        wanted: the ids that must be resolved; Jira issues are read until all are found
            (None: read them all).

    Returns:
        The name book.
    """
    if store is None:
        return NameBook()
    wanted_set = None if wanted is None else {str(w) for w in wanted if w}
    names = _servicenow_names(store)
    missing = None if wanted_set is None else wanted_set - names.keys()
    if missing is None or missing:
        for ident, name in _jira_names(store, missing).items():
            names.setdefault(ident, name)
    return NameBook(names)


def scope_display_name(spec: Any, names: NameBook | None = None) -> str:
    """A service's or product's display name.

    Its portfolio ``name``, else (services) the CMDB name of its business service, else
    its id.
    """
    name = getattr(spec, "name", None)
    if name:
        return str(name)
    business_service = getattr(spec, "business_service", None)
    if business_service:
        return (names or NameBook()).name(business_service) or str(business_service)
    return str(spec.id)


def portfolio_people(portfolio: Any) -> set[str]:
    """The owner ids named in a portfolio (services and products)."""
    people = set()
    for item in (*(getattr(portfolio, "services", ()) or ()),
                 *(getattr(portfolio, "products", ()) or ())):
        owner = getattr(item, "owner", None)
        if owner:
            people.add(str(owner))
    return people
