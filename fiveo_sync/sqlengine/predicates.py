"""Filters (:mod:`fiveo_sync.engine.filters`) as SQL boolean expressions that are never NULL.

Filter literals come from YAML, where admins write ``priority: "1"`` or ``1`` alike, so
values compare loosely: text equals a number when it parses as that number (``"1"`` equals
``1``), and order is by number when both sides parse as numbers, by text otherwise; a
date-time has no order against a literal. The column types of the canonical tables are
known when compiling, so each rule becomes a fixed SQL shape per (column type, literal
type); the combinations that could only be answered by comparing the text form of a
date-time, a boolean or a list with a literal are refused with
:class:`~fiveo_sync.sqlengine.fields.NotCompiled` rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from fiveo_sync.engine.filters import MATCH_INPUT_LIMIT
from fiveo_sync.sqlengine.fields import Bindings, Column, NotCompiled, RecordFields
from fiveo_sync.sqlengine.regex import WHITESPACE, re2_pattern

_NUMERIC = frozenset({"BIGINT", "DOUBLE"})
_ORDER = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}

Params = Callable[[str], Any]


def _as_float(value: Any) -> float | None:
    """A literal as a number (``"1.5"`` → 1.5, ``True`` → 1.0), or None when it is none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_empty_sql(col: Column, b: Bindings) -> str:
    """Whether a field is empty: NULL, blank text (whitespace only), an empty list.

    ``0`` and ``False`` are values, not empty.
    """
    if col.type == "VARCHAR":
        return f"({col.sql} IS NULL OR trim({col.sql}, {b.named('ws', WHITESPACE)}) = '')"
    if col.is_list:
        return f"({col.sql} IS NULL OR len({col.sql}) = 0)"
    return f"({col.sql} IS NULL)"


def same_sql(col: Column, wanted: Any, b: Bindings) -> str:
    """``eq``: whether the field equals ``wanted`` (never NULL).

    Numbers equal by value (``1`` equals ``1.0``; booleans count as 0 and 1 against
    numbers); text equals text exactly; text equals a number when it parses as that number
    (``"1"`` and ``" 1.0"`` equal ``1``); a boolean never equals text; a list or a
    date-time never equals a number or a boolean; a NaN number equals nothing. ``wanted``
    None (an unset parameter) matches a NULL field only; a NULL field equals nothing else.
    Refused: text against a date-time or list column (it would compare their text form)
    and list values.
    """
    if wanted is None:
        return f"({col.sql} IS NULL)"
    if isinstance(wanted, (list, dict)):
        raise NotCompiled("eq with a list value is not compiled")
    kind = col.type
    if col.is_list or kind == "TIMESTAMPTZ":
        if isinstance(wanted, str):
            raise NotCompiled(f"eq of a {kind} field with a text value has no meaning: "
                              "compare it with a value of its type")
        return "FALSE"  # a set or a date-time never equals a number or a boolean
    if kind == "VARCHAR":
        if isinstance(wanted, bool):
            return "FALSE"
        if isinstance(wanted, str):
            return f"coalesce({col.sql} = {b.bind(wanted)}, FALSE)"
        if math.isnan(wanted):
            return "FALSE"
        return f"coalesce(TRY_CAST({col.sql} AS DOUBLE) = {b.bind(float(wanted))}, FALSE)"
    if kind == "BOOLEAN":
        if isinstance(wanted, str):
            return "FALSE"
        if isinstance(wanted, bool):
            return f"coalesce({col.sql} = {b.bind(wanted)}, FALSE)"
        return f"coalesce(CAST({col.sql} AS DOUBLE) = {b.bind(float(wanted))}, FALSE)"
    if kind in _NUMERIC:
        number = _as_float(wanted)
        if number is None or math.isnan(number):
            return "FALSE"  # str() of a number never equals text that is not a number
        return f"coalesce(CAST({col.sql} AS DOUBLE) = {b.bind(number)}, FALSE)"
    raise NotCompiled(f"eq on a {kind} column is not compiled")


def in_sql(col: Column, wanted: list[Any], b: Bindings) -> str:
    """``in``: the field (a list field: any member) equals one of ``wanted`` as for ``eq``.

    An empty ``wanted`` holds for no record. A list field is compiled for text members
    against text values and integer members against integers only.
    """
    if not wanted:
        return "FALSE"
    if col.is_list:
        element = col.type[:-2]
        if element == "VARCHAR" and all(isinstance(w, str) for w in wanted):
            return f"coalesce(list_has_any({col.sql}, {b.bind(wanted, 'VARCHAR[]')}), FALSE)"
        if element == "BIGINT" and all(type(w) is int for w in wanted):
            return f"coalesce(list_has_any({col.sql}, {b.bind(wanted, 'BIGINT[]')}), FALSE)"
        raise NotCompiled(f"in on a {col.type} column with these values is not compiled")
    if col.type == "VARCHAR" and all(isinstance(w, str) for w in wanted):
        return f"coalesce({col.sql} IN ({', '.join(b.bind(w) for w in wanted)}), FALSE)"
    return "(" + " OR ".join(same_sql(col, w, b) for w in wanted) + ")"


