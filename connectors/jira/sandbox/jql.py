"""A real parser for the JQL subset the sandbox understands (jira-api.md §4, §10).

Grammar (case-insensitive keywords)::

    query   := [or_expr] [ORDER BY sort ("," sort)*]
    or_expr := and_expr (OR and_expr)*
    and_expr:= unary (AND unary)*
    unary   := NOT unary | "(" or_expr ")" | clause
    clause  := field op value | field (IN | NOT IN) "(" value ("," value)* ")"

Fields: project, key/issuekey, id, issuetype/type, status, statusCategory, labels, sprint,
updated, created, resolved (with resolutiondate, updatedDate, createdDate aliases).
Zone-less date literals are read in the searching user's time zone with minute
resolution; integers on date fields are epoch milliseconds. What it does not understand is
a :class:`JqlError` carrying Jira's real error wording.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira.sandbox.data import ISSUE_TYPES, STATUS_BY_ID, Issue

_OPERATORS_TEXT = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
                   "'IN', 'NOT IN', 'IS' and 'IS NOT'.")
DATE_FORMATS_TEXT = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', "
                     "'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")
_FIELDS = {"project": "project", "key": "key", "issuekey": "key", "id": "id",
           "issuetype": "issuetype", "type": "issuetype", "status": "status",
           "statuscategory": "statusCategory", "labels": "labels", "sprint": "sprint",
           "updated": "updated", "updateddate": "updated", "created": "created",
           "createddate": "created", "resolved": "resolved", "resolutiondate": "resolved"}
_DATE_FIELDS = {"updated", "created", "resolved"}
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
                     |(?P<op>!=|>=|<=|=|>|<|~|!~)
                     |(?P<punct>[(),])|(?P<word>[^\s(),=!<>~"']+))""", re.VERBOSE)
_RELATIVE = re.compile(r"^([+-]?)(\d+)([mhdw])$")


class JqlError(ValueError):
    """A JQL query the server rejects (HTTP 400 with ``errorMessages``)."""


@dataclass(frozen=True)
class Token:
    """A lexical token with its 1-based character position."""

    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Query:
    """A parsed query: a predicate (``None`` when unbounded) and the sort keys."""

    where: Callable[[Issue], bool] | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens; quoted strings keep their content without quotes."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved "
                           f"JQL character. (line 1, character {pos + 1})")
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        start = match.start(kind) + 1
        if kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, start))
        pos = match.end()
    return tokens


