"""The result of computing one indicator for one scope, breakdown and period.

``IndicatorResult`` is the shared contract between the engine (which produces it), the
state store (which keeps ``to_dict()`` payloads), the views and report, and the writers
(which push it to ServiceNow and Jira). Its ``key`` is the idempotency key writers use.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

_ISO = "%Y-%m-%dT%H:%M:%SZ"
_DATETIME_FIELDS = ("period_start", "period_end")
# Beyond this many records of one kind a result keeps no ids (the store holds every result).
EVIDENCE_CAP = 2000


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a ``Z`` suffix, to the second.

    Args:
        moment: an aware datetime (naive datetimes are taken as UTC).

    Returns:
        A string like ``2025-03-01T00:00:00Z``.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_ISO)


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or offset) into an aware UTC datetime.

    Args:
        text: the timestamp text.

    Returns:
        The aware UTC datetime.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class IndicatorResult:
    """One computed indicator value with its target, status and trend.

    Attributes:
        indicator: indicator id, e.g. ``operate.mttr``.
        name: human name of the indicator.
        o: the O it belongs to (organise|orient|operate|observe|optimise).
        view: service|product|combined.
        scope_type: service|product (combined results are stored under the service).
        scope: portfolio id, e.g. ``payments`` or ``payments-web``.
        breakdown: ``all`` or e.g. ``priority=1``.
        period: ``2025-03`` | ``2025-W11`` | ``sprint-42``.
        period_kind: month|week|sprint.
        period_start: aware UTC start (inclusive).
        period_end: aware UTC end (exclusive).
        value: the value, or None when there is no (usable) data.
        unit: ``%``, ``h``, ``min``, ``d``, ``count``, ``SP``, ``items``, ``days``.
        n: sample size.
        excluded: records in scope and period left out (e.g. missing timestamps).
        target: human text of the target, e.g. ``≥ 95``.
        target_low: resolved lower bound used for status (None = open side).
        target_high: resolved upper bound used for status (None = open side).
        direction: up|down|band.
        status: met|at_risk|missed|no_data|insufficient_data.
        baseline: baseline used for trend (and relative targets), or None.
        trend: improving|stable|worsening|none.
        delta: value minus baseline, or None.
        sources: the systems the value came from.
        flags: extra facts, e.g. ``{"approximate": True}``.
        snapshot: True for indicators that describe the state at ``now``.
        evidence: the canonical ids of the records the value was computed over, per record
            kind (``incident``, ``change``, ``problem``, ``sla``: ``sys_id``; ``work_item``:
            issue key), sorted; views and writers turn them into links to the platform.
            A kind with more than ``EVIDENCE_CAP`` records is left out and counted in
            ``flags["evidence_omitted"]`` instead.
        characteristic: what the indicator tells about the service or product (quality,
            availability, performance, resilience, security, velocity, satisfaction).
        dimension: its ITIL 4 dimension (organisations_and_people,
            information_and_technology, partners_and_suppliers, value_streams_and_processes).
    """

    indicator: str
    name: str
    o: str
    view: str
    scope_type: str
    scope: str
    breakdown: str
    period: str
    period_kind: str
    period_start: datetime
    period_end: datetime
    value: float | None
    unit: str
    n: int
    excluded: int
    target: str
    target_low: float | None
    target_high: float | None
    direction: str
    status: str
    baseline: float | None
    trend: str
    delta: float | None
    sources: tuple[str, ...]
    flags: dict[str, Any] = field(default_factory=dict)
    snapshot: bool = False
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    characteristic: str | None = None
    dimension: str | None = None

    @property
    def key(self) -> str:
        """Stable idempotency key of this result (same scope/breakdown/period = same key)."""
        return (
            f"fiveo:{self.indicator}:{self.scope_type}:{self.scope}:"
            f"{self.breakdown}:{self.period}"
        )

    @property
    def series_key(self) -> str:
        """Key of the time series this result belongs to (the key without the period)."""
        return f"fiveo:{self.indicator}:{self.scope_type}:{self.scope}:{self.breakdown}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict: datetimes as ISO ``...Z`` text, tuples as lists."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name in _DATETIME_FIELDS:
                value = format_utc(value)
            elif spec.name == "sources":
                value = list(value)
            elif spec.name == "flags":
                value = dict(value)
            elif spec.name == "evidence":
                value = {kind: list(ids) for kind, ids in sorted(value.items())}
            out[spec.name] = value
        out["key"] = self.key
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndicatorResult:
        """Rebuild a result from ``to_dict()`` output (extra keys such as ``key`` are ignored).

        Args:
            d: the dict, e.g. read back from the state store.

        Returns:
            The result.
        """
        known = {spec.name for spec in fields(cls)}
        kwargs = {name: value for name, value in d.items() if name in known}
        for name in _DATETIME_FIELDS:
            value = kwargs.get(name)
            if isinstance(value, str):
                kwargs[name] = parse_utc(value)
        kwargs["sources"] = tuple(kwargs.get("sources") or ())
        kwargs["flags"] = dict(kwargs.get("flags") or {})
        kwargs["evidence"] = {kind: tuple(ids)
                              for kind, ids in (kwargs.get("evidence") or {}).items()}
        for name in ("value", "target_low", "target_high", "baseline", "delta"):
            if kwargs.get(name) is not None:
                kwargs[name] = float(kwargs[name])
        return cls(**kwargs)
