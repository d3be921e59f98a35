"""Project routes: the list, Cloud's paged search, one project, versions, components.

Shapes (Jira REST "Projects", "Project versions", "Project components"): ``GET /project``
is a plain list on both deployments; ``project/search`` (Cloud only) pages with
``startAt``/``maxResults``/``total``/``isLast`` and an absolute ``nextPage`` URL, which
atlassian-python-api follows; ``project/{key}`` adds the lead, issue types, components and
versions. An unknown project is a 404 "No project could be found with key 'X'.".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.jira.sandbox.data import ISSUE_TYPES
from connectors.jira.sandbox.issue_view import version_json
from connectors.jira.sandbox.routing import Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

API = r"/rest/api/(?:2|3|latest)"


def _person_index(sb: JiraSandbox, user_name: str) -> int:
    return next(i for i, p in enumerate(sb.world.people) if p.user_name == user_name)


def project_json(sb: JiraSandbox, req: Request, key: str, *, full: bool = False,
                 expand: str = "") -> dict[str, Any]:
    """A project as the list (or, with ``full``, ``GET project/{key}``) renders it."""
    info = sb.data.projects[key]
    pid = info["id"]
    base = f"{sb.url}/rest/api/{req.version}"
    avatar = f"{base}/universal_avatar/view/type/project/avatar/{10400 + pid % 100}"
    body: dict[str, Any] = {
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight"
        if sb.cloud else "description,lead,url,projectKeys",
        "self": f"{base}/project/{pid}", "id": str(pid), "key": key, "name": info["name"],
        "avatarUrls": {size: f"{avatar}?size={label}" if label else avatar for size, label in
                       (("48x48", ""), ("24x24", "small"), ("16x16", "xsmall"),
                        ("32x32", "medium"))},
        "projectTypeKey": "software", "simplified": False}
    if sb.cloud:
        body.update({"style": "classic", "isPrivate": False, "properties": {}})
    else:
        body["archived"] = False
    parts = set(expand.split(","))
    if full or "description" in parts:
        body["description"] = f"{info['name']} delivery work"
    if full or "lead" in parts:
        body["lead"] = req.render.user(_person_index(sb, info["lead"].user_name))
    if full or "issueTypes" in parts:
        body["issueTypes"] = [req.render.issue_type(name) for name in ISSUE_TYPES]
    if full or "projectKeys" in parts:
        body["projectKeys"] = [key]
    if full:
        body["components"] = [component_json(sb, req, c)
                              for c in sb.data.extras.components(key)]
        body["versions"] = [version_json(sb, req, v) for v in sb.data.extras.versions(key)]
        body["assigneeType"] = "UNASSIGNED"
        body["roles"] = {}
    return body


def component_json(sb: JiraSandbox, req: Request, comp: dict[str, Any]) -> dict[str, Any]:
    """A component as the project components list renders it."""
    lead = req.render.user(comp["lead"])
    return {"self": f"{sb.url}/rest/api/{req.version}/component/{comp['id']}",
            "id": comp["id"], "name": comp["name"], "description": comp["description"],
            "lead": lead, "assigneeType": comp["assigneeType"], "assignee": lead,
            "realAssigneeType": comp["assigneeType"], "realAssignee": lead,
            "isAssigneeTypeValid": True, "project": comp["project"],
            "projectId": comp["projectId"]}


def _project_key(sb: JiraSandbox, value: str) -> str | None:
    if value.upper() in sb.data.projects:
        return value.upper()
    return next((k for k, p in sb.data.projects.items() if str(p["id"]) == value), None)


def _missing(value: str) -> Reply:
    return error(404, f"No project could be found with key '{value}'.")


@register("GET", f"{API}/project")
def projects(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every project visible to the caller, ordered by key."""
    expand = req.arg("expand", "") or ""
    return Reply(200, [project_json(sb, req, k, expand=expand)
                       for k in sorted(sb.data.projects)])


@register("GET", f"{API}/project/search", scope="cloud")
def project_search(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Projects paged by ``startAt``/``maxResults`` (at most 100), with ``nextPage``."""
    query = (req.arg("query") or "").lower()
    keys = {k.strip().upper() for v in req.query.get("keys", []) for k in v.split(",")}
    chosen = [k for k in sorted(sb.data.projects)
              if (not query or query in k.lower()
                  or query in sb.data.projects[k]["name"].lower())
              and (not keys or k in keys)]
    if (req.arg("orderBy") or "key").lstrip("+") in ("-key", "-name"):
        chosen.reverse()
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 100))
    page = chosen[start:start + size]
    last = start + size >= len(chosen)
    params = {k: v[0] for k, v in req.query.items() if k not in ("startAt", "maxResults")}
    self_url = f"{sb.url}{req.path}?{urlencode({**params, 'startAt': start, 'maxResults': size})}"
    body: dict[str, Any] = {"self": self_url, "maxResults": size, "startAt": start,
                            "total": len(chosen), "isLast": last,
                            "values": [project_json(sb, req, k, expand=req.arg("expand", "")
                                                    or "") for k in page]}
    if not last:
        body["nextPage"] = (f"{sb.url}{req.path}?"
                            f"{urlencode({**params, 'startAt': start + size, 'maxResults': size})}")
    return Reply(200, body)


@register("GET", f"{API}/project/([^/]+)")
def project(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One project by key or id."""
    key = _project_key(sb, m.group(1))
    if key is None:
        return _missing(m.group(1))
    return Reply(200, project_json(sb, req, key, full=True, expand=req.arg("expand", "") or ""))


@register("GET", f"{API}/project/([^/]+)/versions")
def project_versions(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """All versions of a project (a plain list)."""
    key = _project_key(sb, m.group(1))
    if key is None:
        return _missing(m.group(1))
    return Reply(200, [version_json(sb, req, v) for v in sb.data.extras.versions(key)])


@register("GET", f"{API}/project/([^/]+)/version")
def project_versions_paged(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Versions of a project, paged (``status=released|unreleased`` filters)."""
    key = _project_key(sb, m.group(1))
    if key is None:
        return _missing(m.group(1))
    wanted = set((req.arg("status") or "released,unreleased").split(","))
    values = [v for v in sb.data.extras.versions(key)
              if ("released" if v["released"] else "unreleased") in wanted]
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 50))
    return Reply(200, {"self": f"{sb.url}{req.path}", "maxResults": size, "startAt": start,
                       "total": len(values), "isLast": start + size >= len(values),
                       "values": [version_json(sb, req, v) for v in values[start:start + size]]})


@register("GET", f"{API}/project/([^/]+)/components")
def project_components(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """All components of a project (a plain list)."""
    key = _project_key(sb, m.group(1))
    if key is None:
        return _missing(m.group(1))
    return Reply(200, [component_json(sb, req, c) for c in sb.data.extras.components(key)])


@register("GET", f"{API}/version/(\\d+)")
def version(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One version by id."""
    for key in sb.data.projects:
        for v in sb.data.extras.versions(key):
            if v["id"] == m.group(1):
                return Reply(200, version_json(sb, req, v))
    return error(404, f"Could not find version for id '{m.group(1)}'")


@register("GET", f"{API}/component/(\\d+)")
def component(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One component by id."""
    for key in sb.data.projects:
        for c in sb.data.extras.components(key):
            if c["id"] == m.group(1):
                return Reply(200, component_json(sb, req, c))
    return error(404, f"The component with id {m.group(1)} does not exist.")
