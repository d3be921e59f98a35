"""Record filters of the indicator files: a closed set of operators, no code in YAML.

Every filter names a canonical field (``state``, ``task.priority`` for an SLA's incident)
and compares it with a literal value or with a parameter of §2.9 (``param: bug_types``).
``matches`` takes a regular expression that is checked for catastrophic backtracking shapes
when the file is loaded, and is applied to at most :data:`MATCH_INPUT_LIMIT` characters.
"""

from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parser
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MATCH_INPUT_LIMIT = 1000
"""Longest text a ``matches`` filter looks at; longer values are cut, never scanned whole."""

MATCH_PATTERN_LIMIT = 200
"""Longest regular expression a ``matches`` filter accepts."""

Scalar = str | int | float | bool | None
FieldGetter = Callable[[Any, str], Any]
ParamGetter = Callable[[str], Any]

# A group that is itself quantified and contains a quantifier, e.g. (a+)+ or (\w*)*: the
# classic shapes whose backtracking is exponential. Rejected rather than timed out.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_QUANTIFIED_BACKREF = re.compile(r"\\[1-9][+*{]")
_BACKTRACKING_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)


class _FilterBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _FieldFilter(_FilterBase):
    field: str = Field(min_length=1, description="canonical field, e.g. state or task.priority")

    def field_refs(self) -> set[str]:
        """Canonical fields this filter reads."""
        return {self.field}


class _ValueFilter(_FieldFilter):
    value: Scalar = None
    param: str | None = Field(None, description="take the value from a parameter of §2.9")

    def resolve(self, params: ParamGetter) -> Any:
        """The value to compare with: the parameter's when ``param`` is set."""
        return params(self.param) if self.param else self.value


class _ListFilter(_FieldFilter):
    values: list[Scalar] = Field(default_factory=list)
    param: str | None = Field(None, description="take the list from a parameter of §2.9")

    def resolve(self, params: ParamGetter) -> list[Any]:
        """The list to compare with: the parameter's when ``param`` is set."""
        return list(params(self.param) or []) if self.param else list(self.values)


class EqFilter(_ValueFilter):
    """Field equals the value."""

    op: Literal["eq"]


class NeFilter(_ValueFilter):
    """Field differs from the value (an empty field differs from any non-empty value)."""

    op: Literal["ne"]


class InFilter(_ListFilter):
    """Field is one of the values; for set fields (labels), shares at least one value."""

    op: Literal["in"]


class NotInFilter(_ListFilter):
    """Negation of ``in``."""

    op: Literal["not_in"]


class GtFilter(_ValueFilter):
    """Field is greater than the value (empty fields never compare)."""

    op: Literal["gt"]


class GeFilter(_ValueFilter):
    """Field is greater than or equal to the value."""

    op: Literal["ge"]


class LtFilter(_ValueFilter):
    """Field is less than the value."""

    op: Literal["lt"]


class LeFilter(_ValueFilter):
    """Field is less than or equal to the value."""

    op: Literal["le"]


class ExistsFilter(_FieldFilter):
    """Field is not empty (not None, not blank text, not an empty set)."""

    op: Literal["exists"]


class MissingFilter(_FieldFilter):
    """Field is empty (None, blank text or an empty set)."""

    op: Literal["missing"]


class MatchesFilter(_FieldFilter):
    """Field text matches a bounded regular expression (``re.search``)."""

    op: Literal["matches"]
    pattern: str = Field(min_length=1, max_length=MATCH_PATTERN_LIMIT)

    @field_validator("pattern")
    @classmethod
    def _bounded(cls, pattern: str) -> str:
        if _NESTED_QUANTIFIER.search(pattern) or _QUANTIFIED_BACKREF.search(pattern):
            raise ValueError("nested quantifiers can backtrack catastrophically; simplify it")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        # The textual checks above miss shapes such as ((a+))+ or (a|aa)*c, which hang on
        # a few dozen characters even within MATCH_INPUT_LIMIT: check the parsed pattern.
        if _repeats_ambiguous_group(_sre_parser.parse(pattern).data):
            raise ValueError("a repeated group holding alternatives or quantifiers can "
                             "backtrack catastrophically; simplify it (e.g. a character class)")
        return pattern


