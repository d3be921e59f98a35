"""The improvement file (``mappings/improvement.yaml``): when a missed target becomes work.

Optimise, the fifth O: a target missed in ``open_when.missed`` of the last
``open_when.of_last`` complete periods opens an improvement item; the item is resolved
once the target is met in ``resolve_when.met`` consecutive complete periods. Services'
items go to a ServiceNow table (Continual Improvement Management ``sn_cim_register`` by
default), products' items to an issue in the product's Jira project (``docs/improvement.md``).
The file is optional: without it no improvement items are planned.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fiveo_sync.engine.portfolio_spec import ProjectKey, StrictSpec

O_NAMES = ("organise", "orient", "operate", "observe", "optimise")


class OpenWhenSpec(StrictSpec):
    """How many missed complete periods, of how many recent ones, open an item."""

    missed: int = Field(default=2, ge=1, description="missed complete periods needed")
    of_last: int = Field(default=3, ge=1, description="within this many latest complete periods")

    @model_validator(mode="after")
    def _fits(self) -> OpenWhenSpec:
        if self.missed > self.of_last:
            raise ValueError(f"missed ({self.missed}) cannot exceed of_last ({self.of_last})")
        return self


class ResolveWhenSpec(StrictSpec):
    """How many consecutive met complete periods resolve an item."""

    met: int = Field(default=2, ge=1, description="consecutive met complete periods")


class IndicatorsSpec(StrictSpec):
    """Which indicators' misses become items (default: all of them)."""

    include: tuple[str, ...] | Literal["all"] = Field(
        default="all", description="'all' or a list of indicator ids")
    os: tuple[Literal[O_NAMES], ...] = Field(  # type: ignore[valid-type]
        default=(), description="only indicators of these O's (empty: every O)")
    exclude: tuple[str, ...] = Field(default=(), description="indicator ids never itemised")
    breakdowns: bool = Field(
        default=False, description="also itemise breakdown series (e.g. priority=1); "
                                   "default: only the 'all' series")


class ServiceNowTargetSpec(StrictSpec):
    """Where services' items go."""

    table: str = Field(default="sn_cim_register", pattern=r"^[a-z][a-z0-9_]*$",
                       description="the improvement table")
    key_field: str = Field(default="correlation_id", pattern=r"^[a-z][a-z0-9_]*$",
                           description="the column holding fiveo-sync's item key")
    open_states: tuple[str, ...] = Field(
        default=("new", "accepted", "assess", "approved", "implement", "on_hold", "review"),
        min_length=1, description="state values of an item still being worked on")
    new_state: str = Field(default="new", description="state of a created item")
    resolved_state: str = Field(default="closed", description="state fiveo-sync resolves to")


class JiraTargetSpec(StrictSpec):
    """Where products' items go: an issue in the product's (first) Jira project."""

    issue_type: str = Field(default="Task", min_length=1, description="issue type name")
    label: str = Field(default="fiveo-improvement", pattern=r"^[^\s]+$",
                       description="label every item carries (no spaces)")
    project: ProjectKey | None = Field(
        default=None, description="one project for every product (default: the product's)")


class ImprovementSpec(StrictSpec):
    """The whole ``kind: improvement`` file."""

    version: Literal[1]
    kind: Literal["improvement"]
    enabled: bool = Field(default=True, description="plan improvement items at all")
    open_when: OpenWhenSpec = Field(default_factory=OpenWhenSpec)
    resolve_when: ResolveWhenSpec = Field(default_factory=ResolveWhenSpec)
    indicators: IndicatorsSpec = Field(default_factory=IndicatorsSpec)
    servicenow: ServiceNowTargetSpec = Field(default_factory=ServiceNowTargetSpec)
    jira: JiraTargetSpec = Field(default_factory=JiraTargetSpec)

    def covers(self, indicator: str, o: str, breakdown: str) -> bool:
        """Whether a series of ``indicator`` (of O ``o``) may become an item."""
        chosen = self.indicators
        if breakdown not in ("", "all") and not chosen.breakdowns:
            return False
        if indicator in chosen.exclude or (chosen.os and o not in chosen.os):
            return False
        return chosen.include == "all" or indicator in chosen.include
