"""How the sandbox renders its data as Jira JSON.

Issue timestamps carry milliseconds and an offset without a colon in the requesting user's
zone (``2024-05-02T18:11:04.512+1200``, DST-aware); agile sprint dates are UTC with ``Z``
(jira-api.md §4). Rich text is ADF on ``/rest/api/3`` and wiki markup on ``/2`` (§1).
Users are ``accountId`` objects on Cloud and ``name``/``key`` objects on Data Center.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira.sandbox.accounts import account_user
from connectors.jira.sandbox.data import (
    CATEGORIES,
    ISSUE_TYPES,
    STATUS_BY_ID,
    STATUSES,
    History,
    InstanceFields,
    Issue,
    Sprint,
)
from connectors.jira.sandbox.richtext import for_version
from connectors.world import Person


def jira_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """``2024-05-02T18:11:04.512+1200`` in ``zone`` (or ``None``)."""
    if moment is None:
        return None
    # isoformat is ~3x faster than strftime and this runs for every timestamp served;
    # only the colon of its "+13:00" offset has to go.
    text = moment.astimezone(zone).isoformat(timespec="milliseconds")
    return text[:23] + text[23:].replace(":", "")


def agile_time(moment: datetime | None) -> str | None:
    """``2024-04-01T08:00:00.000Z`` (sprint dates are always UTC)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:23] + "Z"


def sprint_string(sprint: Sprint) -> str:
    """The old Server sprint-field form (jira-api.md §5.2); commas in ``goal`` stay as is.

    ``goal`` sits between other keys, as on versions that appended keys after it, so a
    reader must split only before known ``key=`` names.
    """
    def text(value: datetime | None) -> str:
        return agile_time(value) or "<null>"

    return (f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id * 7919:x}"
            f"[id={sprint.id},rapidViewId={sprint.board_id},state={sprint.state.upper()},"
            f"name={sprint.name},startDate={text(sprint.start)},endDate={text(sprint.end)},"
            f"completeDate={text(sprint.complete)},sequence={sprint.id},"
            f"goal={sprint.goal or ''},autoStartStop=false,synced=false]")


