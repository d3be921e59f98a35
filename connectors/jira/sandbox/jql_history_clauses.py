"""Parsing of ``WAS`` and ``CHANGED`` clauses and their predicates (grammar in :mod:`jql`).

The evaluation over changelogs is :mod:`jql_history`; this mixin turns the tokens after
the operator (values, ``FROM``/``TO``/``BY``/``AFTER``/``BEFORE``/``ON``/``DURING``) into
its :class:`Predicates` and value tests. A history clause is marked ``slow``: ``AND``
evaluates it last, only on issues the cheaper clauses admit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from connectors.jira.sandbox import jql_fields as fields
from connectors.jira.sandbox import jql_syntax as err
from connectors.jira.sandbox.data import STATUS_BY_ID, Issue
from connectors.jira.sandbox.jql_eval import negate_if
from connectors.jira.sandbox.jql_fields import Operand
from connectors.jira.sandbox.jql_history import Predicates, build_changed, build_was, day_range
from connectors.jira.sandbox.jql_syntax import JqlError

_PREDICATES = ("after", "before", "on", "during", "by", "from", "to")


class HistoryClauses:
    """Mixin of :class:`~connectors.jira.sandbox.jql.Parser` for history clauses."""

    ctx: fields.JqlContext
    _peek: Any
    _next: Any
    _expect_punct: Any
    _operand: Any
    _list: Any

    def _history(self, field: str, op: str) -> Callable[[Issue], bool]:
        if field not in fields.HISTORY_FIELDS:
            raise err.bad_operator(op.upper(), field)
        if self.ctx.data is None:
            raise JqlError("History searches need the sandbox data set.")
        data = self.ctx.data
        if op == "changed":
            test = build_changed(field, self._predicates(field, changes=True), data.histories)
        else:
            operand = self._list() if op.endswith(" in") else self._operand()
            items = operand.items if operand.kind == "list" else (operand,)
            tests = [self._value_test(field, item) for item in items]
            preds = self._predicates(field, changes=False)
            was = build_was(field, lambda v: any(t(v) for t in tests), preds, data.histories,
                            _CURRENT[field])
            test = negate_if(" not" in op, was)
        test.slow = True  # type: ignore[attr-defined]
        return test

    def _predicates(self, field: str, *, changes: bool) -> Predicates:
        preds = Predicates()
        while self._peek() is not None and self._peek().kind == "word" \
                and self._peek().text.lower() in _PREDICATES:
            word = self._next("").text.lower()
            if word in ("from", "to") and not changes:
                raise JqlError(f"Error in the JQL Query: The predicate '{word.upper()}' is "
                               "only valid with the 'CHANGED' operator.")
            if word == "during":
                self._expect_punct("(")
                low = self._date(self._operand())
                self._expect_punct(",")
                high = self._date(self._operand())
                self._expect_punct(")")
                preds.during = (low, high)
            elif word == "by":
                indices = self._user_indices(self._operand(), field)
                preds.by = lambda author, ids=indices: author in ids
            elif word in ("from", "to"):
                test = self._value_test(field, self._operand())
                setattr(preds, f"change_{word}", test)
            elif word == "on":
                preds.on = day_range(self._date(self._operand()), self.ctx.zone)
            else:
                setattr(preds, word, self._date(self._operand()))
        return preds

    def _date(self, operand: Operand) -> datetime:
        return fields.date_bound(self.ctx, "date", operand, not operand.quoted)

    def _user_indices(self, operand: Operand, field: str) -> set[int]:
        if operand.kind == "function":
            if operand.text.lower() != "currentuser":
                raise err.no_function(operand.text, list(operand.args))
            return {self.ctx.user} if self.ctx.user is not None else set()
        return self.ctx.users.resolve(operand.text, field if field in fields.USER_FIELDS
                                      else "user")

    def _value_test(self, field: str, operand: Operand) -> Callable[[Any], bool]:
        """A test over changelog values ``(id, string)`` for WAS, FROM and TO."""
        if operand.kind == "empty":
            return lambda v: v[0] is None
        if field == "status":
            ids = fields.status_ids(operand.text)
            return lambda v: v[0] in ids
        if field == "resolution":
            low = operand.text.lower()
            if low == "unresolved":
                return lambda v: v[0] is None
            if low not in ("done", "10000"):
                raise err.no_value("resolution", operand.text)
            return lambda v: v[0] == "10000"
        indices = self._user_indices(operand, field)
        names = self.ctx.users.value_names(indices) | {str(i) for i in indices}
        return lambda v: (v[0] or "").lower() in names or (v[1] or "").lower() in names


_CURRENT: dict[str, Callable[[Issue], tuple[str | None, str | None]]] = {
    "status": lambda i: (i.status, STATUS_BY_ID[i.status][1]),
    "resolution": lambda i: ("10000", "Done") if i.resolved is not None else (None, None),
    "assignee": lambda i: (str(i.assignee), None) if i.assignee is not None else (None, None),
    "reporter": lambda i: (str(i.reporter), None) if i.reporter is not None else (None, None),
}
