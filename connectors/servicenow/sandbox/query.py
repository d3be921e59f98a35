"""A parser and evaluator for ServiceNow encoded queries (servicenow-api.md §3).

Grammar: ``group ( "^NQ" group )*``; a group is items joined by ``^`` (AND); an item is a
condition, ``OR``-prefixed conditions (OR with the previous one), or ``ORDERBY``/
``ORDERBYDESC`` a field. ``a^b^ORc`` = a AND (b OR c); ``A^B^NQC^D`` = (A AND B) OR (C AND D).
Field names are case-sensitive and may be dot-walked through references
(``caller_id.email``). A term naming an unknown field or an unknown operator is dropped
silently, like the platform does, unless ``invalid_returns_no_rows`` is set
(``glide.invalid_query.returns_no_rows``). Values may be ``javascript:gs.…()`` scripts
(:mod:`.datefn`); date operators ``ON``/``NOTON`` (``@``-separated bounds) and
``RELATIVEGT|GE|LT|LE`` (``@hour@ago@3``); ``CONTAINS``/``DOES NOT CONTAIN`` are the
GlideRecord spellings of ``LIKE``/``NOT LIKE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from connectors.servicenow.sandbox.datefn import ScriptContext, evaluate, relative_moment

Row = list[str]
Getter = Callable[[Row], str]

_OPERATORS = ("NOT IN", "NOT LIKE", "DOES NOT CONTAIN", "ISNOTEMPTY", "ISEMPTY", "ANYTHING",
              "EMPTYSTRING", "STARTSWITH", "ENDSWITH", "NSAMEAS", "SAMEAS", "BETWEEN",
              "CONTAINS", "LIKE", "NOTON", "ON", "RELATIVEGT", "RELATIVEGE", "RELATIVELT",
              "RELATIVELE", "IN", "!=", ">=", "<=", "=", ">", "<")
_ALIASES = {"CONTAINS": "LIKE", "DOES NOT CONTAIN": "NOT LIKE"}
_RELATIVE = {"RELATIVEGT": ">", "RELATIVEGE": ">=", "RELATIVELT": "<", "RELATIVELE": "<="}
_CONDITION = re.compile(
    r"^([a-z_][a-z0-9_.]*?)(" + "|".join(re.escape(op) for op in _OPERATORS) + r")(.*)$",
    re.DOTALL)
_UNARY = {"ISNOTEMPTY", "ISEMPTY", "ANYTHING", "EMPTYSTRING"}
_NUMERIC = {"integer", "decimal"}


class Resolver:
    """Looks up typed field accessors for a table; implemented by the sandbox data store."""

    def getter(self, table: str, path: str) -> tuple[Getter, str] | None:
        """``(row -> raw value, column type)`` for a (dot-walked) path, or ``None``."""
        raise NotImplementedError


@dataclass
class Query:
    """A compiled encoded query.

    Attributes:
        groups: ``^NQ`` branches; each is a list of OR-clauses; each clause a list of
            predicates of which one must hold.
        order: ``(getter, column type, descending)`` sort keys in order.
        valid: False when a term was invalid and ``invalid_returns_no_rows`` was set.
    """

    groups: list[list[list[Callable[[Row], bool]]]] = field(default_factory=list)
    order: list[tuple[Getter, str, bool]] = field(default_factory=list)
    valid: bool = True

    def matches(self, row: Row) -> bool:
        """Whether ``row`` satisfies the query (no groups = every row)."""
        if not self.valid:
            return False
        if not self.groups:
            return True
        return any(all(any(p(row) for p in clause) for clause in group)
                   for group in self.groups)

    def sort_key(self) -> Callable[[Row], tuple] | None:
        """A key for :func:`sorted` implementing the ORDERBY terms, or ``None``."""
        if not self.order:
            return None
        keys = self.order

        def key(row: Row) -> tuple:
            parts = []
            for getter, kind, descending in keys:
                value = _comparable(getter(row), kind)
                parts.append(_Reversed(value) if descending else value)
            return tuple(parts)
        return key


class _Reversed:
    """Inverts comparisons, so ``ORDERBYDESC`` composes with ascending keys."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return other.value < self.value  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and other.value == self.value


def _comparable(value: str, kind: str) -> tuple:
    """Empty values sort first; numbers numerically, the rest as strings."""
    if value == "":
        return (0, 0, "")
    if kind in _NUMERIC:
        try:
            return (1, Decimal(value), "")
        except InvalidOperation:
            return (1, 0, value)
    return (1, 0, value)


def parse_query(text: str, table: str, resolver: Resolver, *,
                invalid_returns_no_rows: bool = False,
                context: ScriptContext | None = None) -> Query:
    """Compile an encoded query for ``table``.

    Args:
        text: the ``sysparm_query`` value.
        table: the table queried.
        resolver: field lookup, including dot-walking.
        invalid_returns_no_rows: return no rows instead of dropping invalid terms.
        context: clock and user for ``javascript:`` values (without it they are invalid).
    """
    query = Query()
    if not text:
        return query
    for branch in text.split("^NQ"):
        group: list[list[Callable[[Row], bool]]] = []
        for item in branch.split("^"):
            if not item or item == "EQ":
                continue
            if item.startswith("ORDERBYDESC") or item.startswith("ORDERBY"):
                descending = item.startswith("ORDERBYDESC")
                name = item[len("ORDERBYDESC"):] if descending else item[len("ORDERBY"):]
                found = resolver.getter(table, name)
                if found is not None:
                    query.order.append((found[0], found[1], descending))
                continue
            is_or = item.startswith("OR") and group
            predicate = _condition(item[2:] if is_or else item, table, resolver, context)
            if predicate is None:
                if invalid_returns_no_rows:
                    query.valid = False
                continue
            if is_or:
                group[-1].append(predicate)
            else:
                group.append([predicate])
        if group:
            query.groups.append(group)
    return query


