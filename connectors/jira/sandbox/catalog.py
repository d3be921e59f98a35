"""The instance's fixed catalogues: system fields, priorities, resolutions, link types.

The system-field flags (``orderable``, ``navigable``, ``searchable``), clause names and
schemas follow a real Cloud ``GET /rest/api/3/field`` answer: ``comment``, ``worklog``,
``attachment``, ``timetracking`` and ``issuerestriction`` are *not* navigable, so
``fields=*navigable`` (the search default) leaves them out while ``*all`` (the GET issue
default) includes them. Custom fields come from :class:`~.data.InstanceFields`.
"""

from __future__ import annotations

import functools
from typing import Any

from connectors.jira.sandbox.data import InstanceFields

# id, name, orderable, navigable, searchable, clause names, schema type, schema items
_SYSTEM: tuple[tuple[str, str, bool, bool, bool, tuple[str, ...], str | None, str | None],
               ...] = (
    ("summary", "Summary", True, True, True, ("summary",), "string", None),
    ("issuetype", "Issue Type", True, True, True, ("issuetype", "type"), "issuetype", None),
    ("status", "Status", False, True, True, ("status",), "status", None),
    ("project", "Project", False, True, True, ("project",), "project", None),
    ("created", "Created", False, True, True, ("created", "createdDate"), "datetime", None),
    ("updated", "Updated", False, True, True, ("updated", "updatedDate"), "datetime", None),
    ("resolutiondate", "Resolved", False, True, True, ("resolutiondate", "resolved"),
     "datetime", None),
    ("resolution", "Resolution", True, True, True, ("resolution",), "resolution", None),
    ("labels", "Labels", True, True, True, ("labels",), "array", "string"),
    ("assignee", "Assignee", True, True, True, ("assignee",), "user", None),
    ("reporter", "Reporter", True, True, True, ("reporter",), "user", None),
    ("creator", "Creator", False, True, True, ("creator",), "user", None),
    ("priority", "Priority", True, True, True, ("priority",), "priority", None),
    ("description", "Description", True, True, True, ("description",), "string", None),
    ("environment", "Environment", True, True, True, ("environment",), "string", None),
    ("duedate", "Due date", True, True, True, ("due", "duedate"), "date", None),
    ("parent", "Parent", False, True, False, ("parent",), None, None),
    ("issuekey", "Key", False, True, False, ("id", "issue", "issuekey", "key"), None, None),
    ("fixVersions", "Fix versions", True, True, True, ("fixVersion",), "array", "version"),
    ("versions", "Affects versions", True, True, True, ("affectedVersion",), "array",
     "version"),
    ("components", "Components", True, True, True, ("component",), "array", "component"),
    ("issuelinks", "Linked Issues", True, True, True, ("issueLink",), "array", "issuelinks"),
    ("subtasks", "Sub-tasks", False, True, False, ("subtasks",), "array", "issuelinks"),
    ("attachment", "Attachment", True, False, True, ("attachments",), "array", "attachment"),
    ("comment", "Comment", True, False, True, ("comment",), "comments-page", None),
    ("worklog", "Log Work", True, False, True, (), "array", "worklog"),
    ("timetracking", "Time tracking", True, False, True, (), "timetracking", None),
    ("timespent", "Time Spent", False, True, False, ("timespent",), "number", None),
    ("timeestimate", "Remaining Estimate", False, True, False,
     ("remainingEstimate", "timeestimate"), "number", None),
    ("timeoriginalestimate", "Original estimate", False, True, False,
     ("originalEstimate", "timeoriginalestimate"), "number", None),
    ("aggregatetimespent", "Σ Time Spent", False, True, False, (), "number", None),
    ("aggregatetimeestimate", "Σ Remaining Estimate", False, True, False, (), "number", None),
    ("aggregatetimeoriginalestimate", "Σ Original Estimate", False, True, False, (),
     "number", None),
    ("progress", "Progress", False, True, False, ("progress",), "progress", None),
    ("aggregateprogress", "Σ Progress", False, True, False, (), "progress", None),
    ("workratio", "Work Ratio", False, True, True, ("workratio",), "number", None),
    ("watches", "Watchers", False, True, False, ("watchers",), "watches", None),
    ("votes", "Votes", False, True, False, ("votes",), "votes", None),
    ("lastViewed", "Last Viewed", False, True, False, ("lastViewed",), "datetime", None),
    ("security", "Security Level", True, True, True, ("level",), "securitylevel", None),
    ("statusCategory", "Status Category", False, True, True, ("statusCategory",), None, None),
    ("issuerestriction", "Restrict to", True, False, True, (), "issuerestriction", None),
)
CLOUD_ONLY = {"statuscategorychangedate", "issuerestriction"}
# Listed by /field but never carried in an issue's ``fields`` object.
NOT_IN_ISSUE = {"issuekey", "statusCategory"}

