"""``GET /rest/api/{2,3}/mypermissions``: the calling account's project permissions.

Shape as Jira returns it (jira-api.md §9): ``{"permissions": {KEY: {id, key, name, type,
description, havePermission}}}``, one entry per asked key. Cloud requires the
``permissions`` parameter; Data Center answers every permission without it. An unknown
project key is a 404 with Jira's wording. The integration account holds every project
permission; the read-only account holds Browse Projects only, so ``fiveo-sync doctor`` can
name what is missing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from connectors.jira.sandbox.routing import Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

# key: (id, name, description) — Jira's project permission ids and wording.
PROJECT_PERMISSIONS = {
    "BROWSE_PROJECTS": ("10", "Browse Projects",
                        "Ability to browse projects and the issues within them."),
    "CREATE_ISSUES": ("11", "Create Issues", "Ability to create issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "Ability to assign issues to other people."),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "Ability to resolve and reopen issues. This "
                       "includes the ability to set a fix version."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "DELETE_ISSUES": ("16", "Delete Issues", "Ability to delete issues."),
    "CREATE_ATTACHMENTS": ("19", "Create Attachments",
                           "Users with this permission may create attachments."),
    "LINK_ISSUES": ("21", "Link Issues", "Ability to link issues together and create linked "
                    "issues. Only useful if issue linking is turned on."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects",
                            "Ability to administer a project in Jira."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "Ability to transition issues."),
}
VIEWER_PERMISSIONS = frozenset({"BROWSE_PROJECTS"})


@register("GET", r"/rest/api/(?:2|3|latest)/mypermissions")
def my_permissions(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """The caller's permissions, optionally in one project (``projectKey``/``projectId``)."""
    asked = [k.strip() for k in (req.arg("permissions") or "").split(",") if k.strip()]
    if not asked and sb.cloud:
        return error(400, "The 'permissions' query parameter is required.")
    unknown = [k for k in asked if k not in PROJECT_PERMISSIONS]
    if unknown:
        return error(400, f"Invalid permission key(s): {', '.join(unknown)}")
    key, project_id = (req.arg("projectKey") or "").upper(), req.arg("projectId")
    if key and key not in sb.data.projects:
        return error(404, f"No project could be found with key '{key}'.")
    if project_id and not any(str(p["id"]) == project_id for p in sb.data.projects.values()):
        return error(404, f"No project could be found with id '{project_id}'.")
    held = VIEWER_PERMISSIONS if req.role == "viewer" else frozenset(PROJECT_PERMISSIONS)
    return Reply(200, {"permissions": {
        name: {"id": perm_id, "key": name, "name": label, "type": "PROJECT",
               "description": text, "havePermission": name in held}
        for name, (perm_id, label, text) in PROJECT_PERMISSIONS.items()
        if not asked or name in asked}})