def _condition(text: str, table: str, resolver: Resolver,
               context: ScriptContext | None) -> Callable[[Row], bool] | None:
    match = _CONDITION.match(text)
    if match is None:
        return None
    path, op, operand = match.groups()
    op = _ALIASES.get(op, op)
    found = resolver.getter(table, path)
    if found is None:
        return None
    get, kind = found
    if op in _RELATIVE:
        moment = relative_moment(operand, context)
        return None if moment is None else _ordering(get, "datetime", _RELATIVE[op], moment)
    if op in ("ON", "NOTON", "BETWEEN") or operand.startswith("javascript:"):
        parts = operand.split("@") if op in ("ON", "NOTON", "BETWEEN") else [operand]
        if op in ("ON", "NOTON") and len(parts) == 3:
            parts = parts[1:]  # "Today@<start>@<end>": the label is for the UI only
        values = [evaluate(p, context) for p in parts]
        if any(v is None for v in values):
            return None
        operand = "@".join(v for v in values if v is not None)
        if op in ("ON", "NOTON"):
            return _on(get, operand, op == "NOTON")
    if op in _UNARY:
        return {
            "ISEMPTY": lambda row: get(row) == "",
            "ISNOTEMPTY": lambda row: get(row) != "",
            "ANYTHING": lambda row: True,
            "EMPTYSTRING": lambda row: get(row) == "",
        }[op]
    if op in ("SAMEAS", "NSAMEAS"):
        other = resolver.getter(table, operand)
        if other is None:
            return None
        other_get = other[0]
        if op == "SAMEAS":
            return lambda row: get(row) == other_get(row)
        return lambda row: get(row) != other_get(row)
    if op in ("IN", "NOT IN"):
        values = frozenset(operand.split(","))
        if op == "IN":
            return lambda row: get(row) in values
        return lambda row: get(row) not in values
    if op in ("LIKE", "NOT LIKE"):
        needle = operand.lower()
        if op == "LIKE":
            return lambda row: needle in get(row).lower()
        return lambda row: needle not in get(row).lower()
    if op in ("STARTSWITH", "ENDSWITH"):
        # Case-insensitive like LIKE: the instance's database collation ignores case
        # (documented examples match "John" with nameSTARTSWITHjohn).
        prefix = operand.lower()
        if op == "STARTSWITH":
            return lambda row: get(row).lower().startswith(prefix)
        return lambda row: get(row).lower().endswith(prefix)
    if op == "BETWEEN":
        low, _, high = operand.partition("@")
        lo, hi = _comparable(low, kind), _comparable(high, kind)
        return lambda row: get(row) != "" and lo <= _comparable(get(row), kind) <= hi
    if op in ("=", "!="):
        if kind in _NUMERIC and operand != "":
            target = _comparable(operand, kind)
            if op == "=":
                return lambda row: _comparable(get(row), kind) == target
            return lambda row: _comparable(get(row), kind) != target
        if op == "=":
            return _with_lower_bound(lambda row: get(row) == operand, get,
                                     _comparable(operand, kind))
        return lambda row: get(row) != operand
    return _ordering(get, kind, op, operand)


def _on(get: Getter, operand: str, negate: bool) -> Callable[[Row], bool] | None:
    """``ON``: the value lies within ``start@end`` (``NOTON``: outside, empty excluded)."""
    low, sep, high = operand.partition("@")
    if not sep:
        return None

    def predicate(row: Row) -> bool:
        value = get(row)
        return value != "" and (low <= value <= high) != negate
    return predicate


def _with_lower_bound(predicate: Callable[[Row], bool], get: Getter,
                      target: tuple) -> Callable[[Row], bool]:
    """Mark a predicate that no row sorting below ``target`` on ``get`` can satisfy.

    The sandbox's sorted scan (``scan.py``) uses the mark to start at the first row that can
    match instead of filtering the whole table, as an index would.
    """
    predicate.lower_bound = (get, target)  # type: ignore[attr-defined]
    return predicate


def _ordering(get: Getter, kind: str, op: str, operand: str) -> Callable[[Row], bool]:
    """``>``, ``>=``, ``<``, ``<=``: numeric for numbers, else string order (UTC literals)."""
    target = _comparable(operand, kind)
    compare = {
        ">": lambda a: a > target, ">=": lambda a: a >= target,
        "<": lambda a: a < target, "<=": lambda a: a <= target,
    }[op]

    def predicate(row: Row) -> bool:
        value = get(row)
        # Empty values never satisfy a range condition on the platform.
        return value != "" and compare(_comparable(value, kind))
    if op in (">", ">="):
        return _with_lower_bound(predicate, get, target)
    return predicate
