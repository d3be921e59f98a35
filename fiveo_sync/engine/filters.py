"""Record filters of the indicator files: a closed set of operators, no code in YAML.

Every filter names a canonical field (``state``, ``task.priority`` for an SLA's incident)
and compares it with a literal value or with a parameter of §2.9 (``param: bug_types``).
``matches`` takes a regular expression that is checked for catastrophic backtracking shapes
when the file is loaded, and is applied to at most :data:`MATCH_INPUT_LIMIT` characters.
The SQL engine evaluates them (:mod:`fiveo_sync.sqlengine.predicates`).
"""

from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parser
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MATCH_INPUT_LIMIT = 1000
"""Longest text a ``matches`` filter looks at; longer values are cut, never scanned whole."""

MATCH_PATTERN_LIMIT = 200
"""Longest regular expression a ``matches`` filter accepts."""

Scalar = str | int | float | bool | None
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
