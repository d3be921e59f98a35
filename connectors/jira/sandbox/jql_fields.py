"""What each JQL field means over sandbox issues: values, EMPTY, functions, history.

One clause is ``field operator operand``; :func:`build_clause` turns it into a predicate
built once per query. Field semantics follow Atlassian's "JQL fields" reference:

- ``!=`` and ``NOT IN`` never match an issue whose field is empty (documented for ``!=``);
  ``= EMPTY``, ``= null`` and ``IS EMPTY`` are the same test.
- ``resolution = Unresolved`` is ``resolution IS EMPTY``; the sandbox's one resolution is
  Done (id 10000).
- Users (``assignee``, ``reporter``) are matched by Cloud ``accountId``, Data Center
  ``name`` or ``key``, e-mail or display name (case-insensitive); ``currentUser()`` is the
  calling account. An unknown user is Jira's "The value … does not exist" error.
- ``sprint in openSprints()`` means an active sprint, ``closedSprints()`` a completed one,
  ``futureSprints()`` one not started; ``issuetype in standardIssueTypes()`` /
  ``subTaskIssueTypes()`` split on the type's ``subtask`` flag.
- ``text`` searches summary, description, environment and comments (:mod:`jql_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira.sandbox import jql_syntax as err
from connectors.jira.sandbox.accounts import ADMIN, VIEWER, account_user
from connectors.jira.sandbox.data import ISSUE_TYPES, STATUS_BY_ID, Issue
from connectors.jira.sandbox.jql_dates import DATE_FUNCTIONS, call_date_function, parse_date
from connectors.jira.sandbox.jql_text import build_text_matcher
from connectors.jira.sandbox.richtext import plain

Test = Callable[[Issue], bool]
DATE_FIELDS = {"updated", "created", "resolved"}
TEXT_FIELDS = {"summary", "description", "environment", "text"}
USER_FIELDS = {"assignee", "reporter"}
HISTORY_FIELDS = {"status", "resolution", "assignee", "reporter"}
LIST_FUNCTIONS = {"opensprints": "sprint", "closedsprints": "sprint",
                  "futuresprints": "sprint", "standardissuetypes": "issuetype",
                  "subtaskissuetypes": "issuetype", "currentuser": "user"}
_SPRINT_STATES = {"opensprints": "active", "closedsprints": "closed", "futuresprints": "future"}
_CATEGORIES = {"new": "new", "to do": "new", "2": "new", "indeterminate": "indeterminate",
               "in progress": "indeterminate", "4": "indeterminate", "done": "done",
               "3": "done"}


@dataclass(frozen=True)
class Operand:
    """A clause's right-hand side: a value, EMPTY, a function call or a list."""

    kind: str  # "value" | "empty" | "function" | "list"
    text: str = ""
    quoted: bool = False
    args: tuple[str, ...] = ()
    items: tuple[Operand, ...] = ()
    pos: int = 0


@dataclass
class JqlContext:
    """What evaluation needs besides the query: the user's zone, clock and account, data."""

    zone: ZoneInfo
    now: datetime
    projects: set[str]
    sprints: dict[str, int]  # lower-cased sprint name -> id
    data: Any = None  # the sandbox Dataset (sprint states, histories, comments, people)
    user: int | None = None  # author index of the calling account (currentUser())
    cloud: bool = True
    _users: UserDirectory | None = field(default=None, repr=False)

    @property
    def users(self) -> UserDirectory:
        """The user directory (built on first use)."""
        if self._users is None:
            people = self.data.world.people if self.data is not None else ()
            self._users = UserDirectory(people, self.cloud)
        return self._users


def is_empty(field: str) -> Test:
    """The predicate ``field IS EMPTY``."""
    if field in USER_FIELDS:
        return lambda i: getattr(i, field) is None
    getters: dict[str, Callable[[Issue], Any]] = {
        "resolution": lambda i: i.resolved, "resolved": lambda i: i.resolved,
        "labels": lambda i: i.labels, "sprint": lambda i: i.sprints,
        "description": lambda i: _plain(i.extra.get("description")),
        "environment": lambda i: _plain(i.extra.get("environment")),
        "summary": lambda i: i.summary}
    if field not in getters:
        return lambda _i: False  # project, key, status, dates: always set
    get = getters[field]
    return lambda i: not get(i)


def equal(ctx: JqlContext, field: str, operand: Operand) -> Test:
    """The predicate ``field = operand`` (``operand`` is a value or a function)."""
    if operand.kind == "empty":
        return is_empty(field)
    if operand.kind == "function":
        return _function_test(ctx, field, operand)
    text, low = operand.text, operand.text.lower()
    if field == "project":
        key = text.upper()
        if key not in ctx.projects:
            raise err.no_value("project", text)
        return lambda i: i.project == key
    if field == "key":
        return lambda i: i.key == text.upper()
    if field == "id":
        return lambda i: str(i.id) == text
    if field == "issuetype":
        names = {n.lower() for n in ISSUE_TYPES}
        if low not in names and text not in {v[0] for v in ISSUE_TYPES.values()}:
            raise err.no_value("issuetype", text)
        return lambda i: i.type.lower() == low or ISSUE_TYPES[i.type][0] == text
    if field == "status":
        ids = status_ids(text)
        return lambda i: i.status in ids
    if field == "statusCategory":
        if low not in _CATEGORIES:
            raise err.no_value("statusCategory", text)
        return lambda i: STATUS_BY_ID[i.status][2] == _CATEGORIES[low]
    if field == "labels":
        return lambda i: text in i.labels
    if field == "sprint":
        sprint_id = int(text) if text.isdigit() else ctx.sprints.get(low)
        if sprint_id is None:
            raise err.no_value("sprint", text)
        return lambda i: sprint_id in i.sprints
    if field == "resolution":
        if low == "unresolved":
            return is_empty("resolution")
        if low not in ("done", "10000"):
            raise err.no_value("resolution", text)
        return lambda i: i.resolved is not None
    if field in USER_FIELDS:
        indices = ctx.users.resolve(text, field)
        return lambda i: getattr(i, field) in indices
    raise err.no_field(field)