def _sre_children(op: Any, av: Any) -> list[Any]:
    """Sub-patterns of one parsed regex node (possessive and atomic parts never backtrack)."""
    if op in _BACKTRACKING_REPEATS:
        return [av[2]]
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.GROUPREF_EXISTS:
        return [sub for sub in av[1:] if sub is not None]
    return []


def _is_ambiguous(items: Any) -> bool:
    """Whether a sub-pattern can match one text in several ways (repeat, branch, backref)."""
    for op, av in items:
        if op is _sre.BRANCH or op is _sre.GROUPREF:
            return True
        if op in _BACKTRACKING_REPEATS and av[1] > 1:
            return True
        if any(_is_ambiguous(sub) for sub in _sre_children(op, av)):
            return True
    return False


def _repeats_ambiguous_group(items: Any) -> bool:
    """Whether a repeat (more than once) wraps an ambiguous sub-pattern anywhere."""
    for op, av in items:
        if op in _BACKTRACKING_REPEATS and av[1] > 1 and _is_ambiguous(av[2]):
            return True
        if any(_repeats_ambiguous_group(sub) for sub in _sre_children(op, av)):
            return True
    return False


class AllFilter(_FilterBase):
    """Every sub-filter holds."""

    op: Literal["all"]
    filters: list[Filter]

    def field_refs(self) -> set[str]:
        """Canonical fields the sub-filters read."""
        return set().union(*(f.field_refs() for f in self.filters))


class AnyFilter(_FilterBase):
    """At least one sub-filter holds."""

    op: Literal["any"]
    filters: list[Filter]

    def field_refs(self) -> set[str]:
        """Canonical fields the sub-filters read."""
        return set().union(*(f.field_refs() for f in self.filters))


class NotFilter(_FilterBase):
    """The sub-filter does not hold."""

    op: Literal["not"]
    filter: Filter

    def field_refs(self) -> set[str]:
        """Canonical fields the sub-filter reads."""
        return self.filter.field_refs()


Filter = Annotated[
    EqFilter | NeFilter | InFilter | NotInFilter | GtFilter | GeFilter | LtFilter | LeFilter
    | ExistsFilter | MissingFilter | MatchesFilter | AllFilter | AnyFilter | NotFilter,
    Field(discriminator="op"),
]
for _model in (AllFilter, AnyFilter, NotFilter):
    _model.model_rebuild()


def param_refs(filters: Iterable[Any]) -> set[str]:
    """Names of the parameters a list of filters reads (for cache keys and cross-checks)."""
    names: set[str] = set()
    for spec in filters:
        if getattr(spec, "param", None):
            names.add(spec.param)
        if spec.op in ("all", "any"):
            names |= param_refs(spec.filters)
        elif spec.op == "not":
            names |= param_refs([spec.filter])
    return names


