"""Canonical records: what the engine computes indicators from.

These are the records of ``indicators.md`` §2.1, built from raw platform payloads by
:mod:`fiveo_sync.engine.normalise` following ``mappings/sources.yaml``. After
normalisation no vendor name (``sys_id``, ``customfield_10016``) appears: fields carry the
canonical names and canonical values.

Conventions shared by every record:

- date-times are aware and in UTC; ``None`` means empty (a record with its placing
  timestamp empty is in no period);
- codes are the canonical words of §2.1 (``state="in_progress"``), never instance codes;
- ``None`` is never 0: an unestimated work item has ``story_points=None``;
- ServiceNow ids are the ``sys_id`` of the record; references to other records
  (``caused_by``, ``rfc``, ``problem``, ``task``) hold the referenced ``sys_id``;
- ``service`` is the portfolio service id (``"payments"``) when the record's business
  service is in the portfolio, the raw business-service reference (a ``sys_id`` or name)
  when it is not, and ``None`` when the record names no business service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fiveo_sync.records_evidence import Group, Improvement, Outage, Supplier, SurveyResponse

# Canonical vocabularies (indicators.md §2.1); the normaliser maps instance codes onto them.
INCIDENT_STATES = ("new", "in_progress", "on_hold", "resolved", "closed", "canceled")
CHANGE_TYPES = ("normal", "standard", "emergency")
CHANGE_STATES = (
    "new", "assess", "authorize", "scheduled", "implement", "review", "closed", "canceled",
)
CLOSE_CODES = ("successful", "successful_issues", "unsuccessful")
PROBLEM_STATES = (
    "new", "assess", "root_cause_analysis", "fix_in_progress", "resolved", "closed",
    "canceled",
)
SLA_KINDS = ("response", "resolution")
SLA_STAGES = ("in_progress", "paused", "completed", "canceled")
STATUS_CATEGORIES = ("new", "indeterminate", "done")
SPRINT_STATES = ("future", "active", "closed")
SCOPE_MOMENTS = ("start", "close")
SCOPE_SOURCES = ("snapshot", "sprint_report", "changelog")
OUTAGE_TYPES = ("outage", "degradation", "planned")
SURVEY_STATES = ("ready", "in_progress", "complete", "canceled")


@dataclass(frozen=True, slots=True)
class Incident:
    """A ServiceNow incident (``incident`` table)."""

    id: str
    number: str
    state: str
    priority: int | None
    opened_at: datetime | None
    resolved_at: datetime | None
    service: str | None
    assignment_group: str | None
    caused_by: str | None
    rfc: str | None
    problem: str | None
    reopen_count: int
    ci: str | None
    category: str | None
    major: bool
    jira_keys: frozenset[str] = frozenset()
    # parameters.security_rule.incident; the vendor staffing the assignment group.
    security: bool = False
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A ServiceNow change request (``change_request`` table)."""

    id: str
    number: str
    type: str | None
    state: str
    close_code: str | None
    closed_at: datetime | None
    work_end: datetime | None
    service: str | None
    jira_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Problem:
    """A ServiceNow problem (``problem`` table)."""

    id: str
    state: str
    priority: int | None
    known_error: bool
    opened_at: datetime | None
    closed_at: datetime | None
    service: str | None
    jira_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Sla:
    """A task SLA (``task_sla``) attached to an incident."""

    id: str
    task: str | None
    definition: str | None
    kind: str
    stage: str
    has_breached: bool
    start_time: datetime | None
    end_time: datetime | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One ``status`` item of a Jira changelog, categories by key (never localised names)."""

    at: datetime
    from_category: str | None
    to_category: str | None
    to_status_name: str | None


@dataclass(frozen=True, slots=True)
class SprintChange:
    """One ``Sprint`` item of a Jira changelog: the sprint ids before and after."""

    at: datetime
    from_sprints: tuple[int, ...]
    to_sprints: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PointsChange:
    """One change of the story points field (``None`` = unestimated)."""

    at: datetime
    from_points: float | None
    to_points: float | None


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A Jira issue with the derived fields of §2.1.

    ``status_history`` is sorted by (history ``created``, history ``id``). ``done_at``,
    ``started_at`` and ``epic_key`` are computed by the normaliser; ``status`` is the
    current status name (needed with ``wait_statuses``); ``sprint_history`` and
    ``points_history`` (sorted like ``status_history``) serve the changelog
    reconstruction of sprint commitment (§4, source 3). ``security`` follows
    ``parameters.security_rule.work_item``; ``satisfaction`` is the 1–5 customer rating
    (Jira Service Management "Satisfaction" field), ``None`` when unrated.
    """

    key: str
    project: str
    type: str | None
    is_subtask: bool
    status_category: str
    resolution: str | None
    created: datetime | None
    labels: frozenset[str]
    epic_key: str | None
    story_points: float | None
    sprints: tuple[int, ...]
    status_history: tuple[StatusChange, ...]
    done_at: datetime | None
    started_at: datetime | None
    status: str | None = None
    sprint_history: tuple[SprintChange, ...] = ()
    points_history: tuple[PointsChange, ...] = ()
    security: bool = False
    satisfaction: float | None = None

    def status_category_at(self, when: datetime) -> str:
        """The status category at ``when`` (§2.1).

        The category set by the last status change at or before ``when``; before the first
        change, that change's ``from`` category; with no changes, the current category.
        """
        if not self.status_history:
            return self.status_category
        current: str | None = self.status_history[0].from_category
        for change in self.status_history:
            if change.at > when:
                break
            current = change.to_category
        return current or self.status_category


@dataclass(frozen=True, slots=True)
class Sprint:
    """A Jira Agile sprint."""

    id: int
    board: int | None
    state: str
    start: datetime | None
    complete: datetime | None
    goal: str | None


@dataclass(frozen=True, slots=True)
class SprintScopeItem:
    """One item of a sprint scope: key, points then (``None`` = unestimated), category then."""

    key: str
    story_points: float | None
    status_category: str | None


@dataclass(frozen=True, slots=True)
class SprintScope:
    """What a sprint held at its start or close, and where that knowledge came from (§4)."""

    sprint: int
    moment: str
    taken_at: datetime
    source: str
    items: tuple[SprintScopeItem, ...]


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """A portfolio service resolved against ``cmdb_ci_service``.

    ``id`` is the portfolio id, ``sys_id`` and ``name`` come from the CMDB record when one
    was found (else from the portfolio), ``owner`` is the portfolio owner or the user name
    of the CMDB record's ``owned_by``.
    """

    id: str
    sys_id: str | None
    name: str | None
    owner: str | None


@dataclass(frozen=True, slots=True)
class CanonicalData:
    """Everything the engine needs, plus what the normaliser had to skip.

    ``skipped`` counts records dropped per canonical kind and reason, e.g.
    ``{"incident": {"missing number": 2}, "work_item": {"unparsable created": 1}}``.
    """

    incidents: tuple[Incident, ...] = ()
    changes: tuple[Change, ...] = ()
    problems: tuple[Problem, ...] = ()
    slas: tuple[Sla, ...] = ()
    work_items: tuple[WorkItem, ...] = ()
    sprints: tuple[Sprint, ...] = ()
    sprint_scopes: tuple[SprintScope, ...] = ()
    services: tuple[ServiceRecord, ...] = ()
    outages: tuple[Outage, ...] = ()
    survey_responses: tuple[SurveyResponse, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    groups: tuple[Group, ...] = ()
    improvements: tuple[Improvement, ...] = ()
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
