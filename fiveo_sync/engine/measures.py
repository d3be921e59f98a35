"""Measure and target models of the indicator files (the ``kind:`` discriminated unions).

A measure says how the records of one scope and period become one number; a target says
what number is good. Both are plain data validated by pydantic: no formulas in YAML.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fiveo_sync.engine.filters import Filter
from fiveo_sync.engine.status import Bounds

RecordKind = Literal["incident", "change", "problem", "sla", "work_item", "sprint", "outage",
                     "survey_response", "improvement"]
DurationUnit = Literal["s", "min", "h", "d"]
SprintSet = Literal["C", "E", "D", "A"]

UNIT_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- values ------------------------------------------------------------------------------

class FieldValue(_Node):
    """A numeric canonical field, e.g. ``story_points``."""

    kind: Literal["field"]
    field: str


class DurationValue(_Node):
    """``end − start`` of two timestamps in a unit; ``end: now`` is the run's clock."""

    kind: Literal["duration"]
    start: str
    end: str
    unit: DurationUnit = "h"


Value = Annotated[FieldValue | DurationValue, Field(discriminator="kind")]


class RelatedSpec(_Node):
    """Records of another source that point at this one, searched over ALL scopes.

    A record ``r`` is related when some record ``x`` of ``source`` passing ``filters`` has
    ``r.<key>`` equal to (or, for set fields such as ``jira_keys``, contained in)
    ``x.<field>``. Example: a change is related to incidents with ``field: caused_by``.
    """

    source: RecordKind
    field: str
    key: str = "id"
    filters: list[Filter] = Field(default_factory=list)


# -- measures over records -----------------------------------------------------------------

class CountMeasure(_Node):
    """Number of records (no minimum sample)."""

    kind: Literal["count"]


class RatioMeasure(_Node):
    """Share of the records that also pass ``numerator``, in %; ``n`` = denominator."""

    kind: Literal["ratio"]
    numerator: list[Filter]


class RelatedShareMeasure(_Node):
    """Share of the records related to another source (any of ``related``), in %."""

    kind: Literal["related_share"]
    related: list[RelatedSpec] = Field(min_length=1)
    numerator: list[Filter] = Field(default_factory=list)


class SumMeasure(_Node):
    """Sum of a numeric field; empty values count as 0 (no minimum sample)."""

    kind: Literal["sum"]
    field: str


class MeanMeasure(_Node):
    """Arithmetic mean of a value; missing or negative durations are excluded."""

    kind: Literal["mean"]
    of: Value


class MedianMeasure(_Node):
    """Median (type-7 50th percentile) of a value."""

    kind: Literal["median"]
    of: Value


class PercentileMeasure(_Node):
    """Type-7 percentile ``q`` of a value."""

    kind: Literal["percentile"]
    q: float = Field(ge=0, le=100)
    of: Value


class DistinctCountMeasure(_Node):
    """Number of distinct values of a field; ``as_date`` counts local calendar dates."""

    kind: Literal["distinct_count"]
    field: str
    as_date: bool = False


class LinkedDurationMeasure(_Node):
    """Statistic of ``related.end − record.start`` over (record, related) pairs.

    The pair is placed in a period by the related record's ``period.timestamp``.
    """

    kind: Literal["linked_duration"]
    related: RelatedSpec
    start: str
    end: str
    unit: DurationUnit = "h"
    stat: Literal["median", "mean"] = "median"


class RepeatShareMeasure(_Node):
    """Share of incidents repeating an earlier one within ``repeat_window_days`` (§3.5 ¹)."""

    kind: Literal["repeat_share"]


class FlowEfficiencyMeasure(_Node):
    """Active time over elapsed time of completed items, in % (§3.5 ²)."""

    kind: Literal["flow_efficiency"]


class RepeatCountMeasure(_Node):
    """Records preceded within ``repeat_window_days`` by another with the same ``same``.

    The earlier record may lie in any period and must pass the indicator's filters; it
    must be strictly earlier (by the period timestamp). Count semantics: no minimum sample.
    """

    kind: Literal["repeat_count"]
    same: str = Field(min_length=1, description="the field whose value must repeat")


# -- interval measures (placement: overlap) ---------------------------------------------------

class AvailabilityMeasure(_Node):
    """``100 × (1 − union of the intervals ÷ elapsed time of the period)``, in %."""

    kind: Literal["availability"]


class DowntimeMeasure(_Node):
    """Length of the union of the intervals in the period, in ``unit``."""

    kind: Literal["downtime"]
    unit: DurationUnit = "min"


class MtbfMeasure(_Node):
    """Mean time between failures: uptime ÷ intervals beginning in the period, in ``unit``."""

    kind: Literal["mtbf"]
    unit: DurationUnit = "h"


INTERVAL_KINDS = frozenset({"availability", "downtime", "mtbf"})
"""Measures over ``[timestamp, until)`` intervals: they need ``placement: overlap``."""


# -- sprint measures (§4) -----------------------------------------------------------------------