class Parser:
    """Recursive-descent parser producing predicates over sandbox issues.

    Args:
        zone: the searching user's time zone (zone-less dates are read in it).
        now: the sandbox's current time (for relative dates such as ``-15m``).
        projects: known project keys (unknown ones are an error, as in Jira).
        sprints: sprint id by lower-cased name, for ``sprint = "PAY Sprint 3"``.
    """

    def __init__(self, zone: ZoneInfo, now: datetime, projects: set[str],
                 sprints: dict[str, int]) -> None:
        self.zone, self.now, self.projects, self.sprints = zone, now, projects, sprints
        self.tokens: list[Token] = []
        self.at = 0

    def parse(self, text: str) -> Query:
        """Parse a whole query."""
        self.tokens, self.at = tokenize(text), 0
        where = None
        if self._peek() and not self._is_word("order"):
            where = self._or()
        order: list[tuple[str, bool]] = []
        if self._is_word("order"):
            self.at += 1
            self._expect_word("by")
            while True:
                field = self._field(self._next("a field name"))
                descending = False
                if self._is_word("asc") or self._is_word("desc"):
                    descending = self._next("").text.lower() == "desc"
                order.append((field, descending))
                if not self._accept_punct(","):
                    break
            if len(order) > 7:
                raise JqlError("The ORDER BY clause may contain at most 7 fields.")
        if self._peek():
            token = self._peek()
            raise JqlError(f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got "
                           f"'{token.text}'. (line 1, character {token.pos})")
        return Query(where, tuple(order))

    # -- token helpers ------------------------------------------------------------------

    def _peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _next(self, expected: str) -> Token:
        token = self._peek()
        if token is None:
            raise JqlError(f"Error in the JQL Query: Expecting {expected} but reached the end "
                           "of the query.")
        self.at += 1
        return token

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "word" and token.text.lower() == word

    def _expect_word(self, word: str) -> None:
        token = self._next(f"'{word.upper()}'")
        if token.kind != "word" or token.text.lower() != word:
            raise JqlError(f"Error in the JQL Query: Expecting '{word.upper()}' but got "
                           f"'{token.text}'. (line 1, character {token.pos})")

    def _accept_punct(self, char: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.at += 1
            return True
        return False

    def _field(self, token: Token) -> str:
        name = _FIELDS.get(token.text.lower())
        if name is None:
            raise JqlError(f"Field '{token.text}' does not exist or you do not have "
                           "permission to view it.")
        return name

    # -- grammar ------------------------------------------------------------------------

    def _or(self) -> Callable[[Issue], bool]:
        parts = [self._and()]
        while self._is_word("or"):
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _any_of(parts)

    def _and(self) -> Callable[[Issue], bool]:
        parts = [self._unary()]
        while self._is_word("and"):
            self.at += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else _all_of(parts)

    def _unary(self) -> Callable[[Issue], bool]:
        if self._is_word("not"):
            self.at += 1
            inner = self._unary()
            return lambda i: not inner(i)
        if self._accept_punct("("):
            inner = self._or()
            if not self._accept_punct(")"):
                token = self._peek()
                where = f"'{token.text}'" if token else "the end of the query"
                raise JqlError(f"Error in the JQL Query: Expecting ')' but got {where}.")
            return inner
        return self._clause()

    def _clause(self) -> Callable[[Issue], bool]:
        field = self._field(self._next("a field name"))
        token = self._next("an operator")
        op = token.text.lower() if token.kind in ("op", "word") else ""
        if op == "not":
            self._expect_word("in")
            op = "not in"
        if op in ("in", "not in"):
            if not self._accept_punct("("):
                raise JqlError("Error in the JQL Query: Expecting '(' after 'IN'.")
            values = [self._next("a value")]
            while self._accept_punct(","):
                values.append(self._next("a value"))
            if not self._accept_punct(")"):
                raise JqlError("Error in the JQL Query: Expecting ')' to close the list.")
            tests = [self._compare(field, "=", v) for v in values]
            if field == "project":  # the connector's every query: a set lookup, not a scan
                keys = {v.text.upper() for v in values}
                match = lambda i: i.project in keys  # noqa: E731
            else:
                match = _any_of(tests)
            return match if op == "in" else (lambda i: not match(i))
        if op not in ("=", "!=", ">", ">=", "<", "<="):
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{token.text}'. "
                           f"{_OPERATORS_TEXT} (line 1, character {token.pos})")
        return self._compare(field, op, self._next("a value"))

    # -- values -------------------------------------------------------------------------

    def _compare(self, field: str, op: str, value: Token) -> Callable[[Issue], bool]:
        if field in _DATE_FIELDS:
            # In UTC like the issues' own stamps: same-zone comparisons skip utcoffset().
            bound = self._date(field, value).astimezone(UTC)
            attr = {"updated": "updated", "created": "created", "resolved": "resolved"}[field]
            return _ordered(lambda i: getattr(i, attr), op, bound)
        if op not in ("=", "!="):
            if field == "id" and value.text.isdigit():
                return _ordered(lambda i: i.id, op, int(value.text))
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        match = self._matcher(field, value.text)
        return match if op == "=" else (lambda i: not match(i))

    def _matcher(self, field: str, text: str) -> Callable[[Issue], bool]:
        low = text.lower()
        if field == "project":
            key = text.upper()
            if key not in self.projects:
                raise JqlError(f"The value '{text}' does not exist for the field 'project'.")
            return lambda i: i.project == key
        if field == "key":
            return lambda i: i.key == text.upper()
        if field == "id":
            return lambda i: str(i.id) == text
        if field == "issuetype":
            names = {n.lower(): n for n in ISSUE_TYPES}
            if low not in names and text not in {v[0] for v in ISSUE_TYPES.values()}:
                raise JqlError(f"The value '{text}' does not exist for the field 'issuetype'.")
            return lambda i: i.type.lower() == low or ISSUE_TYPES[i.type][0] == text
        if field == "status":
            ids = {s[0] for s in STATUS_BY_ID.values() if s[1].lower() == low or s[0] == text}
            if not ids:
                raise JqlError(f"The value '{text}' does not exist for the field 'status'.")
            return lambda i: i.status in ids
        if field == "statusCategory":
            keys = {"new": "new", "to do": "new", "2": "new", "indeterminate": "indeterminate",
                    "in progress": "indeterminate", "4": "indeterminate", "done": "done",
                    "3": "done"}
            if low not in keys:
                raise JqlError(f"The value '{text}' does not exist for the field "
                               "'statusCategory'.")
            return lambda i: STATUS_BY_ID[i.status][2] == keys[low]
        if field == "labels":
            return lambda i: text in i.labels
        if field == "sprint":
            sprint_id = int(text) if text.isdigit() else self.sprints.get(low)
            if sprint_id is None:
                raise JqlError(f"The value '{text}' does not exist for the field 'sprint'.")
            return lambda i: sprint_id in i.sprints
        raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")

    def _date(self, field: str, token: Token) -> datetime:
        text = token.text.strip()
        if token.kind == "word" and text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=self.zone)
        relative = _RELATIVE.match(text.replace(" ", ""))
        if relative:
            sign = -1 if relative.group(1) == "-" else 1
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[relative.group(3)]
            return self.now + sign * timedelta(**{unit: int(relative.group(2))})
        for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.zone)
            except ValueError:
                continue
        raise JqlError(f"Date value '{text}' for field '{field}' is invalid. "
                       f"{DATE_FORMATS_TEXT}")