def order_sql(col: Column, op: str, wanted: Any, b: Bindings) -> str:
    """``gt``/``ge``/``lt``/``le``: the field against ``wanted`` (never NULL).

    By number when both sides are numbers (booleans are 0 and 1; text that parses as a
    number is that number; NaN sorts above every number, as DuckDB orders it), else by
    text: the field against ``str(wanted)``, in code-point order. A NULL field or an unset
    ``wanted`` has no order (FALSE), nor has a date-time against a literal. Refused: a
    number or boolean column against text that is no number, and lists.
    """
    sign = _ORDER[op]
    if wanted is None or col.type == "TIMESTAMPTZ":
        return "FALSE"  # an empty side, or a date-time against a literal: no order
    if isinstance(wanted, (list, dict)) or col.is_list:
        raise NotCompiled(f"{op} with a list is not compiled")
    number = _as_float(wanted)
    if col.type in _NUMERIC or col.type == "BOOLEAN":
        if number is None:
            raise NotCompiled(f"{op} of a number field with a text value that is no number "
                              "has no order")
        return f"coalesce(CAST({col.sql} AS DOUBLE) {sign} {b.bind(number)}, FALSE)"
    if col.type != "VARCHAR":
        raise NotCompiled(f"{op} on a {col.type} column is not compiled")
    text = b.bind(str(wanted))
    if number is None:
        return f"coalesce({col.sql} {sign} {text}, FALSE)"
    # Both sides numbers → numeric order; the field not a number → both compared as text.
    parsed = f"TRY_CAST({col.sql} AS DOUBLE)"
    return (f"coalesce(CASE WHEN {parsed} IS NOT NULL THEN {parsed} {sign} {b.bind(number)} "
            f"ELSE {col.sql} {sign} {text} END, FALSE)")


def matches_sql(col: Column, pattern: str, b: Bindings) -> str:
    """``matches``: the pattern found anywhere in the first characters of a text field.

    Only the first :data:`~fiveo_sync.engine.filters.MATCH_INPUT_LIMIT` characters are
    searched; NULL never matches. The pattern is Python ``re`` syntax (what the files are
    validated with), rewritten for RE2 (:func:`~fiveo_sync.sqlengine.regex.re2_pattern`).
    """
    if col.type != "VARCHAR":
        raise NotCompiled(f"matches reads text fields, not a {col.type} field")
    try:
        rewritten = re2_pattern(pattern)
    except NotCompiled as exc:
        raise NotCompiled(f"pattern {pattern!r}: {exc.reason}") from None
    return (f"coalesce(regexp_matches(left({col.sql}, {MATCH_INPUT_LIMIT}), "
            f"{b.bind(rewritten)}), FALSE)")


def filter_sql(spec: Any, fields: RecordFields, params: Params, b: Bindings) -> str:
    """One filter as a never-NULL SQL boolean over ``fields``' table alias."""
    op = spec.op
    if op in ("all", "any"):
        parts = [filter_sql(sub, fields, params, b) for sub in spec.filters]
        if not parts:
            return "TRUE" if op == "all" else "FALSE"
        return "(" + (" AND " if op == "all" else " OR ").join(parts) + ")"
    if op == "not":
        return f"(NOT {filter_sql(spec.filter, fields, params, b)})"
    col = fields.column(spec.field)
    if op == "exists":
        return f"(NOT {is_empty_sql(col, b)})"
    if op == "missing":
        return is_empty_sql(col, b)
    if op == "matches":
        return matches_sql(col, spec.pattern, b)
    wanted = spec.resolve(params)
    if op in ("in", "not_in"):
        hit = in_sql(col, list(wanted or ()), b)
        return hit if op == "in" else f"(NOT {hit})"
    if op == "eq":
        return same_sql(col, wanted, b)
    if op == "ne":
        return f"(NOT {same_sql(col, wanted, b)})"
    return order_sql(col, op, wanted, b)


def filters_sql(filters: Iterable[Any], fields: RecordFields, params: Params,
                b: Bindings) -> str:
    """Every filter of a list must hold (an empty list: ``TRUE``)."""
    parts = [filter_sql(spec, fields, params, b) for spec in filters]
    return " AND ".join(parts) if parts else "TRUE"
