"""One issue's JSON with its ``expand`` parts (see :mod:`.issue_view` for ``fields``).

``renderedFields`` carries HTML for rich text and Jira's display dates
(``12/Jun/20 8:13 AM``); ``names`` and ``schema`` describe exactly the fields returned;
``transitions`` lists what :mod:`.workflow` allows; ``operations`` the issue's link groups;
``editmeta`` the edit screen's fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.catalog import catalogue
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.issue_meta_routes import edit_meta
from connectors.jira.sandbox.issue_view import (
    ISSUE_EXPAND,
    comment_json,
    issue_fields,
    selected,
)
from connectors.jira.sandbox.richtext import to_html
from connectors.jira.sandbox.routing import Request
from connectors.jira.sandbox.workflow import transitions_json

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

_DATES = ("created", "updated", "resolutiondate", "lastViewed", "statuscategorychangedate")


def issue_body(sb: JiraSandbox, req: Request, issue: Issue, wanted: set[str] | None,
               expand: str, cap: int | None) -> dict[str, Any]:
    """An issue as search or GET returns it."""
    names = selected(sb, issue, wanted)
    parts = {p.strip() for p in expand.split(",") if p.strip()}
    body: dict[str, Any] = {"expand": ISSUE_EXPAND, "id": str(issue.id),
                            "self": f"{sb.url}/rest/api/{req.version}/issue/{issue.id}",
                            "key": issue.key}
    fields: dict[str, Any] = {}
    if names is None or names - {"id", "key"}:
        fields = issue_fields(sb, req, issue, names)
        body["fields"] = fields
    if "renderedFields" in parts:
        body["renderedFields"] = _rendered(sb, req, issue, fields)
    if "names" in parts or "schema" in parts:
        known = catalogue(sb.cloud, sb.data.fields)
        if "names" in parts:
            body["names"] = {k: known[k]["name"] for k in fields if k in known}
        if "schema" in parts:
            body["schema"] = {k: dict(known[k]["schema"]) for k in fields
                              if "schema" in known.get(k, {})}
    if "transitions" in parts or "transitions.fields" in parts:
        body["transitions"] = transitions_json(sb, req, issue,
                                               with_fields="transitions.fields" in parts)
    if "editmeta" in parts:
        body["editmeta"] = edit_meta(sb, issue)
    if "operations" in parts:
        body["operations"] = _operations(sb, issue)
    if "changelog" in parts:
        histories = sb.data.histories(issue)
        shown = histories if cap is None else histories[:cap]
        body["changelog"] = {"startAt": 0, "maxResults": len(shown), "total": len(histories),
                             "histories": [req.render.history(h) for h in shown]}
    return body


def hoist_names_schema(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """Move per-issue ``names``/``schema`` to the top of a search answer, as Jira puts them."""
    top: dict[str, Any] = {}
    for issue in issues:
        for part in ("names", "schema"):
            if part in issue:
                top.setdefault(part, {}).update(issue.pop(part))
    return top


def display_time(moment: datetime | None, req: Request) -> str | None:
    """Jira's rendered date form in the user's zone: ``12/Jun/20 8:13 AM``."""
    if moment is None:
        return None
    local = moment.astimezone(req.render.zone)
    return f"{local.day:02d}/{local:%b}/{local:%y} {local.hour % 12 or 12}:{local:%M %p}"


def _rendered(sb: JiraSandbox, req: Request, issue: Issue,
              fields: dict[str, Any]) -> dict[str, Any]:
    moments = {"created": issue.created, "updated": issue.updated,
               "resolutiondate": issue.resolved, "lastViewed": None,
               "statuscategorychangedate": issue.updated}
    out: dict[str, Any] = {}
    for name in fields:
        if name in _DATES:
            out[name] = display_time(moments[name], req)
        elif name == "description":
            out[name] = to_html(issue.extra.get("description"))
        elif name == "environment":
            out[name] = None
        elif name == "comment":
            comments = sb.data.extras.comments(issue)
            out[name] = {**fields[name], "comments": [
                comment_json(sb, req, issue, c) | {"body": to_html(c.body)}
                for c in comments]}
        elif name in ("worklog", "timetracking", "attachment", "duedate"):
            out[name] = fields[name] if name != "duedate" else None
        else:
            out[name] = None
    return out


def _operations(sb: JiraSandbox, issue: Issue) -> dict[str, Any]:
    base = f"{sb.url}/secure"

    def link(ident: str, label: str, href: str, weight: int) -> dict[str, Any]:
        return {"id": ident, "styleClass": "", "iconClass": "", "label": label, "title": label,
                "href": href, "weight": weight}

    return {"linkGroups": [
        {"id": "view.issue.opsbar", "links": [
            link("edit-issue", "Edit", f"{base}/EditIssue!default.jspa?id={issue.id}", 1),
            link("comment-issue", "Comment", f"{base}/AddComment!default.jspa?id={issue.id}",
                 10)], "groups": []},
        {"id": "jira.issue.tools", "links": [
            link("log-work", "Log work", f"{base}/CreateWorklog!default.jspa?id={issue.id}",
                 10)], "groups": []}]}
