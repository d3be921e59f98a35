"""Canonical records of the evidence beyond tickets: outages, surveys, suppliers.

Kept beside :mod:`fiveo_sync.records` (which holds them in ``CanonicalData``) and under its
conventions: aware UTC date-times, canonical codes, ``None`` for empty, ``service`` the
portfolio service id when known. Their vocabularies (``OUTAGE_TYPES``, ``SURVEY_STATES``)
are in :mod:`fiveo_sync.records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage, degradation or planned outage of a service (``cmdb_ci_outage``).

    ``type`` is one of :data:`OUTAGE_TYPES` (only ``outage`` is unplanned unavailability);
    ``end`` is ``None`` while the outage lasts; ``task`` is the linked incident or change.
    """

    id: str
    number: str | None
    type: str
    service: str | None
    begin: datetime | None
    end: datetime | None
    duration_s: float | None
    task: str | None


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    """One sent survey (``asmt_assessment_instance``), answered or not.

    ``score`` is the mean of the answers to the score metrics (``parameters.
    survey_score_metrics``, every numeric answer when empty), ``None`` when unanswered;
    ``service`` is the service of the incident (``task``) the survey was sent for.
    """

    id: str
    number: str | None
    survey: str | None
    state: str
    answered: bool
    score: float | None
    answers: int
    task: str | None
    service: str | None
    user: str | None
    sent_at: datetime | None
    taken_on: datetime | None


@dataclass(frozen=True, slots=True)
class Supplier:
    """A company (``core_company``); ``vendor`` marks suppliers."""

    id: str
    name: str
    vendor: bool


@dataclass(frozen=True, slots=True)
class Group:
    """An assignment group (``sys_user_group``) and the vendor staffing it, if any.

    ``supplier`` is the name of the first of the group's companies marked ``vendor``.
    """

    id: str
    name: str
    companies: tuple[str, ...]
    supplier: str | None


@dataclass(frozen=True, slots=True)
class Improvement:
    """One improvement item of the loop (one episode of a missed target), from the store.

    ``scope_type``/``scope`` name the service or product the item belongs to; ``opened_at``
    is when fiveo-sync created the item, ``resolved_at`` when the target was met again (or
    the owner closed or rejected it: ``state`` then says which), ``None`` while open.
    """

    id: str
    indicator: str
    scope_type: str
    scope: str
    breakdown: str
    state: str
    opened_at: datetime | None
    resolved_at: datetime | None
