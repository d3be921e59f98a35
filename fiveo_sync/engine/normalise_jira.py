"""Jira records → canonical work items, sprints and sprint scopes.

Platform facts relied on (``jira-api.md`` §3, §5.2, §5.3, §5.6): status categories are
keyed by ``statusCategory.key`` (names are localised); changelog ``status`` items carry
status ids, resolved to categories through the ``status`` stream; ``Sprint`` items are
comma-separated sprint ids; histories are sorted by (``created``, ``id``) here; the story
points field differs per site and board.

Derived fields (``indicators.md`` §2.1): ``done_at``, ``started_at``, ``epic_key``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from fiveo_sync.engine.normalise_fields import (
    LookupIndex,
    Payload,
    SkipCounter,
    SkipRecord,
    map_fields,
)
from fiveo_sync.engine.normalise_values import (
    UnreadableValue,
    is_empty,
    read_id_list,
    read_int,
    read_jira_datetime,
    read_jira_key,
    read_jira_rating,
    read_number,
    read_text,
)
from fiveo_sync.engine.sources_spec import SourcesSpec
from fiveo_sync.records import (
    PointsChange,
    Sprint,
    SprintChange,
    SprintScope,
    SprintScopeItem,
    StatusChange,
    WorkItem,
)


class StoryPointsFields:
    """Which field holds story points, per project (``jira-api.md`` §5.3).

    An explicit field id wins; with ``auto``, the estimation field of a board of the
    project (``board`` stream records with ``configuration.estimation.field.fieldId``), else
    the first ``field`` stream entry named as in ``story_points.names``.
    """

    def __init__(self, spec: SourcesSpec, boards: Iterable[Payload],
                 fields: Iterable[Payload]) -> None:
        self.explicit = None if spec.story_points.field == "auto" else spec.story_points.field
        self.by_project: dict[str, str] = {}
        for board in boards:
            config = board.get("configuration") or board
            estimation = (config.get("estimation") or {}) if isinstance(config, dict) else {}
            field_id = (estimation.get("field") or {}).get("fieldId")
            project = (board.get("location") or {}).get("projectKey")
            if field_id and project and estimation.get("type", "field") == "field":
                self.by_project.setdefault(project, field_id)
        self.fallback: str | None = None
        self.names: dict[str, str] = {}
        field_list = [f for f in fields if isinstance(f, Mapping)]
        for wanted in spec.story_points.names:
            match = next((f for f in field_list if f.get("name") == wanted), None)
            if match and self.fallback is None:
                self.fallback = match.get("id")
        for entry in field_list:
            if entry.get("id") and entry.get("name"):
                self.names[entry["id"]] = entry["name"]

    def field_for(self, project: str | None) -> str | None:
        """The story points field id for ``project``, if known."""
        if self.explicit:
            return self.explicit
        return self.by_project.get(project or "") or self.fallback


# The plugin key of Jira Service Management's "Satisfaction" field (schema type sd-feedback).
_FEEDBACK_PLUGIN = "com.atlassian.servicedesk:sd-request-feedback"


def satisfaction_field(spec: SourcesSpec, fields: Iterable[Payload]) -> str | None:
    """The satisfaction field id: explicit, else the feedback field, else one named so."""
    if spec.satisfaction.field != "auto":
        return spec.satisfaction.field
    field_list = [f for f in fields if isinstance(f, Mapping) and f.get("id")]
    for entry in field_list:
        if (entry.get("schema") or {}).get("custom") == _FEEDBACK_PLUGIN:
            return str(entry["id"])
    for wanted in spec.satisfaction.names:
        match = next((f for f in field_list if f.get("name") == wanted), None)
        if match:
            return str(match["id"])
    return None


def status_categories(statuses: Iterable[Payload]) -> dict[str, str]:
    """Status id → category key, from the ``status`` stream (``/rest/api/2/status``)."""
    out: dict[str, str] = {}
    for status in statuses:
        category = (status.get("statusCategory") or {}).get("key")
        if status.get("id") is not None and category:
            out[str(status["id"])] = category
    return out


class JiraNormaliser:
    """Builds the Jira canonical records of one normalisation."""

    def __init__(self, spec: SourcesSpec, lookups: LookupIndex, points: StoryPointsFields,
                 categories: dict[str, str], skipped: SkipCounter,
                 satisfaction: str | None = None) -> None:
        self.spec = spec
        self.satisfaction = satisfaction
        rule = spec.parameters.security_rule.work_item
        self._security_labels = frozenset(rule.labels)
        self._security_types = frozenset(rule.issue_types)
        self.lookups = lookups
        self.points = points
        self.skipped = skipped
        # Few distinct label sets: one frozenset object per set, shared by the items.
        self._labels: dict[frozenset[str], frozenset[str]] = {}
        category_map = spec.value_maps.get("status_category", {})
        self.categories = {k: category_map.get(v, v) for k, v in categories.items()}

    def work_items(self, payloads: Iterable[Payload]) -> list[WorkItem]:
        """Canonical work items; unreadable issues are skipped and counted."""
        record_map = self.spec.record_map("work_item")
        if record_map is None:
            return []
        out = []
        for payload in payloads:
            try:
                values = map_fields("work_item", record_map, payload, self.spec, self.lookups)
                out.append(self._work_item(payload, values))
            except SkipRecord as skip:
                self.skipped.add("work_item", skip.reason)
        return out

    def _work_item(self, payload: Payload, v: dict[str, Any]) -> WorkItem:
        fields = payload.get("fields") or {}
        if not v.get("project"):
            v["project"] = v["key"].rsplit("-", 1)[0]  # trimmed payloads: the key's prefix
        if v.get("status_id") is not None:
            self.categories.setdefault(str(v["status_id"]), v["status_category"])
        points_field = self.points.field_for(v["project"])
        try:
            points = read_number(fields.get(points_field)) if points_field else None
        except UnreadableValue:
            raise SkipRecord("unparsable story_points") from None
        try:
            rating = read_jira_rating(fields.get(self.satisfaction)) if self.satisfaction \
                else None
        except UnreadableValue:
            raise SkipRecord("unparsable satisfaction") from None
        statuses, sprint_moves, point_moves = self._histories(payload, points_field)
        labels = v.get("labels") or frozenset()
        security = bool(labels & self._security_labels) or \
            v.get("type") in self._security_types or \
            (self.spec.parameters.security_rule.work_item.security_level
             and not is_empty(fields.get("security")))
        return WorkItem(
            key=v["key"], project=v["project"], type=v.get("type"),
            is_subtask=bool(v.get("is_subtask")), status_category=v["status_category"],
            resolution=v.get("resolution"), created=v.get("created"),
            labels=self._labels.setdefault(v.get("labels") or frozenset(),
                                           v.get("labels") or frozenset()),
            epic_key=_epic_key(fields, v),
            story_points=points, sprints=v.get("sprints") or (),
            status_history=statuses, done_at=_done_at(v, statuses),
            started_at=next((c.at for c in statuses if c.to_category == "indeterminate"),
                            None),
            status=v.get("status"), sprint_history=sprint_moves, points_history=point_moves,
            security=security, satisfaction=rating)

    def _histories(self, payload: Payload, points_field: str | None) -> tuple[
            tuple[StatusChange, ...], tuple[SprintChange, ...], tuple[PointsChange, ...]]:
        histories = (payload.get("changelog") or {}).get("histories") or []
        dated: list[tuple[datetime, int, Payload]] = []
        for history in histories:
            try:
                at = read_jira_datetime(history.get("created"))
                order = read_int(history.get("id")) or 0
            except UnreadableValue:
                raise SkipRecord("unparsable changelog") from None
            if at is None:
                raise SkipRecord("unparsable changelog")
            dated.append((at, order, history))
        dated.sort(key=lambda entry: (entry[0], entry[1]))
        points_name = self.points.names.get(points_field or "")
        statuses: list[StatusChange] = []
        sprints: list[SprintChange] = []
        points: list[PointsChange] = []
        for at, _order, history in dated:
            for item in history.get("items") or []:
                name = item.get("field")
                field_id = item.get("fieldId")
                try:
                    if name == "status" or field_id == "status":
                        statuses.append(StatusChange(
                            at=at, from_category=self.categories.get(str(item.get("from"))),
                            to_category=self.categories.get(str(item.get("to"))),
                            to_status_name=_shared(read_text(item.get("toString")))))
                    elif name == "Sprint":
                        sprints.append(SprintChange(at, read_id_list(item.get("from")),
                                                    read_id_list(item.get("to"))))
                    elif points_field and (field_id == points_field or
                                           (points_name and name == points_name)):
                        points.append(PointsChange(at, read_number(item.get("fromString")),
                                                   read_number(item.get("toString"))))
                except UnreadableValue:
                    raise SkipRecord(f"unparsable changelog {name}") from None
        return tuple(statuses), tuple(sprints), tuple(points)

    def sprints(self, payloads: Iterable[Payload]) -> list[Sprint]:
        """Canonical sprints (attributed to ``originBoardId``)."""
        record_map = self.spec.record_map("sprint")
        if record_map is None:
            return []
        out = []
        for payload in payloads:
            try:
                v = map_fields("sprint", record_map, payload, self.spec, self.lookups)
            except SkipRecord as skip:
                self.skipped.add("sprint", skip.reason)
                continue
            out.append(Sprint(id=v["id"], board=v.get("board"), state=v["state"],
                              start=v.get("start"), complete=v.get("complete"),
                              goal=v.get("goal")))
        return out

    def sprint_scopes(self, payloads: Iterable[Payload]) -> list[SprintScope]:
        """Stored sprint scopes from the Jira connector's ``sprint_scope`` stream.

        Payload: ``{sprint_id, board_id, moment, taken_at, source, items: [{key,
        issue_type, is_subtask, story_points, status_category}]}`` (``sprint`` is accepted
        for ``sprint_id``). Sub-tasks are left out: commitment never counts them (§4).
        """
        out = []
        for payload in payloads:
            try:
                out.append(_sprint_scope(payload))
            except (SkipRecord, UnreadableValue, AttributeError, TypeError) as exc:
                reason = exc.reason if isinstance(exc, SkipRecord) else "unparsable sprint scope"
                self.skipped.add("sprint_scope", reason)
        return out


def _sprint_scope(payload: Payload) -> SprintScope:
    sprint = read_int(payload.get("sprint_id", payload.get("sprint")))
    taken_at = read_jira_datetime(payload.get("taken_at"))
    moment, source = payload.get("moment"), payload.get("source")
    if sprint is None or taken_at is None:
        raise SkipRecord("missing sprint or taken_at")
    if moment not in ("start", "close") or source not in ("snapshot", "sprint_report",
                                                          "changelog"):
        raise SkipRecord("unknown moment or source")
    items = []
    for item in payload.get("items") or []:
        if item.get("is_subtask") is True:
            continue
        key = read_text(item.get("key"))
        if key is None:
            raise SkipRecord("scope item without key")
        items.append(SprintScopeItem(key=key, story_points=read_number(item.get("story_points")),
                                     status_category=read_text(item.get("status_category"))))
    return SprintScope(sprint=sprint, moment=moment, taken_at=taken_at, source=source,
                       items=tuple(items))


def _epic_key(fields: Mapping[str, Any], v: Mapping[str, Any]) -> str | None:
    """Cloud ``parent`` when it is an epic, else the Agile ``epic`` field, else Epic Link."""
    parent = fields.get("parent") if isinstance(fields.get("parent"), dict) else {}
    parent_type = ((parent.get("fields") or {}).get("issuetype") or {})
    if v.get("parent_key") and (v.get("parent_type") == "Epic"
                                or parent_type.get("hierarchyLevel") == 1):
        return v["parent_key"]
    try:
        epic = read_jira_key(fields.get("epic"))
    except UnreadableValue:
        epic = None
    return epic or v.get("epic_link")


def _done_at(v: Mapping[str, Any], statuses: tuple[StatusChange, ...]) -> datetime | None:
    """Last entry into done from a non-done category; else resolution, category change."""
    if v["status_category"] != "done":
        return None
    entries = [c.at for c in statuses
               if c.to_category == "done" and c.from_category != "done"]
    if entries:
        return entries[-1]
    return v.get("resolution_date") or v.get("status_category_changed")


def _shared(text: str | None) -> str | None:
    """Status names repeat in every changelog: keep one string per name."""
    return sys.intern(text) if type(text) is str else text