def is_empty(value: Any) -> bool:
    """True for None, blank text and empty collections (``0`` and ``False`` are values)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (set, frozenset, tuple, list)):
        return not value
    return False


def _as_members(value: Any) -> Iterable[Any]:
    if isinstance(value, (set, frozenset, tuple, list)):
        return value
    return (value,)


def _same(left: Any, right: Any) -> bool:
    # YAML admins write priority: "1" or 1 alike; compare numbers with numbers, text with text.
    if left == right:
        return True
    if left is None or right is None or type(left) is type(right):
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if not (isinstance(left, str) or isinstance(right, str)):
        return False
    try:
        return float(left) == float(right)
    except (TypeError, ValueError):
        return str(left) == str(right)


def _compare(left: Any, right: Any) -> int | None:
    if left is None or right is None:
        return None
    if isinstance(left, datetime) or isinstance(right, datetime):
        if not (isinstance(left, datetime) and isinstance(right, datetime)):
            return None
        return (left > right) - (left < right)
    try:
        a, b = float(left), float(right)
    except (TypeError, ValueError):
        a, b = str(left), str(right)
    return (a > b) - (a < b)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches(spec: Filter, record: Any, get: FieldGetter, params: ParamGetter) -> bool:
    """Whether ``record`` passes one filter.

    Args:
        spec: the filter.
        record: a canonical record.
        get: reads a (possibly dotted) canonical field from a record.
        params: reads a parameter of §2.9 by name.

    Returns:
        True when the record passes.
    """
    op = spec.op
    if op == "all":
        return all(matches(sub, record, get, params) for sub in spec.filters)
    if op == "any":
        return any(matches(sub, record, get, params) for sub in spec.filters)
    if op == "not":
        return not matches(spec.filter, record, get, params)
    value = get(record, spec.field)
    if op == "exists":
        return not is_empty(value)
    if op == "missing":
        return is_empty(value)
    if op == "matches":
        if value is None:
            return False
        return _compiled(spec.pattern).search(str(value)[:MATCH_INPUT_LIMIT]) is not None
    if op in ("in", "not_in"):
        wanted = spec.resolve(params)
        hit = any(_same(member, w) for member in _as_members(value) for w in wanted)
        return hit if op == "in" else not hit
    wanted = spec.resolve(params)
    if op == "eq":
        return _same(value, wanted)
    if op == "ne":
        return not _same(value, wanted)
    order = _compare(value, wanted)
    if order is None:
        return False
    return {"gt": order > 0, "ge": order >= 0, "lt": order < 0, "le": order <= 0}[op]


def matches_all(filters: Iterable[Filter], record: Any, get: FieldGetter,
                params: ParamGetter) -> bool:
    """Whether ``record`` passes every filter of a list (an empty list passes)."""
    return all(matches(spec, record, get, params) for spec in filters)


Predicate = Callable[[Any], bool]


def compile_filters(filters: Iterable[Filter], get: FieldGetter, params: ParamGetter,
                    plain_attributes: bool = False) -> Predicate:
    """``matches_all`` for many records: operators, values and parameters resolved once.

    Args:
        filters: the filters (all must hold).
        get: reads a (possibly dotted) canonical field from a record.
        params: reads a parameter of §2.9 by name.
        plain_attributes: ``get`` reads an undotted field other than ``now`` as the record's
            attribute (``DataIndex.get`` does), so such fields are read directly.

    Returns:
        A predicate equal to ``lambda r: matches_all(filters, r, get, params)``.
    """
    compiled = [_compile(spec, get, params, plain_attributes) for spec in filters]
    if not compiled:
        return lambda record: True
    if len(compiled) == 1:
        return compiled[0]

    def every(record: Any) -> bool:
        for predicate in compiled:
            if not predicate(record):
                return False
        return True

    return every


def _compile(spec: Filter, get: FieldGetter, params: ParamGetter,
             plain: bool) -> Predicate:
    op = spec.op
    if op in ("all", "any"):
        subs = [_compile(sub, get, params, plain) for sub in spec.filters]
        if op == "all":
            return lambda r: all(f(r) for f in subs)
        return lambda r: any(f(r) for f in subs)
    if op == "not":
        inner = _compile(spec.filter, get, params, plain)
        return lambda r: not inner(r)
    field = spec.field
    if plain and "." not in field and field != "now":
        def read(record: Any) -> Any:
            return getattr(record, field, None)
    else:
        def read(record: Any) -> Any:
            return get(record, field)
    if op == "exists":
        return lambda r: not is_empty(read(r))
    if op == "missing":
        return lambda r: is_empty(read(r))
    if op == "matches":
        pattern = _compiled(spec.pattern)

        def found(record: Any) -> bool:
            value = read(record)
            return value is not None and \
                pattern.search(str(value)[:MATCH_INPUT_LIMIT]) is not None
        return found
    wanted = spec.resolve(params)
    if op in ("in", "not_in"):
        wanted = list(wanted or ())
        texts = frozenset(w for w in wanted if type(w) is str)
        only_text = len(texts) == len(wanted)

        def hit(record: Any) -> bool:
            value = read(record)
            if only_text and (value is None or type(value) is str):
                # _same(text or None, text) is plain equality: a set look-up.
                return value in texts
            return any(_same(member, w) for member in _as_members(value) for w in wanted)
        return hit if op == "in" else (lambda r: not hit(r))
    if op == "eq":
        return lambda r: _same(read(r), wanted)
    if op == "ne":
        return lambda r: not _same(read(r), wanted)
    test = {"gt": lambda o: o > 0, "ge": lambda o: o >= 0, "lt": lambda o: o < 0,
            "le": lambda o: o <= 0}[op]

    def ordered(record: Any) -> bool:
        order = _compare(read(record), wanted)
        return order is not None and test(order)
    return ordered
