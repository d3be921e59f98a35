"""Indexes over canonical data, built once per computation so nothing scans quadratically.

Records are grouped by scope key (service, project, board) and looked up by id or key;
related-record maps (e.g. incidents by ``caused_by``) are built once per relation spec and
searched over ALL scopes, as causal look-ups must be (§2.4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fiveo_sync.engine.filters import compile_filters, param_refs
from fiveo_sync.engine.measures import RelatedSpec
from fiveo_sync.engine.scope import Scope


class DataIndex:
    """Look-ups over one ``CanonicalData`` for one computation at ``now``."""

    def __init__(self, data: Any, now: datetime) -> None:
        self.data = data
        self.now = now
        # Ages ("now − opened_at") are measured as of the start of the run's hour: a rerun
        # within the hour then computes the same values and writes nothing, while an hourly
        # or daily schedule still sees ages grow.
        self.as_of = now.replace(minute=0, second=0, microsecond=0)
        self.incidents_by_id = {i.id: i for i in data.incidents}
        self.work_items_by_key = {w.key: w for w in data.work_items}
        self._by_service: dict[str, dict[str | None, list[Any]]] = {}
        self._by_group: dict[str | None, list[Any]] = defaultdict(list)
        for incident in data.incidents:
            self._by_group[incident.assignment_group].append(incident)
        for kind, records in (("incident", data.incidents), ("change", data.changes),
                              ("problem", data.problems),
                              ("outage", getattr(data, "outages", ())),
                              ("survey_response", getattr(data, "survey_responses", ()))):
            grouped: dict[str | None, list[Any]] = defaultdict(list)
            for record in records:
                grouped[record.service].append(record)
            self._by_service[kind] = grouped
        self._slas_by_service: dict[str | None, list[Any]] = defaultdict(list)
        for sla in data.slas:
            task = self.incidents_by_id.get(sla.task) if sla.task else None
            self._slas_by_service[task.service if task else None].append(sla)
        self._items_by_project: dict[str, list[Any]] = defaultdict(list)
        for item in data.work_items:
            self._items_by_project[item.project].append(item)
        self._improvements: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for improvement in getattr(data, "improvements", ()):
            self._improvements[(improvement.scope_type, improvement.scope)].append(improvement)
        self._sprints_by_board: dict[int | None, list[Any]] = defaultdict(list)
        for sprint in data.sprints:
            self._sprints_by_board[sprint.board].append(sprint)
        self.scopes_by_sprint: dict[int, list[Any]] = defaultdict(list)
        for scope in data.sprint_scopes:
            self.scopes_by_sprint[scope.sprint].append(scope)
        self.sprints_by_id = {s.id: s for s in data.sprints}
        self._related: dict[str, dict[Any, list[Any]]] = {}
        self.cache: dict[Any, Any] = {}

    # -- fields -------------------------------------------------------------------------

    def get(self, record: Any, field: str) -> Any:
        """A canonical field of a record; ``task.<field>`` reads an SLA's incident."""
        if field == "now":
            return self.as_of
        if "." in field:
            head, rest = field.split(".", 1)
            if head == "task":
                target = self.incidents_by_id.get(getattr(record, "task", None))
                return None if target is None else self.get(target, rest)
            return None
        return getattr(record, field, None)

    # -- records of a scope -----------------------------------------------------------------

    def records(self, kind: str, scope: Scope, by_support_groups: bool = False) -> list[Any]:
        """Records of one kind belonging to a scope (§2.3).

        ServiceNow kinds use the scope's service (``by_support_groups``: the incidents of
        its support groups, when it has any); Jira kinds use its projects and boards;
        improvement items their service or product (a combined scope: the service's and
        those of its products).
        """
        if kind in ("incident", "change", "problem", "outage", "survey_response"):
            if scope.service is None:
                return []
            if kind == "incident" and by_support_groups and scope.support_groups:
                return [r for g in sorted(scope.support_groups) for r in self._by_group[g]]
            return list(self._by_service[kind].get(scope.service, ()))
        if kind == "sla":
            return list(self._slas_by_service.get(scope.service, ())) if scope.service else []
        if kind == "work_item":
            return [w for p in sorted(scope.projects) for w in self._items_by_project[p]]
        if kind == "sprint":
            return self.sprints_of(scope.boards)
        if kind == "improvement":
            owners = [("service", scope.service)] if scope.service else []
            owners += [("product", p) for p in sorted(scope.products)]
            return [i for owner in owners for i in self._improvements.get(owner, ())]
        raise ValueError(f"unknown record kind {kind!r}")

    def all_records(self, kind: str) -> Iterable[Any]:
        """Every stored record of a kind, whatever its scope."""
        return {
            "incident": self.data.incidents, "change": self.data.changes,
            "problem": self.data.problems, "sla": self.data.slas,
            "work_item": self.data.work_items, "sprint": self.data.sprints,
            "outage": self.data.outages, "survey_response": self.data.survey_responses,
            "improvement": self.data.improvements,
        }[kind]

    def sprints_of(self, boards: Iterable[int]) -> list[Any]:
        """Sprints of some boards."""
        return [s for b in sorted(boards) for s in self._sprints_by_board.get(b, ())]

    def closed_sprints(self, boards: Iterable[int]) -> list[Any]:
        """Closed sprints of some boards with start and complete, ordered by complete."""
        found = [s for s in self.sprints_of(boards)
                 if s.state == "closed" and s.start is not None and s.complete is not None
                 and s.complete <= self.now]
        return sorted(found, key=lambda s: (s.complete, s.id))

    # -- relations ------------------------------------------------------------------------------

    def related_map(self, spec: RelatedSpec, params: dict[str, Any]) -> dict[Any, list[Any]]:
        """``value of related.field → related records`` over all scopes, built once."""
        cache_key = spec.model_dump_json() + repr(sorted(
            (k, repr(params.get(k))) for k in param_refs(spec.filters)))
        cached = self._related.get(cache_key)
        if cached is not None:
            return cached
        mapping: dict[Any, list[Any]] = defaultdict(list)

        def param(name: str) -> Any:
            return params.get(name)

        keep = compile_filters(spec.filters, self.get, param, plain_attributes=True)
        for record in self.all_records(spec.source):
            if not keep(record):
                continue
            value = self.get(record, spec.field)
            members = value if isinstance(value, (set, frozenset, tuple, list)) else (value,)
            for member in members:
                if member is not None and member != "":
                    mapping[member].append(record)
        self._related[cache_key] = dict(mapping)
        return self._related[cache_key]
