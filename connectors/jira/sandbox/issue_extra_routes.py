"""Issue transitions, comments and worklogs.

Transitions (Jira REST "Issues: transitions"): ``GET`` lists the moves available now,
``POST {"transition": {"id"}}`` answers 204, changes the status (resolution set or cleared
with it) and writes a changelog entry authored by the calling account; ``update.comment``
and ``update.worklog`` ride along. Comments and worklogs page with ``startAt``,
``maxResults`` and ``total``; bodies are wiki text on ``/2`` and ADF on ``/3``. Writes
appear in ``sandbox.writes``; the ones Jira would e-mail watchers about (every comment and
transition; edits unless ``notifyUsers=false``) in ``sandbox.notifications``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.accounts import actor
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.extras import parse_duration
from connectors.jira.sandbox.issue_view import comment_json, worklog_json
from connectors.jira.sandbox.routing import (
    ISSUE_NOT_FOUND,
    Reply,
    Request,
    error,
    forbid_viewer,
    register,
)
from connectors.jira.sandbox.workflow import transition_target, transitions_json
from connectors.jira.sandbox.write_routes import _rich_text_problem

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

ISSUE = r"/rest/api/(?:2|3|latest)/issue/([^/]+)"
_NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


def notify(sb: JiraSandbox, req: Request, key: str, kind: str) -> None:
    """Record that Jira would notify watchers, unless the caller said ``notifyUsers=false``."""
    flag = req.arg("notifyUsers")
    if flag is None and isinstance(req.body, dict):
        flag = req.body.get("notifyUsers")
    if str(flag).lower() != "false":
        sb.notifications.append((key, kind))


def _page(req: Request, values: list[Any], default: int) -> tuple[int, int, list[Any]]:
    start = max(0, req.int_arg("startAt", 0))
    size = max(0, min(req.int_arg("maxResults", default), 5000))
    return start, size, values[start:start + size]


@register("GET", f"{ISSUE}/transitions")
def list_transitions(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Transitions available on the issue (``transitionId`` narrows to one)."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    expand = req.arg("expand", "") or ""
    body = transitions_json(sb, req, issue, with_fields="transitions.fields" in expand,
                            only=req.arg("transitionId"))
    return Reply(200, {"expand": "transitions", "transitions": body})


@register("POST", f"{ISSUE}/transitions")
def do_transition(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Move the issue to the transition's status → 204."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if req.role == "viewer":
        return error(403, "You do not have permission to transition this issue.")
    body = req.body if isinstance(req.body, dict) else {}
    transition_id = str((body.get("transition") or {}).get("id") or "")
    if not transition_id:
        return error(400, "Missing 'transition' identifier")
    target = transition_target(transition_id)
    if target is None or target == issue.status:
        return error(400, f"Transition id '{transition_id}' is not valid for this issue.")
    fields = dict(body.get("fields") or {})
    bad = {k: _NOT_ON_SCREEN.format(k) for k in fields
           if k != "resolution" or target != "10002"}
    if bad:
        return error(400, errors=bad)
    update = body.get("update") or {}
    comments = [op["add"]["body"] for op in update.get("comment") or []
                if isinstance(op, dict) and isinstance(op.get("add"), dict)]
    for text in comments:
        if (problem := _rich_text_problem(req, text, "comment")) is not None:
            return problem
    spent = [parse_duration(op["add"].get("timeSpent")) for op in update.get("worklog") or []
             if isinstance(op, dict) and isinstance(op.get("add"), dict)]
    if any(s is None for s in spent):
        return error(400, errors={"timeLogged": "Invalid time duration entered."})
    now = sb.now()
    who = actor(req.role)
    sb.data.update_issue(issue.key, now, status=target, author=who)
    for text in comments:
        sb.data.extras.add_comment(issue, who, text, now)
    for seconds in spent:
        sb.data.extras.add_worklog(issue, who, seconds or 0, None, now, now)
    sb.writes.append(("transition", issue.key, body))
    sb.notifications.append((issue.key, "transition"))
    return Reply(204)


def _ordered(comments: list[Any], order: str | None) -> list[Any]:
    ordered = sorted(comments, key=lambda c: (c.created, c.id))
    return ordered[::-1] if (order or "").startswith("-") else ordered


@register("GET", f"{ISSUE}/comment")
def list_comments(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Comments, paged (``startAt``, ``maxResults``; ``orderBy=-created`` newest first)."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    comments = _ordered(sb.data.extras.comments(issue), req.arg("orderBy"))
    start, size, page = _page(req, comments, 5000)
    rendered = "renderedBody" in (req.arg("expand", "") or "")
    return Reply(200, {"startAt": start, "maxResults": size, "total": len(comments),
                       "comments": [comment_json(sb, req, issue, c, rendered) for c in page]})


@register("POST", f"{ISSUE}/comment")
def add_comment(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Add a comment by the calling account → 201 with the comment."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if (denied := forbid_viewer(req)) is not None:
        return denied
    body = (req.body or {}).get("body") if isinstance(req.body, dict) else None
    if body in (None, ""):
        return error(400, errors={"comment": "Comment body can not be empty!"})
    if (bad := _rich_text_problem(req, body, "comment")) is not None:
        return bad
    comment = sb.data.extras.add_comment(issue, actor(req.role), body, sb.now())
    sb.writes.append(("comment", issue.key, body))
    sb.notifications.append((issue.key, "comment"))
    return Reply(201, comment_json(sb, req, issue, comment))


def _find_comment(sb: JiraSandbox, issue: Issue, comment_id: str) -> Any:
    return next((c for c in sb.data.extras.comments(issue) if str(c.id) == comment_id), None)


@register("GET", f"{ISSUE}/comment/(\\d+)")
def get_comment(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One comment."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    comment = _find_comment(sb, issue, m.group(2))
    if comment is None:
        return error(404, f"Can not find a comment for the id: {m.group(2)}.")
    return Reply(200, comment_json(sb, req, issue, comment))


@register("GET", f"{ISSUE}/worklog")
def list_worklogs(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Worklogs, paged by ``startAt``/``maxResults``, oldest first."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    worklogs = sb.data.extras.worklogs(issue)
    start, size, page = _page(req, worklogs, 5000)
    return Reply(200, {"startAt": start, "maxResults": size, "total": len(worklogs),
                       "worklogs": [worklog_json(sb, req, issue, w) for w in page]})


def _started(value: Any, default: datetime) -> datetime | None:
    if value in (None, ""):
        return default
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(str(value), pattern)
        except ValueError:
            continue
    return None


@register("POST", f"{ISSUE}/worklog")
def add_worklog(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Log work (``timeSpent`` or ``timeSpentSeconds``, optional ``started``) → 201."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if (denied := forbid_viewer(req)) is not None:
        return denied
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("timeSpentSeconds") not in (None, ""):
        try:
            seconds: int | None = int(body["timeSpentSeconds"])
        except (TypeError, ValueError):
            seconds = None
    elif body.get("timeSpent") not in (None, ""):
        seconds = parse_duration(body["timeSpent"])
    else:
        return error(400, errors={"timeLogged": "You must indicate the time spent working."})
    if not seconds or seconds < 60:
        return error(400, errors={"timeLogged": "Invalid time duration entered."})
    now = sb.now()
    started = _started(body.get("started"), now)
    if started is None:
        return error(400, errors={"started": "Invalid date format. Please enter the date in "
                                             "the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."})
    if (bad := _rich_text_problem(req, body.get("comment"), "comment")) is not None:
        return bad
    worklog = sb.data.extras.add_worklog(issue, actor(req.role), seconds, body.get("comment"),
                                         started, now)
    sb.writes.append(("worklog", issue.key, body))
    notify(sb, req, issue.key, "worklog")
    return Reply(201, worklog_json(sb, req, issue, worklog))
