"""Filters (:mod:`fiveo_sync.engine.filters`) as SQL boolean expressions that are never NULL.

The Python engine compares loosely typed values (``_same``: priority ``"1"`` equals ``1``;
``_compare``: numbers when both sides parse as numbers, text otherwise; no order between a
date-time and a literal). The column types of the canonical tables are known when compiling,
so each rule becomes a fixed SQL shape per (column type, literal type); combinations the
engine would answer by comparing ``str()`` of dates, booleans or sets are refused with
:class:`~fiveo_sync.sqlengine.fields.NotCompiled` rather than guessed.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from fiveo_sync.engine.filters import MATCH_INPUT_LIMIT
from fiveo_sync.sqlengine.fields import Bindings, Column, NotCompiled, RecordFields

# Exactly the characters str.strip() removes: is_empty() treats " \t" as empty text.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_NUMERIC = frozenset({"BIGINT", "DOUBLE"})
# RE2 (DuckDB) has no look-around or back-references, and its \d \w \s \b are ASCII-only
# where Python's are Unicode, and Python's $ also matches before a final newline: such
# patterns would not match the same texts.
_RE2_DIFFERS = re.compile(r"\(\?<?[=!]|\\[1-9]|\\[dDwWsSbBZ]|\(\?P=|(?<!\\)\$")
_ORDER = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}

Params = Callable[[str], Any]


def _as_float(value: Any) -> float | None:
    """``float(value)`` as the engine tries it, or None when it raises."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_empty_sql(col: Column, b: Bindings) -> str:
    """``filters.is_empty`` of a column: NULL, blank text, an empty list."""
    if col.type == "VARCHAR":
        return f"({col.sql} IS NULL OR trim({col.sql}, {b.named('ws', WHITESPACE)}) = '')"
    if col.is_list:
        return f"({col.sql} IS NULL OR len({col.sql}) = 0)"
    return f"({col.sql} IS NULL)"


def same_sql(col: Column, wanted: Any, b: Bindings) -> str:
    """``filters._same(field, wanted)`` as SQL (never NULL)."""
    if wanted is None:
        return f"({col.sql} IS NULL)"
    if isinstance(wanted, (list, dict)):
        raise NotCompiled("eq with a list value is not compiled")
    kind = col.type
    if col.is_list or kind == "TIMESTAMPTZ":
        if isinstance(wanted, str):
            raise NotCompiled(f"eq of {kind} with text compares str() of Python values")
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
    """``in``: a member of the field (a set field: any member) equals one of ``wanted``."""
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
    """``gt``/``ge``/``lt``/``le`` by ``filters._compare`` (never NULL)."""
    sign = _ORDER[op]
    if wanted is None or col.type == "TIMESTAMPTZ":
        return "FALSE"  # an empty side, or a date-time against a literal: no order
    if isinstance(wanted, (list, dict)) or col.is_list:
        raise NotCompiled(f"{op} with a list is not compiled")
    number = _as_float(wanted)
    if col.type in _NUMERIC or col.type == "BOOLEAN":
        if number is None:
            raise NotCompiled(f"{op} of a number with text compares str() of Python values")
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
    """``matches``: ``re.search`` over the first characters of a text field."""
    if col.type != "VARCHAR":
        raise NotCompiled(f"matches on a {col.type} column compares str() of Python values")
    if _RE2_DIFFERS.search(pattern):
        raise NotCompiled(f"pattern {pattern!r} uses syntax RE2 reads differently")
    return (f"coalesce(regexp_matches(left({col.sql}, {MATCH_INPUT_LIMIT}), "
            f"{b.bind(pattern)}), FALSE)")


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