class Renderer:
    """Renders objects for one request context.

    Args:
        base: the sandbox base URL.
        cloud: Cloud (``accountId`` users, v3 ADF) or Data Center.
        version: the REST API version of the request (``2`` or ``3``).
        zone: the requesting user's time zone.
        people: the world's people (users).
        fields: the instance's custom field ids.
    """

    def __init__(self, base: str, cloud: bool, version: str, zone: ZoneInfo,
                 people: tuple[Person, ...], fields: InstanceFields) -> None:
        self.base, self.cloud, self.version, self.zone = base, cloud, version, zone
        self.people, self.fields = people, fields

    def user(self, index: int) -> dict[str, Any]:
        """A user reference as the deployment renders it (negative: our own accounts)."""
        if index < 0:
            return account_user(index, self.base, self.version, self.cloud, str(self.zone))
        person = self.people[index % len(self.people)]
        if self.cloud:
            return {"self": f"{self.base}/rest/api/{self.version}/user?accountId="
                            f"{person.jira_account_id}",
                    "accountId": person.jira_account_id, "displayName": person.display_name,
                    "active": person.active, "timeZone": person.time_zone,
                    "accountType": "atlassian"}
        return {"self": f"{self.base}/rest/api/2/user?username={person.user_name}",
                "name": person.user_name, "key": f"JIRAUSER{10000 + index}",
                "emailAddress": person.email, "displayName": person.display_name,
                "active": person.active, "timeZone": person.time_zone}

    def rich_text(self, text: Any) -> Any:
        """ADF on Cloud v3, a wiki-markup string otherwise."""
        return for_version(text, self.cloud and self.version == "3")

    def status(self, status_id: str) -> dict[str, Any]:
        """A status object with its category."""
        _, name, category = STATUS_BY_ID[status_id]
        return {"self": f"{self.base}/rest/api/{self.version}/status/{status_id}",
                "description": "", "iconUrl": f"{self.base}/", "name": name,
                "untranslatedName": name, "id": status_id,
                "statusCategory": self.category(category)}

    def category(self, key: str) -> dict[str, Any]:
        """A status category object."""
        cat_id, name, colour = CATEGORIES[key]
        return {"self": f"{self.base}/rest/api/{self.version}/statuscategory/{cat_id}",
                "id": cat_id, "key": key, "colorName": colour, "name": name}

    def statuses(self) -> list[dict[str, Any]]:
        """The ``/status`` list."""
        return [self.status(s[0]) for s in STATUSES]

    def issue_type(self, name: str) -> dict[str, Any]:
        """An issue type object."""
        type_id, subtask, level = ISSUE_TYPES[name]
        body = {"self": f"{self.base}/rest/api/{self.version}/issuetype/{type_id}",
                "id": type_id, "description": "", "iconUrl": f"{self.base}/images/{type_id}.svg",
                "name": name, "subtask": subtask, "avatarId": 10300 + int(type_id) % 100}
        if self.cloud:
            body["hierarchyLevel"] = level
        return body

    def sprint(self, sprint: Sprint, *, in_issue: bool = False) -> dict[str, Any]:
        """An agile sprint object (or its Cloud sprint-field form inside an issue)."""
        body: dict[str, Any] = {"id": sprint.id, "name": sprint.name, "state": sprint.state}
        if in_issue:
            body["boardId"] = sprint.board_id
        else:
            body["self"] = f"{self.base}/rest/agile/1.0/sprint/{sprint.id}"
        if sprint.start is not None:
            body["startDate"] = agile_time(sprint.start)
            body["endDate"] = agile_time(sprint.end)
        if sprint.complete is not None:
            body["completeDate"] = agile_time(sprint.complete)
        if self.cloud and not in_issue:
            body["createdDate"] = agile_time(sprint.created)
        if not in_issue:
            body["originBoardId"] = sprint.board_id
        if sprint.goal is not None or in_issue:
            body["goal"] = sprint.goal or ""
        return body

    def history(self, history: History) -> dict[str, Any]:
        """One changelog history."""
        return {"id": str(history.id), "author": self.user(history.author),
                "created": jira_time(history.created, self.zone),
                "items": [{"field": f, "fieldtype": ft, "fieldId": fid, "from": a,
                           "fromString": b, "to": c, "toString": d}
                          for f, ft, fid, a, b, c, d in history.items]}

    def issue_fields(self, issue: Issue, project: dict[str, Any],
                     sprints: dict[int, Sprint]) -> dict[str, Any]:
        """Every navigable field of an issue."""
        f = self.fields
        resolution = None
        if issue.resolved is not None:
            resolution = {"self": f"{self.base}/rest/api/{self.version}/resolution/10000",
                          "id": "10000", "description": "Work has been completed.",
                          "name": "Done"}
        body: dict[str, Any] = {
            "summary": issue.summary,
            "issuetype": self.issue_type(issue.type),
            "project": {"self": f"{self.base}/rest/api/{self.version}/project/{project['id']}",
                        "id": str(project["id"]), "key": issue.project, "name": project["name"],
                        "projectTypeKey": "software", "simplified": False},
            "status": self.status(issue.status),
            "created": jira_time(issue.created, self.zone),
            "updated": jira_time(issue.updated, self.zone),
            "resolutiondate": jira_time(issue.resolved, self.zone),
            "resolution": resolution,
            "labels": list(issue.labels),
            # Unassigned issues (assignee None) answer null, as Jira does.
            "assignee": self.user(issue.assignee) if issue.assignee is not None else None,
            "reporter": self.user(issue.reporter),
            "creator": self.user(issue.reporter),
            "priority": {"self": f"{self.base}/rest/api/{self.version}/priority/3",
                         "iconUrl": f"{self.base}/images/medium.svg", "name": "Medium",
                         "id": "3"},
            "description": self.rich_text(issue.extra.get("description")),
            "duedate": None,
            "fixVersions": [], "components": [], "issuelinks": [],
            "subtasks": [],
            f.story_points: issue.points,
            f.sprint: [self.sprint(sprints[s], in_issue=True) for s in issue.sprints
                       if s in sprints] or None,
            f.rank: f"0|i{issue.id:05x}:",
        }
        if self.cloud:
            body["statuscategorychangedate"] = body["updated"]
        if issue.parent:
            body["parent"] = {"key": issue.parent}
        for name, value in issue.extra.items():
            if name.startswith("customfield_"):
                body[name] = value
        return body

    def issue(self, issue: Issue, project: dict[str, Any], sprints: dict[int, Sprint],
              wanted: set[str] | None, histories: list[History] | None, cap: int | None,
              ) -> dict[str, Any]:
        """An issue as search or GET returns it.

        Args:
            issue: the issue.
            project: its project record.
            sprints: all sprints by id.
            wanted: field ids to include (``None`` = all navigable fields).
            histories: the full history when ``expand=changelog`` was asked.
            cap: how many histories are embedded (Cloud truncates; DC does not).
        """
        body: dict[str, Any] = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": str(issue.id),
            "self": f"{self.base}/rest/api/{self.version}/issue/{issue.id}",
            "key": issue.key}
        if wanted is None or wanted - {"id", "key"}:
            all_fields = self.issue_fields(issue, project, sprints)
            body["fields"] = all_fields if wanted is None else {
                k: v for k, v in all_fields.items() if k in wanted}
        if histories is not None:
            shown = histories if cap is None else histories[:cap]
            body["changelog"] = {"startAt": 0, "maxResults": len(shown),
                                 "total": len(histories),
                                 "histories": [self.history(h) for h in shown]}
        return body