class SprintAggregate(_Node):
    """An aggregate over the intersection of sprint sets C/E/D/A."""

    sets: list[SprintSet] = Field(min_length=1)
    value: Literal["sp_start", "sp_end", "items", "estimated_start"]


class SprintSumMeasure(_Node):
    """Sum over sprint sets, e.g. velocity = sp_end over D (empty estimates as 0)."""

    kind: Literal["sprint_sum"]
    of: SprintAggregate


class SprintRatioMeasure(_Node):
    """Ratio of two sprint aggregates in %, with ``n`` = size of ``n_set``."""

    kind: Literal["sprint_ratio"]
    numerator: SprintAggregate
    denominator: SprintAggregate
    n_set: SprintSet = "C"


class SprintGoalShareMeasure(_Node):
    """Share of the last ``last`` closed sprints ending before the period end with a goal."""

    kind: Literal["sprint_goal_share"]
    last: int = Field(6, ge=1)


# -- derived indicators ---------------------------------------------------------------------

class OnTargetShareMeasure(_Node):
    """Share of other indicators' results (same scope and period) whose status is ``met``.

    Counted over results with status met, at_risk or missed; ``indicators`` lists ids, or
    ``o`` takes every indicator of one O.
    """

    kind: Literal["on_target_share"]
    indicators: list[str] = Field(default_factory=list)
    o: str | None = None


class PeriodChangeMeasure(_Node):
    """Change of another indicator against its previous period (absolute or in %)."""

    kind: Literal["period_change"]
    indicator: str
    percent: bool = False


Measure = Annotated[
    CountMeasure | RatioMeasure | RelatedShareMeasure | SumMeasure | MeanMeasure
    | MedianMeasure | PercentileMeasure | DistinctCountMeasure | LinkedDurationMeasure
    | RepeatShareMeasure | FlowEfficiencyMeasure | RepeatCountMeasure | AvailabilityMeasure
    | DowntimeMeasure | MtbfMeasure | SprintSumMeasure | SprintRatioMeasure
    | SprintGoalShareMeasure | OnTargetShareMeasure | PeriodChangeMeasure,
    Field(discriminator="kind"),
]

DERIVED_KINDS = frozenset({"on_target_share", "period_change"})
NO_MINIMUM_KINDS = frozenset({"count", "sum", "distinct_count", "sprint_sum", "repeat_count",
                              *INTERVAL_KINDS})
"""Counts, sums and interval measures have no minimum sample (§2.6; a month without an
outage is 100 % available, not insufficient data)."""


# -- targets ------------------------------------------------------------------------------------

def _num(x: float) -> str:
    return f"{x:g}"


class _TargetBase(_Node):
    relative: bool = Field(False, description="bounds are factors of the baseline B (×B)")
    tolerance_pct: float = Field(10.0, ge=0)
    tolerance: float | None = Field(None, ge=0, description="absolute tolerance")

    def _bound(self, x: float | None, baseline: float | None) -> float | None:
        if x is None or not self.relative:
            return x
        return None if baseline is None else x * baseline

    def _text(self, x: float) -> str:
        return f"{x:.1f}×B" if self.relative else _num(x)


class MinTarget(_TargetBase):
    """Good when the value is at least ``value`` (direction up)."""

    kind: Literal["min"]
    value: float

    def text(self) -> str:
        """Human text, e.g. ``≥ 95``."""
        return f"≥ {self._text(self.value)}"

    def bounds(self, baseline: float | None) -> Bounds | None:
        """Resolved bounds (None when relative and there is no baseline)."""
        low = self._bound(self.value, baseline)
        return None if low is None else Bounds(low, None, self.tolerance_pct, self.tolerance)


class MaxTarget(_TargetBase):
    """Good when the value is at most ``value`` (direction down)."""

    kind: Literal["max"]
    value: float

    def text(self) -> str:
        """Human text, e.g. ``≤ 24``."""
        return f"≤ {self._text(self.value)}"

    def bounds(self, baseline: float | None) -> Bounds | None:
        """Resolved bounds (None when relative and there is no baseline)."""
        high = self._bound(self.value, baseline)
        return None if high is None else Bounds(None, high, self.tolerance_pct, self.tolerance)


class BandTarget(_TargetBase):
    """Good when the value is within ``low``–``high`` (direction band)."""

    kind: Literal["band"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> BandTarget:
        if self.low > self.high:
            raise ValueError("band low must not exceed high")
        return self

    def text(self) -> str:
        """Human text, e.g. ``80–100`` or ``0.8×B – 1.2×B``."""
        if self.relative:
            return f"{self._text(self.low)} – {self._text(self.high)}"
        return f"{_num(self.low)}–{_num(self.high)}"

    def bounds(self, baseline: float | None) -> Bounds | None:
        """Resolved bounds (None when relative and there is no baseline)."""
        low, high = self._bound(self.low, baseline), self._bound(self.high, baseline)
        if low is None or high is None:
            return None
        return Bounds(low, high, self.tolerance_pct, self.tolerance)


Target = Annotated[MinTarget | MaxTarget | BandTarget, Field(discriminator="kind")]
TARGET_FOR_DIRECTION = {"up": "min", "down": "max", "band": "band"}