# id, name, colour — Jira's five default priorities.
PRIORITIES = (("1", "Highest", "#d04437"), ("2", "High", "#f15C75"), ("3", "Medium", "#f79232"),
              ("4", "Low", "#707070"), ("5", "Lowest", "#999999"))
# id, name, description — the defaults of a new site.
RESOLUTIONS = (("10000", "Done", "Work has been completed."),
               ("10001", "Won't Do", "This issue won't be actioned."),
               ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
               ("10003", "Cannot Reproduce", "All attempts at reproducing this issue failed, "
                                             "or not enough information was available."))
# id, name, inward, outward — the default link types.
LINK_TYPES = (("10000", "Blocks", "is blocked by", "blocks"),
              ("10001", "Cloners", "is cloned by", "clones"),
              ("10002", "Duplicate", "is duplicated by", "duplicates"),
              ("10003", "Relates", "relates to", "relates to"))


def system_fields(cloud: bool) -> list[dict[str, Any]]:
    """The system fields of ``/field`` for the deployment."""
    rows = list(_SYSTEM)
    if cloud:
        rows.append(("statuscategorychangedate", "Status Category Changed", False, True, True,
                     ("statusCategoryChangedDate",), "datetime", None))
    out = []
    for fid, name, orderable, navigable, searchable, clauses, kind, items in rows:
        if not cloud and fid in CLOUD_ONLY:
            continue
        body: dict[str, Any] = {"id": fid, "key": fid, "name": name, "custom": False,
                                "orderable": orderable, "navigable": navigable,
                                "searchable": searchable, "clauseNames": list(clauses)}
        if kind is not None:
            schema: dict[str, Any] = {"type": kind, "system": fid}
            if items:
                schema["items"] = items
            body["schema"] = schema
        out.append(body)
    return out


def custom_fields(fields: InstanceFields) -> list[dict[str, Any]]:
    """The custom fields every sandbox instance has (story points, sprint, rank)."""
    def custom(fid: str, name: str, kind: str, plugin: str,
               items: str | None = None) -> dict[str, Any]:
        number = int(fid.rsplit("_", 1)[1])
        schema: dict[str, Any] = {"type": kind, "custom": plugin, "customId": number}
        if items:
            schema["items"] = items
        return {"id": fid, "key": fid, "name": name, "untranslatedName": name,
                "custom": True, "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{number}]", name], "schema": schema}

    return [custom(fields.story_points, fields.story_points_name, "number",
                   "com.atlassian.jira.plugin.system.customfieldtypes:float"),
            custom(fields.sprint, "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint",
                   "json"),
            custom(fields.rank, "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
            custom(fields.satisfaction, "Satisfaction", "sd-feedback",
                   "com.atlassian.servicedesk:sd-request-feedback")]


def all_fields(cloud: bool, fields: InstanceFields) -> list[dict[str, Any]]:
    """Every field of the instance, as ``GET /field`` lists them."""
    return system_fields(cloud) + custom_fields(fields)


@functools.cache
def field_ids(cloud: bool, fields: InstanceFields, navigable_only: bool) -> frozenset[str]:
    """Ids of the fields ``*all`` (or, with ``navigable_only``, ``*navigable``) selects."""
    return frozenset(f["id"] for f in all_fields(cloud, fields)
                     if f["navigable"] or not navigable_only) - NOT_IN_ISSUE


@functools.cache
def catalogue(cloud: bool, fields: InstanceFields) -> dict[str, dict[str, Any]]:
    """Every field by id (shared; do not modify)."""
    return {f["id"]: f for f in all_fields(cloud, fields)}
