"""A real parser for the JQL the sandbox understands (jira-api.md §4, §10).

Grammar (case-insensitive keywords)::

    query    := [or_expr] [ORDER BY sort ("," sort)*]
    or_expr  := and_expr (OR and_expr)*
    and_expr := unary (AND unary)*
    unary    := NOT unary | "(" or_expr ")" | clause
    clause   := field (= | != | < | > | <= | >= | ~ | !~) operand
              | field [NOT] IN list | field IS [NOT] EMPTY
              | field WAS [NOT] [IN] (operand | list) predicate*
              | field CHANGED predicate*
    operand  := value | EMPTY | NULL | function "(" [arg ("," arg)*] ")"
    list     := "(" operand ("," operand)* ")" | function "(" … ")"
    predicate:= (AFTER | BEFORE | ON | BY | FROM | TO) operand
              | DURING "(" operand "," operand ")"

Fields: project, key/issuekey/issue, id, issuetype/type, status, statusCategory, labels, sprint,
updated, created, resolved (with resolutiondate, updatedDate, createdDate aliases),
summary, description, environment, text, assignee, reporter, resolution. Field meanings
are in :mod:`jql_fields`, dates in :mod:`jql_dates`, text search in :mod:`jql_text`,
``WAS``/``CHANGED`` in :mod:`jql_history`. What it does not understand is a
:class:`JqlError` carrying Jira's real error wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira.sandbox import jql_fields as fields
from connectors.jira.sandbox import jql_syntax as err
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.jql_dates import DATE_FORMATS_TEXT
from connectors.jira.sandbox.jql_eval import all_of, any_of, negate_if, ordered, slow_if, sort_key
from connectors.jira.sandbox.jql_fields import JqlContext, Operand
from connectors.jira.sandbox.jql_history_clauses import HistoryClauses
from connectors.jira.sandbox.jql_syntax import JqlError, Token, tokenize

__all__ = ["DATE_FORMATS_TEXT", "JqlError", "Parser", "Query", "Token", "sort_key", "tokenize"]

_OPERATORS_TEXT = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
                   "'IN', 'NOT IN', 'IS' and 'IS NOT'.")
_FIELDS = {"project": "project", "key": "key", "issuekey": "key", "issue": "key", "id": "id",
           "issuetype": "issuetype", "type": "issuetype", "status": "status",
           "statuscategory": "statusCategory", "labels": "labels", "sprint": "sprint",
           "updated": "updated", "updateddate": "updated", "created": "created",
           "createddate": "created", "resolved": "resolved", "resolutiondate": "resolved",
           "summary": "summary", "description": "description", "environment": "environment",
           "text": "text", "assignee": "assignee", "reporter": "reporter",
           "resolution": "resolution"}


@dataclass(frozen=True)
class Query:
    """A parsed query: a predicate (``None`` when unbounded) and the sort keys."""

    where: Callable[[Issue], bool] | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


class Parser(HistoryClauses):
    """Recursive-descent parser producing predicates over sandbox issues.

    Args:
        zone: the searching user's time zone (zone-less dates are read in it).
        now: the sandbox's current time (for relative dates and date functions).
        projects: known project keys (unknown ones are an error, as in Jira).
        sprints: sprint id by lower-cased name, for ``sprint = "PAY Sprint 3"``.
        data: the sandbox data set (sprint states, histories, comments, people); needed
            by sprint functions, ``WAS``/``CHANGED``, users and ``text``.
        user: the author index of the calling account, for ``currentUser()``.
        cloud: Cloud or Data Center account names.
    """

    def __init__(self, zone: ZoneInfo, now: datetime, projects: set[str],
                 sprints: dict[str, int], *, data: Any = None, user: int | None = None,
                 cloud: bool = True) -> None:
        self.ctx = JqlContext(zone, now, projects, sprints, data, user, cloud)
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

    def _peek(self, ahead: int = 0) -> Token | None:
        at = self.at + ahead
        return self.tokens[at] if at < len(self.tokens) else None

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

    def _expect_punct(self, char: str) -> None:
        if not self._accept_punct(char):
            token = self._peek()
            where = f"'{token.text}'" if token else "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting '{char}' but got {where}.")

    def _field(self, token: Token) -> str:
        name = _FIELDS.get(token.text.lower())
        if name is None:
            raise err.no_field(token.text)
        return name

    # -- grammar ------------------------------------------------------------------------

    def _or(self) -> Callable[[Issue], bool]:
        parts = [self._and()]
        while self._is_word("or"):
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else any_of(parts)

    def _and(self) -> Callable[[Issue], bool]:
        parts = [self._unary()]
        while self._is_word("and"):
            self.at += 1
            parts.append(self._unary())
        # History clauses read changelogs: evaluate them only on issues the rest admits.
        parts.sort(key=lambda p: getattr(p, "slow", False))
        return parts[0] if len(parts) == 1 else all_of(parts)

    def _unary(self) -> Callable[[Issue], bool]:
        if self._is_word("not"):
            self.at += 1
            inner = self._unary()
            return slow_if(lambda i: not inner(i), inner)
        if self._accept_punct("("):
            inner = self._or()
            self._expect_punct(")")
            return inner
        return self._clause()

    def _operand(self) -> Operand:
        token = self._next("a value")
        if token.kind == "punct":
            raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token.text}'. "
                           f"(line 1, character {token.pos})")
        if token.kind == "word" and self._peek() and self._peek().text == "(" \
                and self._peek().kind == "punct":
            self.at += 1
            args: list[str] = []
            while not self._accept_punct(")"):
                if args:
                    self._expect_punct(",")
                args.append(self._next("an argument").text)
            return Operand("function", token.text, args=tuple(args), pos=token.pos)
        if token.kind == "word" and token.text.lower() in ("empty", "null"):
            return Operand("empty", token.text, pos=token.pos)
        return Operand("value", token.text, quoted=token.kind == "str", pos=token.pos)

    def _list(self) -> Operand:
        if self._accept_punct("("):
            items = [self._operand()]
            while self._accept_punct(","):
                items.append(self._operand())
            self._expect_punct(")")
            return Operand("list", items=tuple(items))
        token = self._peek()
        if token is not None and token.kind == "word" and (self._peek(1) or token).text == "(":
            return self._operand()
        raise JqlError("Error in the JQL Query: Expecting '(' after 'IN'.")

    def _clause(self) -> Callable[[Issue], bool]:
        field = self._field(self._next("a field name"))
        token = self._next("an operator")
        op = token.text.lower() if token.kind in ("op", "word") else ""
        following = self._peek()
        if token.kind == "op" and following is not None and following.kind == "op":
            op = ""  # "~~", "=>": not one operator
        if op == "not":
            self._expect_word("in")
            op = "not in"
        elif op in ("is", "was") and self._is_word("not"):
            self.at += 1
            op += " not"
        if op.startswith("was") and self._is_word("in"):
            self.at += 1
            op += " in"
        if op in ("changed", "was", "was not", "was in", "was not in"):
            return self._history(field, op)
        if op in ("is", "is not"):
            operand = self._operand()
            if operand.kind != "empty" or field == "text":
                raise err.bad_operator(op, field) if field == "text" else JqlError(
                    f"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got "
                    f"'{operand.text}'. (line 1, character {operand.pos})")
            return negate_if(op == "is not", fields.is_empty(field))
        if op in ("in", "not in"):
            return self._in(field, op, self._list())
        if op in ("~", "!~"):
            operand = self._operand()
            if field not in fields.TEXT_FIELDS:
                raise err.bad_operator(op, field)
            if operand.kind != "value":
                raise JqlError(f"The field '{field}' is unable to parse the text given to it.")
            return negate_if(op == "!~", fields.text_test(self.ctx, field, operand.text))
        if op not in ("=", "!=", ">", ">=", "<", "<="):
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{token.text}'. "
                           f"{_OPERATORS_TEXT} (line 1, character {token.pos})")
        return self._compare(field, op, self._operand())

    def _in(self, field: str, op: str, operand: Operand) -> Callable[[Issue], bool]:
        if field in fields.TEXT_FIELDS:
            raise err.bad_operator(op.upper(), field)
        items = operand.items if operand.kind == "list" else (operand,)
        if field == "project" and all(i.kind == "value" for i in items):
            # The connector's every query: a set lookup, not a scan.
            keys = {i.text.upper() for i in items}
            unknown = sorted(keys - self.ctx.projects)
            if unknown:
                raise err.no_value("project", unknown[0])
            match = lambda i: i.project in keys  # noqa: E731
        else:
            match = any_of([self._compare(field, "=", item) for item in items])
        if op == "in":
            return match
        present = fields.is_empty(field)
        return lambda i: not present(i) and not match(i)

    def _compare(self, field: str, op: str, operand: Operand) -> Callable[[Issue], bool]:
        if field in fields.TEXT_FIELDS:
            raise err.bad_operator(op, field)
        if field in fields.DATE_FIELDS and operand.kind != "empty":
            # In UTC like the issues' own stamps: same-zone comparisons skip utcoffset().
            bound = fields.date_bound(self.ctx, field, operand, not operand.quoted)
            return ordered(lambda i: getattr(i, field), op, bound)
        if op not in ("=", "!="):
            if field == "id" and operand.text.isdigit():
                return ordered(lambda i: i.id, op, int(operand.text))
            raise err.bad_operator(op, field)
        match = fields.equal(self.ctx, field, operand)
        if op == "=":
            return match
        if operand.kind == "empty":
            return lambda i: not match(i)
        empty = fields.is_empty(field)
        return lambda i: not empty(i) and not match(i)

