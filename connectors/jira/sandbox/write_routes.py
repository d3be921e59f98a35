"""Write routes of the sandbox: issues, labels, properties, links, dashboards.

Facts from jira-api.md §6.

Create answers 201 ``{id, key, self}``, edit 204; fields not on the screen are 400 with
Jira's wording; rich text must be ADF on ``/rest/api/3`` and a string on ``/2``, at most
32,767 characters (an ADF document counted as its JSON); entity
properties answer 201 when created and 200 when replaced, and refuse values over 32,768
characters; remote links are upserted by ``globalId``. Every write is recorded in
``sandbox.writes`` for tests.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.data import ISSUE_TYPES
from connectors.jira.sandbox.routing import (
    ISSUE_NOT_FOUND,
    Reply,
    Request,
    error,
    forbid_viewer,
    register,
)

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

PROPERTY_LIMIT = 32_768
# Text fields (description, comments) refuse more than 32,767 characters; for ADF the
# sandbox counts the document's JSON, the stricter reading.
TEXT_LIMIT = 32_767
_ON_SCREEN = {"summary", "description", "labels", "issuetype", "project", "priority",
              "assignee", "duedate"}


def _rich_text_problem(req: Request, value: Any, field: str) -> Reply | None:
    if value is None:
        return None
    if req.version == "3" and not (isinstance(value, dict) and value.get("type") == "doc"):
        return error(400, errors={field: "Operation value must be an Atlassian Document "
                                         "(see the Atlassian Document Format)"})
    if req.version == "2" and not isinstance(value, str):
        return error(400, errors={field: "Operation value must be a string"})
    if len(value if isinstance(value, str) else json.dumps(value)) > TEXT_LIMIT:
        return error(400, errors={field: "The entered text is too long. It exceeds the "
                                         "allowed limit of 32,767 characters."})
    return None


def _screen_problem(sb: JiraSandbox, fields: dict[str, Any]) -> Reply | None:
    allowed = _ON_SCREEN | {sb.data.fields.story_points}
    bad = {k: f"Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
           for k in fields if k not in allowed}
    return error(400, errors=bad) if bad else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


@register("POST", r"/rest/api/(?:2|3)/issue")
def create_issue(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Create an issue → 201."""
    if (denied := forbid_viewer(req)) is not None:
        return denied
    fields = dict((req.body or {}).get("fields") or {})
    # Clients name the project and type by key/name or by id (the jira library uses ids).
    ref = fields.get("project") or {}
    project = str(ref.get("key") or "").upper() or next(
        (k for k, p in sb.data.projects.items() if str(p["id"]) == str(ref.get("id"))), "")
    kind_ref = fields.get("issuetype") or {}
    kind = kind_ref.get("name") or next(
        (n for n, v in ISSUE_TYPES.items() if v[0] == str(kind_ref.get("id"))), None)
    problems = {}
    if project not in sb.data.projects:
        problems["project"] = "Specify a valid project ID or key"
    if kind not in ISSUE_TYPES:
        problems["issuetype"] = "Specify an issue type"
    if not fields.get("summary"):
        problems["summary"] = "You must specify a summary of the issue."
    if problems:
        return error(400, errors=problems)
    if (bad := _screen_problem(sb, fields)) or (
            bad := _rich_text_problem(req, fields.get("description"), "description")):
        return bad
    extra = {"description": _text(fields.get("description"))} \
        if fields.get("description") is not None else {}
    issue = sb.data.create_issue(project, kind, fields["summary"], sb.now(),
                                 list(fields.get("labels") or []), extra)
    sb.writes.append(("create", issue.key, fields))
    sb.notifications.append((issue.key, "create"))
    return Reply(201, {"id": str(issue.id), "key": issue.key,
                       "self": f"{sb.url}/rest/api/{req.version}/issue/{issue.id}"})


