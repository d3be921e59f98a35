"""Indicator spec models: what ``mappings/indicators/<o>.yaml`` files contain.

An indicator names its canonical source, the filters that select its records, the
timestamp that places a record in a period, a measure, a unit, the good direction and a
target. Everything is typed and closed (``extra="forbid"``); polymorphic nodes carry ``op:``
(filters) or ``kind:`` (measures, targets, values). The loader uses :meth:`field_refs` and
:meth:`indicator_refs` for cross-checks against the source maps and the other indicators.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fiveo_sync.engine.filters import Filter, Scalar
from fiveo_sync.engine.measures import (
    DERIVED_KINDS,
    INTERVAL_KINDS,
    TARGET_FOR_DIRECTION,
    DurationValue,
    FieldValue,
    Measure,
    RecordKind,
    RelatedSpec,
    Target,
)

O_NAMES = ("organise", "orient", "operate", "observe", "optimise")
# What the 5 O approach asks owners to set targets for, and the four ITIL 4 dimensions.
CHARACTERISTICS = ("quality", "availability", "performance", "resilience", "security",
                   "velocity", "satisfaction")
DIMENSIONS = ("organisations_and_people", "information_and_technology",
              "partners_and_suppliers", "value_streams_and_processes")
Characteristic = Literal["quality", "availability", "performance", "resilience", "security",
                         "velocity", "satisfaction"]
Dimension = Literal["organisations_and_people", "information_and_technology",
                    "partners_and_suppliers", "value_streams_and_processes"]
OName = Literal["organise", "orient", "operate", "observe", "optimise"]
ID_PATTERN = r"^(organise|orient|operate|observe|optimise)\.[a-z][a-z0-9_]*$"


class ParametersSpec(BaseModel):
    """Parameters of indicators.md §2.9; unset ones inherit (file, then defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reporting_timezone: str | None = None
    restatement_days: int | None = Field(None, ge=0)
    bug_types: list[str] | None = None
    debt_labels: list[str] | None = None
    cir_labels: list[str] | None = None
    cir_issue_types: list[str] | None = None
    discarded_resolutions: list[str] | None = None
    wait_statuses: list[str] | None = None
    repeat_window_days: int | None = Field(None, ge=1)
    snapshot_max_delay_h: float | None = Field(None, ge=0)


DEFAULT_PARAMETERS: dict[str, Any] = {
    "reporting_timezone": "UTC",
    "restatement_days": 35,
    "bug_types": ["Bug"],
    "debt_labels": ["tech-debt"],
    "cir_labels": ["cir"],
    "cir_issue_types": [],
    "discarded_resolutions": [],
    "wait_statuses": [],
    "repeat_window_days": 90,
    "snapshot_max_delay_h": 24.0,
}


def merge_parameters(*layers: ParametersSpec | None) -> dict[str, Any]:
    """Defaults overlaid with each layer's set values, later layers winning."""
    merged = dict(DEFAULT_PARAMETERS)
    for layer in layers:
        if layer is not None:
            merged.update(layer.model_dump(exclude_none=True))
    return merged


class PeriodSpec(BaseModel):
    """Which periods an indicator has and which timestamp places a record in one.

    ``timestamp`` is empty for snapshot indicators and sprint measures. ``placement:
    completed_sprints`` places a change in the sprints that completed its linked work items
    (``sprints(c)`` of §2.4).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["month", "week", "quarter", "sprint"] = "month"
    timestamp: str | None = None
    placement: Literal["timestamp", "completed_sprints", "overlap"] = "timestamp"
    until: str | None = Field(None, description="overlap: the field where a record's "
                              "interval ends (empty: still open, up to now)")

    @model_validator(mode="after")
    def _overlap_needs_interval(self) -> PeriodSpec:
        if self.placement == "overlap":
            if not self.timestamp or not self.until:
                raise ValueError("placement overlap needs timestamp (where an interval "
                                 "begins) and until (where it ends)")
            if self.kind == "sprint":
                raise ValueError("placement overlap needs calendar periods, not sprints")
        elif self.until is not None:
            raise ValueError("until only applies to placement overlap")
        return self


class BreakdownSpec(BaseModel):
    """Extra results per value of a field, with optional per-value targets.

    Without ``values`` a result is computed for each value seen in the scope and period.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    values: list[Scalar] | None = None
    targets: dict[str, Target] = Field(default_factory=dict)


class IndicatorSpec(BaseModel):
    """One indicator of the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    view: Literal["service", "product", "combined"]
    source: RecordKind
    filters: list[Filter] = Field(default_factory=list)
    period: PeriodSpec = Field(default_factory=PeriodSpec)
    measure: Measure
    unit: Literal["%", "h", "min", "d", "count", "SP", "items", "days"]
    direction: Literal["up", "down", "band"]
    target: Target
    breakdown: BreakdownSpec | None = None
    snapshot: bool = False
    scope_by: Literal["service", "support_groups"] = Field(
        "service", description="support_groups: incidents of the service's support groups")
    parameters: ParametersSpec | None = None
    characteristic: Characteristic | None = None
    dimension: Dimension | None = None

    @model_validator(mode="after")
    def _consistent(self) -> IndicatorSpec:
        expected = TARGET_FOR_DIRECTION[self.direction]
        targets = [self.target, *(self.breakdown.targets.values() if self.breakdown else ())]
        for target in targets:
            if target.kind != expected:
                raise ValueError(f"direction {self.direction} needs a target of kind "
                                 f"{expected}, got {target.kind}")
        if self.snapshot and self.period.kind == "sprint":
            raise ValueError("snapshot indicators have month or week periods, not sprints")
        sprintish = self.measure.kind.startswith("sprint_") and self.measure.kind != \
            "sprint_goal_share"
        if sprintish and self.period.kind != "sprint":
            raise ValueError(f"measure {self.measure.kind} needs period kind sprint")
        needs_timestamp = not (self.snapshot or sprintish or self.is_derived
                               or self.measure.kind == "sprint_goal_share"
                               or self.period.placement == "completed_sprints")
        if self.measure.kind in INTERVAL_KINDS and self.period.placement != "overlap":
            raise ValueError(f"measure {self.measure.kind} needs period placement overlap "
                             "(timestamp and until)")
        if needs_timestamp and not self.period.timestamp:
            raise ValueError("period.timestamp is required: name the field that places a "
                             "record in a period")
        return self

    @property
    def o(self) -> str:
        """The O of this indicator (the id's prefix)."""
        return self.id.split(".", 1)[0]

    @property
    def is_derived(self) -> bool:
        """True for indicators computed from other indicators' results."""
        return self.measure.kind in DERIVED_KINDS

    def indicator_refs(self) -> set[str]:
        """Ids of other indicators this one is built from (derived indicators)."""
        measure = self.measure
        if measure.kind == "on_target_share":
            return set(measure.indicators)
        if measure.kind == "period_change":
            return {measure.indicator}
        return set()

    def field_refs(self) -> set[tuple[str, str]]:
        """Canonical fields referenced, as ``(record kind, field)`` pairs.

        A dotted ``task.<field>`` on an SLA is the field of the SLA's incident; ``now`` is
        the run clock, not a field.
        """
        refs: set[tuple[str, str]] = set()

        def add(kind: str, name: str | None) -> None:
            if not name or name == "now":
                return
            if kind == "sla" and name.startswith("task."):
                refs.add(("incident", name.split(".", 1)[1]))
            else:
                refs.add((kind, name))

        for spec in self.filters:
            for name in spec.field_refs():
                add(self.source, name)
        placed_by = self.source
        measure = self.measure
        for value in (getattr(measure, "of", None),):
            if isinstance(value, FieldValue):
                add(self.source, value.field)
            elif isinstance(value, DurationValue):
                add(self.source, value.start)
                add(self.source, value.end)
        for name in ("field",):
            if isinstance(getattr(measure, name, None), str):
                add(self.source, getattr(measure, name))
        for spec in getattr(measure, "numerator", None) or []:
            if hasattr(spec, "field_refs"):
                for name in spec.field_refs():
                    add(self.source, name)
        related = getattr(measure, "related", None)
        for rel in related if isinstance(related, list) else [related] if related else []:
            assert isinstance(rel, RelatedSpec)
            add(rel.source, rel.field)
            add(self.source, rel.key)
            for spec in rel.filters:
                for name in spec.field_refs():
                    add(rel.source, name)
        if measure.kind == "linked_duration":
            add(self.source, measure.start)
            add(measure.related.source, measure.end)
            placed_by = measure.related.source
        if self.breakdown:
            add(self.source, self.breakdown.field)
        if measure.kind == "repeat_count":
            add(self.source, measure.same)
        add(placed_by, self.period.timestamp)
        add(placed_by, self.period.until)
        return refs


class IndicatorFileSpec(BaseModel):
    """One ``mappings/indicators/<o>.yaml`` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    kind: Literal["indicators"]
    o: OName
    parameters: ParametersSpec | None = None
    indicators: list[IndicatorSpec]

    @model_validator(mode="after")
    def _ids_belong(self) -> IndicatorFileSpec:
        seen: set[str] = set()
        for spec in self.indicators:
            if spec.o != self.o:
                raise ValueError(f"indicator {spec.id} is not in O {self.o}")
            if spec.id in seen:
                raise ValueError(f"duplicate indicator id {spec.id}")
            seen.add(spec.id)
        return self


class BoundIndicator(BaseModel):
    """An indicator with its effective parameters (file-level merged over defaults)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: IndicatorSpec
    params: dict[str, Any]


def bind_indicators(files: list[IndicatorFileSpec]) -> list[BoundIndicator]:
    """Flatten indicator files into indicators with merged parameters."""
    return [BoundIndicator(spec=spec, params=merge_parameters(f.parameters, spec.parameters))
            for f in files for spec in f.indicators]