def status_ids(text: str) -> set[str]:
    """Status ids named by ``text`` (name, any case, or id)."""
    ids = {s[0] for s in STATUS_BY_ID.values() if s[1].lower() == text.lower() or s[0] == text}
    if not ids:
        raise err.no_value("status", text)
    return ids


def _function_test(ctx: JqlContext, field: str, operand: Operand) -> Test:
    name, low = operand.text, operand.text.lower()
    target = LIST_FUNCTIONS.get(low)
    if target is None and low not in DATE_FUNCTIONS:
        raise err.no_function(name, list(operand.args))
    if field in USER_FIELDS and target == "user":
        if operand.args:
            raise err.JqlError(f"Function '{name}' expected '0' arguments but received "
                               f"'{len(operand.args)}'.")
        me = ctx.user
        return lambda i: me is not None and getattr(i, field) == me
    if field == "sprint" and target == "sprint":
        sprints = ctx.data.sprints if ctx.data is not None else {}
        ids = {s.id for s in sprints.values() if s.state == _SPRINT_STATES[low]}
        return lambda i: any(s in ids for s in i.sprints)
    if field == "issuetype" and target == "issuetype":
        subtask = low == "subtaskissuetypes"
        names = {n for n, spec in ISSUE_TYPES.items() if spec[1] is subtask}
        return lambda i: i.type in names
    raise err.bad_function_value(name, field)


def date_bound(ctx: JqlContext, field: str, operand: Operand, is_word: bool) -> datetime:
    """A date operand (literal, period, epoch ms or date function) as an aware UTC time."""
    if operand.kind == "function":
        low = operand.text.lower()
        if low in DATE_FUNCTIONS:
            return call_date_function(operand.text, list(operand.args), ctx.zone,
                                      ctx.now).astimezone(UTC)
        if low in LIST_FUNCTIONS:
            raise err.JqlError(f"A date for the field '{field}' provided by the function "
                               f"'{operand.text}' is not valid.")
        raise err.no_function(operand.text, list(operand.args))
    if operand.kind != "value":
        raise err.JqlError(f"Date value '{operand.text}' for field '{field}' is invalid.")
    return parse_date(field, operand.text, is_word, ctx.zone, ctx.now).astimezone(UTC)


def text_test(ctx: JqlContext, field: str, query: str) -> Test:
    """The predicate ``field ~ query``."""
    match = build_text_matcher(query, field)
    if field == "summary":
        return lambda i: match(i.summary or "")
    if field in ("description", "environment"):
        return lambda i: match(_plain(i.extra.get(field)) or "")
    extras = getattr(ctx.data, "extras", None)

    def everything(issue: Issue) -> bool:
        parts = [issue.summary or "", _plain(issue.extra.get("description")) or "",
                 _plain(issue.extra.get("environment")) or ""]
        if match("\n".join(parts)):
            return True
        comments = extras.comments(issue) if extras is not None else []
        return any(match(_plain(c.body) or "") for c in comments)
    return everything


def _plain(value: Any) -> str | None:
    return plain(value) if value is not None else None

class UserDirectory:
    """Index of every user the sandbox knows, by each name JQL may use.

    Args:
        people: the world's people (index = position).
        cloud: Cloud (``accountId``) or Data Center (``name``/``key``) account names.
    """

    def __init__(self, people: Sequence[Any], cloud: bool) -> None:
        self.by_name: dict[str, set[int]] = {}
        self.names: dict[int, set[str]] = {}
        for index, person in enumerate(people):
            self._add(index, (person.jira_account_id, person.user_name, person.email,
                              person.display_name, f"JIRAUSER{10000 + index}"))
        for index in (ADMIN, VIEWER):
            body = account_user(index, "", "2", cloud, "UTC")
            self._add(index, tuple(str(body[k]) for k in
                                   ("accountId", "name", "key", "emailAddress", "displayName")
                                   if k in body))

    def _add(self, index: int, names: tuple[str, ...]) -> None:
        for name in names:
            self.by_name.setdefault(name.lower(), set()).add(index)
        self.names.setdefault(index, set()).update(n.lower() for n in names)

    def resolve(self, text: str, field: str) -> set[int]:
        """Indices of the users ``text`` names; Jira's error when it names nobody."""
        found = self.by_name.get(text.lower())
        if not found:
            raise err.no_value(field, text)
        return set(found)

    def value_names(self, indices: set[int]) -> set[str]:
        """Every lower-cased name of these users (to match changelog ids and strings)."""
        return {n for i in indices for n in self.names.get(i, set())}
