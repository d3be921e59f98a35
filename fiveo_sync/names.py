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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_JIRA_PEOPLE = ("assignee", "reporter", "creator")
_PEOPLE_STREAMS = (("servicenow", "sys_user"), ("jira", "issue"))
# The people of the last store state asked: a run asks four times (ownership, views,
# improvement items, summaries) and each reading decodes every stored Jira issue.
_LAST_PEOPLE: dict[tuple[Any, ...], dict[tuple[str, str], PersonRecord]] = {}


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
    """The people named in a portfolio: owners of services and products, governance roles."""
    people = set()
    for item in (*(getattr(portfolio, "services", ()) or ()),
                 *(getattr(portfolio, "products", ()) or ())):
        owner = getattr(item, "owner", None)
        if owner:
            people.add(str(owner))
    governance = getattr(portfolio, "governance", None)
    for role in ("fallback_owner", "jira_fallback_owner", "improvement_manager"):
        ident = getattr(governance, role, None)
        if ident:
            people.add(str(ident))
    return people


@dataclass(frozen=True)
class PersonRecord:
    """What the pulled data says about one person's account (owners who left).

    Attributes:
        ident: the person's id: ServiceNow ``user_name`` (found by it or by ``sys_id``),
            Jira ``accountId`` (Data Center: the user name or key it was found by).
        name: display name (the id when the record has none).
        active: False for ``sys_user.active=false`` or a Jira user with ``active: false``.
        updated: ServiceNow ``sys_updated_on`` (UTC ``YYYY-MM-DD HH:MM:SS``); None on Jira,
            whose user objects carry no date.
        platform: servicenow|jira.
    """

    ident: str
    name: str
    active: bool
    updated: str | None
    platform: str


def _active(value: Any) -> bool:
    # An older stored payload may lack the field (pulled before it was asked for): active.
    text = _text(value).lower()
    return text not in ("false", "0")


def _servicenow_people(store: Any) -> dict[str, PersonRecord]:
    people: dict[str, PersonRecord] = {}
    for payload in store.iter_payloads("servicenow", "sys_user"):
        user_name = _text(payload.get("user_name"))
        for ident in (user_name, _text(payload.get("sys_id"))):
            if ident:
                people[ident] = PersonRecord(
                    user_name or ident, _text(payload.get("name")) or user_name or ident,
                    _active(payload.get("active")),
                    _text(payload.get("sys_updated_on")) or None, "servicenow")
    return people


def _jira_people(store: Any, wanted: set[str]) -> dict[str, PersonRecord]:
    """Each wanted Jira user as the most recently updated pulled issue shows them.

    Stored issues are snapshots: an issue not updated since its reporter left still says
    ``active: true``, so the latest one decides. Every issue is read.
    """
    latest: dict[str, tuple[str, PersonRecord]] = {}
    for payload in store.iter_payloads("jira", "issue"):
        fields = payload.get("fields") if isinstance(payload, dict) else None
        if not isinstance(fields, dict):
            continue
        stamp = _utc_stamp(fields.get("updated"))
        for person in (fields.get(f) for f in _JIRA_PEOPLE):
            if not isinstance(person, dict):
                continue
            for ident in (person.get("accountId"), person.get("name"), person.get("key")):
                ident = _text(ident)
                if ident not in wanted or (ident in latest and latest[ident][0] > stamp):
                    continue
                latest[ident] = (stamp, PersonRecord(
                    ident, _text(person.get("displayName")) or ident,
                    person.get("active") is not False, None, "jira"))
    return {ident: record for ident, (_, record) in latest.items()}


def _utc_stamp(value: Any) -> str:
    """Jira's ``2025-03-01T10:00:00.000+0100`` as a sortable UTC text ('' when unreadable)."""
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def build_people(store: Any, wanted: Iterable[str]) -> dict[tuple[str, str], PersonRecord]:
    """The account records of ServiceNow users and of the wanted Jira users.

    Each platform answers for its own accounts: a service owner is a ServiceNow user, a
    product owner a Jira user, even where a Data Center user name equals a ``user_name``.

    Args:
        store: the state store (pulled ``sys_user`` and Jira issues), or None.
        wanted: the Jira ids to look up (product owners); every ServiceNow user is read.

    Returns:
        ``{(platform, id): PersonRecord}``: ServiceNow users by ``user_name`` and
        ``sys_id``, Jira users by the wanted ids found on pulled issues.
    """
    if store is None:
        return {}
    wanted_set = {str(w) for w in wanted if w}
    key = _people_key(store, wanted_set)
    if key is not None and key in _LAST_PEOPLE:
        return dict(_LAST_PEOPLE[key])
    people = {("servicenow", ident): record
              for ident, record in _servicenow_people(store).items()}
    if wanted_set:
        people.update({("jira", ident): record
                       for ident, record in _jira_people(store, wanted_set).items()})
    if key is not None:
        _LAST_PEOPLE.clear()
        _LAST_PEOPLE[key] = people
    return dict(people)


def _people_key(store: Any, wanted: set[str]) -> tuple[Any, ...] | None:
    """What the people read from a store depend on; None for a store without marks."""
    mark = getattr(store, "stream_mark", None)
    if mark is None or getattr(store, "path", None) is None:
        return None
    return (str(store.path), *(mark(*stream) for stream in _PEOPLE_STREAMS), frozenset(wanted))