# Search evaluates every clause on every issue, for every page a client asks for: the
# helpers below are built once per query so that evaluation does no per-issue set-up.
_COMPARE = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
            "<": operator.lt, "<=": operator.le}


def _any_of(parts: list[Callable[[Issue], bool]]) -> Callable[[Issue], bool]:
    def test(issue: Issue) -> bool:
        for part in parts:
            if part(issue):
                return True
        return False
    return test


def _all_of(parts: list[Callable[[Issue], bool]]) -> Callable[[Issue], bool]:
    def test(issue: Issue) -> bool:
        for part in parts:
            if not part(issue):
                return False
        return True
    return test


def _ordered(get: Callable[[Issue], Any], op: str, bound: Any) -> Callable[[Issue], bool]:
    compare = _COMPARE[op]

    def test(issue: Issue) -> bool:
        value = get(issue)
        return value is not None and compare(value, bound)
    return test


_SORT_VALUES: dict[str, Callable[[Issue], Any]] = {
    "updated": lambda i: i.updated.timestamp(),
    "created": lambda i: i.created.timestamp(),
    "resolved": lambda i: i.resolved.timestamp() if i.resolved else float("inf"),
    "key": lambda i: (i.project, i.number),
    "id": lambda i: i.id,
    "project": lambda i: i.project,
    "status": lambda i: i.status,
}


def sort_key(order: tuple[tuple[str, bool], ...]) -> Callable[[Issue], tuple[Any, ...]]:
    """A sort key implementing ORDER BY (default ``created DESC`` is the caller's choice)."""
    getters = [(_SORT_VALUES.get(field, _SORT_VALUES["id"]), descending)
               for field, descending in order]

    def key(issue: Issue) -> tuple[Any, ...]:
        return tuple(_Desc(get(issue)) if descending else get(issue)
                     for get, descending in getters)
    return key


class _Desc:
    """Inverts comparison for descending sort keys."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]
