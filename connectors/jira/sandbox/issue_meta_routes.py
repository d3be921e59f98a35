"""Metadata routes: edit/create metadata, watchers, votes, property keys, and more.

Also project statuses, labels, assignable users and the locale preference.

``editmeta`` lists the fields on the edit screen (the ones the sandbox's edit accepts);
``createmeta/{project}/issuetypes`` (Cloud and Data Center 9) pages the project's issue
types. Watchers are the assignee and the reporter.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.catalog import all_fields
from connectors.jira.sandbox.data import ISSUE_TYPES, STATUSES, Issue
from connectors.jira.sandbox.issue_view import watcher_indexes
from connectors.jira.sandbox.routing import ISSUE_NOT_FOUND, Reply, Request, error, register
from connectors.jira.sandbox.write_routes import _ON_SCREEN

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

API = r"/rest/api/(?:2|3|latest)"
_OPERATIONS = {"labels": ["add", "set", "remove"], "summary": ["set"],
               "description": ["set"], "priority": ["set"], "assignee": ["set"],
               "duedate": ["set"]}


def edit_meta(sb: JiraSandbox, issue: Issue) -> dict[str, Any]:
    """The edit screen's fields with their schema and operations."""
    editable = (_ON_SCREEN - {"project", "issuetype"}) | {sb.data.fields.story_points}
    out = {}
    for field in all_fields(sb.cloud, sb.data.fields):
        if field["id"] not in editable:
            continue
        out[field["id"]] = {"required": field["id"] == "summary",
                            "schema": field.get("schema", {}), "name": field["name"],
                            "key": field["id"], "operations": _OPERATIONS.get(
                                field["id"], ["set"]), "hasDefaultValue": False}
    return {"fields": out}


def _issue(sb: JiraSandbox, value: str) -> Issue | None:
    return sb.data.find(value)


@register("GET", f"{API}/issue/([^/]+)/editmeta")
def editmeta(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Fields the caller may edit on this issue."""
    issue = _issue(sb, m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    return Reply(200, edit_meta(sb, issue))


@register("GET", f"{API}/issue/([^/]+)/watchers")
def watchers(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """The issue's watchers (its assignee and reporter)."""
    issue = _issue(sb, m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    people = watcher_indexes(issue)
    return Reply(200, {"self": f"{sb.url}{req.path}", "isWatching": False,
                       "watchCount": len(people),
                       "watchers": [req.render.user(i) for i in people]})


@register("GET", f"{API}/issue/([^/]+)/votes")
def votes(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Votes on the issue (nobody votes in the sandbox)."""
    if _issue(sb, m.group(1)) is None:
        return error(404, ISSUE_NOT_FOUND)
    return Reply(200, {"self": f"{sb.url}{req.path}", "votes": 0, "hasVoted": False,
                       "voters": []})


@register("GET", f"{API}/issue/([^/]+)/properties")
def property_keys(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Keys of the issue's entity properties."""
    issue = _issue(sb, m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    base = f"{sb.url}/rest/api/{req.version}/issue/{issue.id}/properties"
    keys = sorted(k for i, k in sb.properties if i == str(issue.id))
    return Reply(200, {"keys": [{"self": f"{base}/{k}", "key": k} for k in keys]})


@register("GET", f"{API}/issue/createmeta/([^/]+)/issuetypes")
def create_meta_types(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Issue types that can be created in a project, paged."""
    key = m.group(1).upper()
    if key not in sb.data.projects and not any(str(p["id"]) == m.group(1)
                                               for p in sb.data.projects.values()):
        return error(404, f"No project could be found with key '{m.group(1)}'.")
    values = [req.render.issue_type(name) for name in ISSUE_TYPES]
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 200))
    page = values[start:start + size]
    # Cloud names the list "issueTypes", Data Center 9 "values".
    return Reply(200, {"maxResults": size, "startAt": start, "total": len(values),
                       "isLast": start + size >= len(values),
                       "issueTypes" if sb.cloud else "values": page})


@register("GET", f"{API}/project/([^/]+)/statuses")
def project_statuses(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Statuses per issue type of a project (every type shares the workflow)."""
    key = m.group(1).upper()
    if key not in sb.data.projects:
        return error(404, f"No project could be found with key '{m.group(1)}'.")
    statuses = [req.render.status(s[0]) for s in STATUSES]
    return Reply(200, [{**req.render.issue_type(name), "statuses": statuses}
                       for name in ISSUE_TYPES])


@register("GET", f"{API}/label", scope="cloud")
def labels(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every label in use, paged."""
    values = sorted({label for issue in sb.data.iter_issues() for label in issue.labels})
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 1000), 1000))
    return Reply(200, {"self": f"{sb.url}{req.path}", "maxResults": size, "startAt": start,
                       "total": len(values), "isLast": start + size >= len(values),
                       "values": values[start:start + size]})


@register("GET", f"{API}/user/assignable/search")
def assignable(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """People who can be assigned issues of a project (everybody), by name prefix."""
    if not (req.arg("project") or req.arg("issueKey")):
        return error(400, "The parameter 'project' or 'issueKey' is required.")
    text = (req.arg("query") if sb.cloud else req.arg("username")) or ""
    found = [i for i, p in enumerate(sb.world.people)
             if not text or any(w.startswith(text.lower())
                                for w in p.display_name.lower().split())]
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 1000))
    return Reply(200, [req.render.user(i) for i in found[start:start + size]])


@register("PUT", f"{API}/mypreferences/locale")
def set_locale(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Accept a locale change (the sandbox keeps answering in en_US) → 204."""
    if not isinstance(req.body, dict) or not req.body.get("locale"):
        return error(400, errors={"locale": "A locale is required."})
    return Reply(204)
