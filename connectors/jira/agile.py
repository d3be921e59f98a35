"""Boards, sprints and sprint commitment snapshots (jira-api.md §5).

Boards page with ``isLast``; board sprints at most 50 a page with no ``total``; 400 (board
does not support sprints) and 422 (no mapped statuses) mean "no sprints". The story-points
field is read per board from ``estimation.field.fieldId`` of its configuration, falling back
to ``/field`` names (§5.3). Commitment (§5.5): a ``sprint_scope`` snapshot of members and
estimates when a sprint is first seen active; for closed sprints, the greenhopper sprint
report (initial estimates at start, current estimates at close).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.jira.client import JiraApi

AGILE = "/rest/agile/1.0"


def iter_boards(api: JiraApi, projects: set[str]) -> Iterator[dict[str, Any]]:
    """Boards on the given projects (all boards when ``projects`` is empty)."""
    start = 0
    while True:
        _, body = api.get(f"{AGILE}/board", {"startAt": start, "maxResults": 50})
        values = list((body or {}).get("values") or [])
        for board in values:
            key = (board.get("location") or {}).get("projectKey")
            if not projects or key in projects:
                yield board
        start += len(values)
        if not values or body.get("isLast", True) or start >= int(body.get("total") or 1e9):
            return


def fetch_configuration(api: JiraApi, board_id: int) -> dict[str, Any]:
    """A board's configuration (columns, estimation field)."""
    _, body = api.get(f"{AGILE}/board/{board_id}/configuration")
    return dict(body or {})


def points_field(api: JiraApi, configuration: dict[str, Any] | None) -> str | None:
    """The board's story-points field: its estimation field, else a field by name."""
    if api.settings.story_points_field != "auto":
        return api.settings.story_points_field
    estimation = (configuration or {}).get("estimation") or {}
    field_id = (estimation.get("field") or {}).get("fieldId")
    if estimation.get("type") == "field" and field_id:
        return str(field_id)
    candidates = api.story_point_fields()
    return candidates[0] if candidates else None


def iter_board_sprints(api: JiraApi, board_id: int) -> Iterator[dict[str, Any]]:
    """All sprints listed on a board; none for boards that do not support sprints."""
    start = 0
    while True:
        status, body = api.get(f"{AGILE}/board/{board_id}/sprint",
                               {"startAt": start, "maxResults": 50}, accept=(400, 422))
        if status in (400, 422):
            return
        values = list((body or {}).get("values") or [])
        yield from values
        start += len(values)
        if not values or body.get("isLast", True):
            return


def fetch_sprint_members(api: JiraApi, sprint_id: int, field_id: str | None
                         ) -> list[dict[str, Any]]:
    """Scope items of a sprint now: key, type, sub-task flag, points, status category."""
    fields = ["issuetype", "status"] + ([field_id] if field_id else [])
    items: list[dict[str, Any]] = []
    start = 0
    while True:
        _, body = api.get(f"{AGILE}/sprint/{sprint_id}/issue",
                          {"startAt": start, "maxResults": 100, "fields": ",".join(fields)})
        issues = list((body or {}).get("issues") or [])
        for issue in issues:
            f = issue.get("fields") or {}
            items.append({"key": issue["key"],
                          "issue_type": (f.get("issuetype") or {}).get("name"),
                          "is_subtask": bool((f.get("issuetype") or {}).get("subtask")),
                          "story_points": _number(f.get(field_id)) if field_id else None,
                          "status_category": ((f.get("status") or {}).get("statusCategory")
                                              or {}).get("key")})
        start += len(issues)
        if not issues or start >= int(body.get("total") or 0):
            return sorted(items, key=lambda i: i["key"])


def fetch_sprint_report(api: JiraApi, board_id: int, sprint_id: int) -> dict[str, Any] | None:
    """The greenhopper sprint report (``None`` when the board or sprint is not visible)."""
    status, body = api.get("/rest/greenhopper/1.0/rapid/charts/sprintreport",
                           {"rapidViewId": board_id, "sprintId": sprint_id}, accept=(404,))
    return None if status == 404 else body


def scope_from_report(report: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                       list[dict[str, Any]]]:
    """(start items, close items) from a sprint report.

    Start = issues not added during the sprint, with their initial estimates; close =
    issues still in the sprint at completion, with current estimates.
    """
    contents = report.get("contents") or {}
    added = set((contents.get("issueKeysAddedDuringSprint") or {}).keys())
    groups = {name: contents.get(name) or [] for name in (
        "completedIssues", "issuesNotCompletedInCurrentSprint", "incompletedIssues",
        "puntedIssues")}
    start, close = [], []
    for name, entries in groups.items():
        for entry in entries:
            if entry["key"] not in added:
                start.append(_report_item(entry, "estimateStatistic", None))
            if name != "puntedIssues":
                close.append(_report_item(entry, "currentEstimateStatistic",
                                          "done" if name == "completedIssues" else None))
    return (sorted(start, key=lambda i: i["key"]), sorted(close, key=lambda i: i["key"]))


def _report_item(entry: dict[str, Any], stat: str, category: str | None) -> dict[str, Any]:
    status = entry.get("status") or {}
    return {"key": entry["key"], "issue_type": entry.get("typeName"),
            "is_subtask": bool(entry.get("subtask") or entry.get("typeName") in (
                "Sub-task", "Subtask")),
            "story_points": _number(((entry.get(stat) or {}).get("statFieldValue") or {})
                                    .get("value")),
            "status_category": category or (status.get("statusCategory") or {}).get("key")
            or ("done" if entry.get("done") else None)}


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