@register("PUT", r"/rest/api/(?:2|3)/issue/([^/]+)")
def edit_issue(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Edit fields and labels → 204."""
    if sb.data.find(m.group(1)) is None:
        return error(404, ISSUE_NOT_FOUND)
    if (denied := forbid_viewer(req)) is not None:
        return denied
    body = req.body or {}
    fields = dict(body.get("fields") or {})
    if (bad := _screen_problem(sb, fields)) or (
            bad := _rich_text_problem(req, fields.get("description"), "description")):
        return bad
    adds, removes = [], []
    for op in (body.get("update") or {}).get("labels") or []:
        adds += [op["add"]] if "add" in op else []
        removes += [op["remove"]] if "remove" in op else []
    for label in adds:
        if not isinstance(label, str) or " " in label:
            return error(400, errors={"labels": "The label 'x' contains spaces which is "
                                                "invalid.".replace("x", str(label))})
    extra = {"description": _text(fields["description"])} if "description" in fields else None
    points = fields.get(sb.data.fields.story_points)
    sb.data.update_issue(m.group(1), sb.now(), summary=fields.get("summary"),
                         labels_add=tuple(adds) + tuple(fields.get("labels") or ()),
                         labels_remove=tuple(removes), points=points, fields=extra)
    sb.writes.append(("update", m.group(1), body))
    # notifyUsers: a query parameter in Jira's docs; atlassian-python-api sends it in the body.
    flag = req.arg("notifyUsers", body.get("notifyUsers") if isinstance(body, dict) else None)
    if str(flag).lower() != "false":
        sb.notifications.append((sb.data.find(m.group(1)).key, "update"))
    return Reply(204)


@register("GET", r"/rest/api/(?:2|3)/issue/([^/]+)/properties/([^/]+)")
def get_property(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """An issue entity property."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    key = (str(issue.id), m.group(2))
    if key not in sb.properties:
        return error(404, f"The property with key '{m.group(2)}' does not exist.")
    return Reply(200, {"key": m.group(2), "value": sb.properties[key]})


@register("PUT", r"/rest/api/(?:2|3)/issue/([^/]+)/properties/([^/]+)")
def put_property(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Set an entity property: 201 created, 200 replaced."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if (denied := forbid_viewer(req)) is not None:
        return denied
    if len(m.group(2)) > 255:
        return error(400, "The property key cannot be longer than 255 characters.")
    if len(json.dumps(req.body)) > PROPERTY_LIMIT:
        return error(400, f"The property value cannot be longer than {PROPERTY_LIMIT} "
                          "characters.")
    key = (str(issue.id), m.group(2))
    created = key not in sb.properties
    sb.properties[key] = req.body
    sb.writes.append(("property", issue.key, {m.group(2): req.body}))
    return Reply(201 if created else 200)


@register("DELETE", r"/rest/api/(?:2|3)/issue/([^/]+)/properties/([^/]+)")
def delete_property(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Remove an entity property → 204."""
    issue = sb.data.find(m.group(1))
    if issue is None or (str(issue.id), m.group(2)) not in sb.properties:
        return error(404, ISSUE_NOT_FOUND if issue is None else
                     f"The property with key '{m.group(2)}' does not exist.")
    if (denied := forbid_viewer(req)) is not None:
        return denied
    del sb.properties[(str(issue.id), m.group(2))]
    return Reply(204)


# Comments: see issue_extra_routes (paged listing, authors, ADF/wiki per version).


@register("POST", r"/rest/api/(?:2|3)/issue/([^/]+)/remotelink")
def upsert_remote_link(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Create or update a remote link by ``globalId``."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if (denied := forbid_viewer(req)) is not None:
        return denied
    body = req.body or {}
    if not (body.get("object") or {}).get("url"):
        return error(400, errors={"url": "Url is required."})
    links = issue.extra.setdefault("remotelinks", {})
    global_id = body.get("globalId") or f"auto:{len(links)}"
    created = global_id not in links
    link_id = 10000 + len(sb.writes) if created else links[global_id]["id"]
    links[global_id] = {"id": link_id, **body}
    sb.writes.append(("remotelink", issue.key, body))
    return Reply(201 if created else 200,
                 {"id": link_id, "self": f"{sb.url}/rest/api/{req.version}/issue/"
                                         f"{issue.key}/remotelink/{link_id}"})


@register("GET", r"/rest/api/(?:2|3)/issue/([^/]+)/remotelink")
def list_remote_links(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Remote links of an issue."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    return Reply(200, list(issue.extra.get("remotelinks", {}).values()))


@register("POST", r"/rest/api/(?:2|3)/dashboard", scope="cloud")
def create_dashboard(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Create a dashboard (both permission lists required)."""
    if (denied := forbid_viewer(req)) is not None:
        return denied
    body = req.body or {}
    missing = {k: "This field is required." for k in ("name", "sharePermissions",
                                                      "editPermissions") if k not in body}
    if missing:
        return error(400, errors=missing)
    dash_id = str(10000 + len(sb.dashboards))
    dashboard = {"id": dash_id, "name": body["name"], "description": body.get("description"),
                 "sharePermissions": body["sharePermissions"],
                 "editPermissions": body["editPermissions"], "gadgets": [],
                 "self": f"{sb.url}/rest/api/{req.version}/dashboard/{dash_id}",
                 "view": f"{sb.url}/jira/dashboards/{dash_id}"}
    sb.dashboards.append(dashboard)
    return Reply(200, {k: v for k, v in dashboard.items() if k != "gadgets"})


@register("GET", r"/rest/api/(?:2|3)/dashboard", scope="cloud")
def list_dashboards(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Dashboards visible to the caller."""
    values = [{k: v for k, v in d.items() if k != "gadgets"} for d in sb.dashboards]
    return Reply(200, {"startAt": 0, "maxResults": 20, "total": len(values),
                       "dashboards": values})


@register("POST", r"/rest/api/(?:2|3)/dashboard/(\d+)/gadget", scope="cloud")
def add_gadget(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Add a gadget by ``uri`` or ``moduleKey``."""
    dashboard = next((d for d in sb.dashboards if d["id"] == m.group(1)), None)
    if dashboard is None:
        return error(404, f"The dashboard with id '{m.group(1)}' does not exist.")
    body = req.body or {}
    if not (body.get("uri") or body.get("moduleKey")):
        return error(400, "Gadget module key or URI has to be provided.")
    gadget = {"id": 10000 + len(dashboard["gadgets"]), "title": body.get("title", ""),
              "color": body.get("color", "blue"),
              "position": body.get("position", {"row": 0, "column": 0})}
    gadget.update({k: body[k] for k in ("uri", "moduleKey") if body.get(k)})
    dashboard["gadgets"].append(gadget)
    return Reply(200, gadget)


@register("GET", r"/rest/api/(?:2|3)/dashboard/(\d+)/gadget", scope="cloud")
def list_gadgets(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Gadgets on a dashboard."""
    dashboard = next((d for d in sb.dashboards if d["id"] == m.group(1)), None)
    if dashboard is None:
        return error(404, f"The dashboard with id '{m.group(1)}' does not exist.")
    return Reply(200, {"gadgets": dashboard["gadgets"]})
