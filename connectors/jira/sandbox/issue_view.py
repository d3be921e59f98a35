"""Issues as Jira serves them: field selection, the complete field set and ``expand``.

``fields`` (jira-api.md §2, Jira's "fields" parameter): ``*all`` is every field,
``*navigable`` the navigable ones (the search default; GET issue defaults to ``*all``),
explicit ids pick fields, ``-id`` removes one (``*all,-comment``). ``expand`` adds
``changelog``, ``renderedFields`` (HTML), ``names``, ``schema``, ``transitions``,
``operations`` and ``editmeta``. Fields computed from comments, worklogs, versions and
components are only built when selected, so id-and-date pulls stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.catalog import field_ids
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.extras import Comment, Worklog, duration
from connectors.jira.sandbox.render import jira_time
from connectors.jira.sandbox.richtext import for_version, to_html
from connectors.jira.sandbox.routing import Request

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

_EXTRA = {"comment", "worklog", "attachment", "timetracking", "timespent", "timeestimate",
          "timeoriginalestimate", "aggregatetimespent", "aggregatetimeestimate",
          "aggregatetimeoriginalestimate", "progress", "aggregateprogress", "workratio",
          "watches", "votes", "environment", "lastViewed", "security", "fixVersions",
          "versions", "components", "subtasks", "issuerestriction"}
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


def selected(sb: JiraSandbox, issue: Issue, wanted: set[str] | None) -> set[str] | None:
    """Field ids to serve; ``None`` = every navigable field (the fast common case)."""
    if wanted is None:
        return None
    tokens = {w for w in wanted if w.startswith("*")}
    excluded = {w[1:] for w in wanted if w.startswith("-")}
    names = {w for w in wanted if not w.startswith(("*", "-"))}
    if "*all" in tokens or "*navigable" in tokens or (excluded and not names):
        names |= field_ids(sb.cloud, sb.data.fields, "*all" not in tokens)
        names |= {k for k in issue.extra if k.startswith("customfield_")}
    return names - excluded


def issue_fields(sb: JiraSandbox, req: Request, issue: Issue,
                 names: set[str] | None) -> dict[str, Any]:
    """The ``fields`` object for ``names`` (``None`` = all navigable)."""
    base = req.render.issue_fields(issue, sb.data.projects[issue.project], sb.data.sprints)
    wanted_extra = _EXTRA if names is None else names & _EXTRA
    if not sb.cloud:
        wanted_extra = wanted_extra - {"issuerestriction"}
    if names is None:
        wanted_extra = {n for n in wanted_extra if n not in
                        ("comment", "worklog", "attachment", "timetracking",
                         "issuerestriction")}
    if wanted_extra:
        base.update(_extra_fields(sb, req, issue, wanted_extra))
    if names is None:
        return base
    return {k: v for k, v in base.items() if k in names}


def _extra_fields(sb: JiraSandbox, req: Request, issue: Issue,
                  names: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    api = f"{sb.url}/rest/api/{req.version}/issue/{issue.key}"
    if names & {"comment"}:
        comments = sb.data.extras.comments(issue)
        out["comment"] = {"comments": [comment_json(sb, req, issue, c) for c in comments],
                          "self": f"{sb.url}/rest/api/{req.version}/issue/{issue.id}/comment",
                          "maxResults": len(comments), "total": len(comments), "startAt": 0}
    spent = None
    if names & {"worklog", "timetracking", "timespent", "aggregatetimespent", "progress",
                "aggregateprogress"}:
        worklogs = sb.data.extras.worklogs(issue)
        spent = sum(w.seconds for w in worklogs) or None
        if "worklog" in names:
            out["worklog"] = {"startAt": 0, "maxResults": 20, "total": len(worklogs),
                              "worklogs": [worklog_json(sb, req, issue, w)
                                           for w in worklogs[:20]]}
    out["timetracking"] = {"timeSpent": duration(spent), "timeSpentSeconds": spent} \
        if spent else {}
    out["timespent"] = out["aggregatetimespent"] = spent
    out["timeestimate"] = out["aggregatetimeestimate"] = None
    out["timeoriginalestimate"] = out["aggregatetimeoriginalestimate"] = None
    progress = {"progress": spent, "total": spent, "percent": 100} if spent else \
        {"progress": 0, "total": 0}
    out["progress"], out["aggregateprogress"] = progress, dict(progress)
    out["workratio"] = -1
    out["attachment"] = list(issue.extra.get("attachments", []))
    out["watches"] = {"self": f"{api}/watchers", "isWatching": False,
                      "watchCount": len(watcher_indexes(issue))}
    out["votes"] = {"self": f"{api}/votes", "votes": 0, "hasVoted": False}
    out["environment"] = out["lastViewed"] = None
    level = issue.extra.get("security")
    out["security"] = {"self": f"{sb.url}/rest/api/{req.version}/securitylevel/{level['id']}",
                       **level} if level else None
    out["issuerestriction"] = {"issuerestrictions": {}, "shouldDisplay": False}
    if names & {"fixVersions", "versions", "components"}:
        comps, affects, fixes = sb.data.extras.issue_links(issue)
        versions = {v["id"]: v for v in sb.data.extras.versions(issue.project)}
        components = {c["id"]: c for c in sb.data.extras.components(issue.project)}
        out["components"] = [component_ref(sb, req, components[c]) for c in comps]
        out["versions"] = [version_json(sb, req, versions[v]) for v in affects]
        out["fixVersions"] = [version_json(sb, req, versions[v]) for v in fixes]
    if "subtasks" in names:
        out["subtasks"] = [_subtask(sb, req, child) for child in _children(sb, issue.key)]
    return {k: v for k, v in out.items() if k in names}


def watcher_indexes(issue: Issue) -> list[int]:
    """Who watches an issue: its assignee (if any) and its reporter."""
    return sorted({p for p in (issue.assignee, issue.reporter) if p is not None})


def _children(sb: JiraSandbox, key: str) -> list[Issue]:
    data = sb.data
    cached = getattr(data, "_children", None)
    if cached is None or cached[0] != data.version:
        index: dict[str, list[Issue]] = {}
        for issue in data.iter_issues():
            if issue.parent:
                index.setdefault(issue.parent, []).append(issue)
        cached = (data.version, index)
        data._children = cached  # type: ignore[attr-defined]
    return sorted(cached[1].get(key, []), key=lambda i: i.number)


def _subtask(sb: JiraSandbox, req: Request, child: Issue) -> dict[str, Any]:
    return {"id": str(child.id), "key": child.key,
            "self": f"{sb.url}/rest/api/{req.version}/issue/{child.id}",
            "fields": {"summary": child.summary, "status": req.render.status(child.status),
                       "priority": req.render.issue_fields(
                           child, sb.data.projects[child.project], {})["priority"],
                       "issuetype": req.render.issue_type(child.type)}}


def version_json(sb: JiraSandbox, req: Request, version: dict[str, Any]) -> dict[str, Any]:
    """A version object (``self`` first, as Jira orders it)."""
    body = {"self": f"{sb.url}/rest/api/{req.version}/version/{version['id']}", **version}
    if not version["released"]:
        body["overdue"] = False
    return body


def component_ref(sb: JiraSandbox, req: Request, comp: dict[str, Any]) -> dict[str, Any]:
    """A component as an issue field carries it."""
    return {"self": f"{sb.url}/rest/api/{req.version}/component/{comp['id']}",
            "id": comp["id"], "name": comp["name"], "description": comp["description"]}


def comment_json(sb: JiraSandbox, req: Request, issue: Issue, c: Comment,
                 rendered: bool = False) -> dict[str, Any]:
    """One comment as the deployment and API version render it."""
    author = req.render.user(c.author)
    body: dict[str, Any] = {
        "self": f"{sb.url}/rest/api/{req.version}/issue/{issue.id}/comment/{c.id}",
        "id": str(c.id), "author": author,
        "body": for_version(c.body, sb.cloud and req.version == "3"),
        "updateAuthor": author, "created": jira_time(c.created, req.render.zone),
        "updated": jira_time(c.updated, req.render.zone)}
    if sb.cloud:
        body["jsdPublic"] = True
    if rendered:
        body["renderedBody"] = to_html(c.body)
    return body


def worklog_json(sb: JiraSandbox, req: Request, issue: Issue, w: Worklog) -> dict[str, Any]:
    """One worklog entry."""
    author = req.render.user(w.author)
    body: dict[str, Any] = {
        "self": f"{sb.url}/rest/api/{req.version}/issue/{issue.id}/worklog/{w.id}",
        "author": author, "updateAuthor": author,
        "created": jira_time(w.created, req.render.zone),
        "updated": jira_time(w.created, req.render.zone),
        "started": jira_time(w.started, req.render.zone), "timeSpent": duration(w.seconds),
        "timeSpentSeconds": w.seconds, "id": str(w.id), "issueId": str(issue.id)}
    if w.comment not in (None, ""):
        body["comment"] = for_version(w.comment, sb.cloud and req.version == "3")
    return body
