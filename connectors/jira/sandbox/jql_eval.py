"""Predicate combinators and sort keys: the search hot path.

Search evaluates every clause on every issue, for every page a client asks for: the
predicates are composed once per query so that evaluation does no per-issue set-up.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from connectors.jira.sandbox.data import Issue


def negate_if(negate: bool, test: Callable[[Issue], bool]) -> Callable[[Issue], bool]:
    """``not test`` when ``negate`` (keeping the ``slow`` mark), else ``test``."""
    return slow_if(lambda i: not test(i), test) if negate else test


def slow_if(wrapper: Callable[[Issue], bool], inner: Any) -> Callable[[Issue], bool]:
    """Mark ``wrapper`` slow when ``inner`` is (history clauses are evaluated last)."""
    if getattr(inner, "slow", False):
        wrapper.slow = True  # type: ignore[attr-defined]
    return wrapper


_COMPARE = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
            "<": operator.lt, "<=": operator.le}


def any_of(parts: list[Callable[[Issue], bool]]) -> Callable[[Issue], bool]:
    """OR of predicates, short-circuiting."""
    def test(issue: Issue) -> bool:
        for part in parts:
            if part(issue):
                return True
        return False
    return test


def all_of(parts: list[Callable[[Issue], bool]]) -> Callable[[Issue], bool]:
    """AND of predicates, short-circuiting."""
    def test(issue: Issue) -> bool:
        for part in parts:
            if not part(issue):
                return False
        return True
    return test


def ordered(get: Callable[[Issue], Any], op: str, bound: Any) -> Callable[[Issue], bool]:
    """``get(issue) <op> bound``; an empty (``None``) value never matches."""
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
