"""Platform REST routes of the sandbox: server info, user, fields, statuses, search, changelogs.

Cloud (jira-api.md §2.1–2.2, §3): ``/search/jql`` with opaque ``nextPageToken``, no
``total``, ``id``-only default fields, 5000/100 page caps, embedded changelogs capped at 40
with a truthful ``changelog.total``, ``reconcileIssues`` (at most 50 ids) seeing through an
optional index lag; legacy ``/search`` → 410 with the exact body;
approximate count, issue and changelog bulk fetch, paged ``/issue/{id}/changelog``.
Data Center (§2.3): ``/search`` with ``startAt``/``total`` and a silent cap of 100 echoed in
``maxResults``; full embedded changelogs; no Cloud-only endpoints; optionally the old
Server sprint field of strings (§5.2).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.accounts import account_user, actor
from connectors.jira.sandbox.catalog import all_fields
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.issue_expand import hoist_names_schema, issue_body
from connectors.jira.sandbox.jql import JqlError, Parser, sort_key
from connectors.jira.sandbox.render import jira_time, sprint_string
from connectors.jira.sandbox.routing import ISSUE_NOT_FOUND, Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

CHANGELOG_EMBED_CAP = 40
DC_MAX_RESULTS = 100
REMOVED_SEARCH = ("The requested API has been removed. Please migrate to the "
                  "/rest/api/3/search/jql API. A full migration guideline is available at "
                  "https://developer.atlassian.com/changelog/#CHANGE-2046")
UNBOUNDED = ("Unbounded JQL queries are not allowed here. Please add a search restriction "
             "to your query.")


@register("GET", r"/rest/api/(?:2|3|latest)/serverInfo")
def server_info(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Deployment type and version numbers (the jira library needs both)."""
    version = [1001, 0, 0] if sb.cloud else [9, 12, 2]
    return Reply(200, {
        "baseUrl": sb.url, "version": ".".join(map(str, version)) +
        ("-SNAPSHOT" if sb.cloud else ""), "versionNumbers": version,
        "deploymentType": "Cloud" if sb.cloud else "Server", "buildNumber": 100280,
        "buildDate": "2024-05-01T00:00:00.000+0000",
        "serverTime": jira_time(sb.now(), req.render.zone),
        "scmInfo": "a1b2c3d", "serverTitle": "Jira", "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC"})


@register("GET", r"/rest/api/(?:2|3|latest)/myself")
def myself(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """The calling account, with its profile time zone."""
    body = account_user(actor(req.role), sb.url, req.version, sb.cloud, str(sb.zone))
    body["groups"] = {"size": 1, "items": []}
    body["applicationRoles"] = {"size": 1, "items": []}
    if not sb.cloud:
        body["expand"] = "groups,applicationRoles"
    return Reply(200, body)


@register("GET", r"/rest/api/(?:2|3|latest)/field")
def fields(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """The field list (custom field ids differ between Cloud and Data Center)."""
    return Reply(200, all_fields(sb.cloud, sb.data.fields))


@register("GET", r"/rest/api/(?:2|3|latest)/status")
def statuses(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """All statuses with their categories."""
    return Reply(200, req.render.statuses())


@register("GET", r"/rest/api/(?:2|3|latest)/statuscategory")
def status_categories(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """The four status categories."""
    return Reply(200, [req.render.category(k)
                       for k in ("undefined", "new", "done", "indeterminate")])


# -- search ---------------------------------------------------------------------------


def run_jql(sb: JiraSandbox, req: Request, jql: str, *, require_bound: bool) -> list[Issue]:
    """Evaluate JQL against the data set; raises :class:`JqlError`.

    Results are remembered until the next mutation (and for at most the current minute,
    JQL's resolution, for relative dates): paging a result set page by page would
    otherwise evaluate and sort every issue once per page. The list returned is shared;
    callers only slice it.
    """
    data = sb.data
    now = sb.now()
    key = (jql, str(req.render.zone), require_bound, data.version,
           now.replace(second=0, microsecond=0), req.role)
    cached = data.query_cache.get(key)
    if cached is not None:
        return cached
    sprints = {s.name.lower(): s.id for s in data.sprints.values()}
    # The caller's account is currentUser(); histories, sprints and people come from data.
    query = Parser(req.render.zone, now, set(data.projects), sprints, data=data,
                   user=actor(req.role), cloud=sb.cloud).parse(jql)
    if query.where is None and require_bound:
        raise JqlError(UNBOUNDED)
    where = query.where
    ordered = _ordered_issues(data, query.order or (("created", True),))
    issues = ordered if where is None else [i for i in ordered if where(i)]
    with data.lock:
        if len(data.query_cache) >= 8:
            data.query_cache.pop(next(iter(data.query_cache)))
        data.query_cache[key] = issues
    return issues


def _ordered_issues(data: Any, order: tuple[tuple[str, bool], ...]) -> list[Issue]:
    """Every issue sorted by ``order`` (then id), kept until the next mutation."""
    key = (order, data.version)
    cached = data.order_cache.get(key)
    if cached is None:
        by = sort_key(order)
        cached = sorted(data.iter_issues(), key=lambda i: (by(i), i.id))
        with data.lock:
            if len(data.order_cache) >= 4:
                data.order_cache.pop(next(iter(data.order_cache)))
            data.order_cache[key] = cached
    return cached


def wanted_fields(value: Any, default: set[str] | None) -> set[str] | None:
    """The ``fields`` parameter as a set of ids, ``*all``/``*navigable`` and ``-id`` tokens.

    ``None`` (all navigable fields) or ``default`` when the parameter is absent.
    """
    if value in (None, "", []):
        return default
    names = value if isinstance(value, list) else str(value).split(",")
    picked = {n.strip() for n in names if n.strip()}
    return picked or default


def render_issue(sb: JiraSandbox, req: Request, issue: Issue, wanted: set[str] | None,
                 expand: str) -> dict[str, Any]:
    """One issue for search or GET, with the changelog when expanded."""
    if wanted == {"id"}:
        return {"id": str(issue.id)}
    cap = CHANGELOG_EMBED_CAP if sb.cloud else None
    body = issue_body(sb, req, issue, wanted, expand, cap)
    field_id = sb.data.fields.sprint
    if sb.data.sprint_strings and not sb.cloud and (body.get("fields") or {}).get(field_id):
        body["fields"][field_id] = [sprint_string(sb.data.sprints[s]) for s in issue.sprints
                                    if s in sb.data.sprints]
    return body


def _params(req: Request) -> dict[str, Any]:
    if req.method == "POST" and isinstance(req.body, dict):
        return req.body
    # Jira takes list parameters repeated (fields=a&fields=b, as the jira library sends
    # them) or comma-separated.
    return {k: ",".join(v) if k in ("fields", "expand") else v[0]
            for k, v in req.query.items()}


def _hash(jql: str) -> str:
    return hashlib.sha1(jql.encode(), usedforsecurity=False).hexdigest()[:8]


def _token(offset: int, jql: str) -> str:
    raw = json.dumps({"o": offset, "h": _hash(jql)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(token: str, jql: str) -> int | None:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, dict) or raw.get("h") != _hash(jql):
            return None
        return int(raw.get("o", 0))
    except (ValueError, TypeError):
        return None


@register("GET", r"/rest/api/(?:2|3|latest)/search", scope="cloud")
def legacy_search_get(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Removed on Cloud (CHANGE-2046)."""
    return error(410, REMOVED_SEARCH)


register("POST", r"/rest/api/(?:2|3|latest)/search", scope="cloud")(legacy_search_get)
register("POST", r"/rest/api/(?:2|3|latest)/search/id", scope="cloud")(legacy_search_get)


@register("GET", r"/rest/api/(?:2|3)/search/jql", scope="cloud")
def search_jql(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Cloud enhanced search: token paging, no total."""
    params = _params(req)
    jql = str(params.get("jql") or "")
    reconcile = _reconcile_ids(req.query.get("reconcileIssues") if req.method == "GET"
                               else params.get("reconcileIssues"))
    if reconcile is None:
        return error(400, "reconcileIssues must be a list of at most 50 issue ids.")
    try:
        issues = run_jql(sb, req, jql, require_bound=True)
    except JqlError as exc:
        return error(400, str(exc))
    if sb.data.index_lag_s:
        # Search is eventually consistent: fresh updates are not indexed yet unless the
        # caller names them in reconcileIssues (§2.1).
        indexed_until = sb.now() - timedelta(seconds=sb.data.index_lag_s)
        issues = [i for i in issues if i.updated <= indexed_until or i.id in reconcile]
    wanted = wanted_fields(params.get("fields"), {"id"})
    expand = params.get("expand") or ""
    expand = ",".join(expand) if isinstance(expand, list) else str(expand)
    cap = 5000 if wanted is not None and wanted <= {"id", "key"} else 100
    try:
        size = max(0, min(int(params.get("maxResults") or 50), cap))
    except (TypeError, ValueError):
        return error(400, "The value for maxResults is invalid.")
    token = params.get("nextPageToken")
    offset = 0
    if token:
        decoded = _offset(str(token), jql)
        if decoded is None:
            return error(400, "The provided next page token is invalid or expired.")
        offset = decoded
    page = issues[offset:offset + size]
    body: dict[str, Any] = {"issues": [render_issue(sb, req, i, wanted, expand) for i in page]}
    body.update(hoist_names_schema(body["issues"]))
    if offset + size < len(issues):
        body["nextPageToken"] = str(token) if token and sb.take_repeat_token() \
            else _token(offset + size, jql)
        body["isLast"] = False
    else:
        body["isLast"] = True
    _run_hooks(sb)
    return Reply(200, body)


register("POST", r"/rest/api/(?:2|3)/search/jql", scope="cloud")(search_jql)


def _reconcile_ids(value: Any) -> set[int] | None:
    """``reconcileIssues`` (a JSON list, or comma-separated in a GET); ``None`` if invalid."""
    if value in (None, "", []):
        return set()
    items = value if isinstance(value, list) else [value]
    try:
        ids = {int(part) for v in items for part in str(v).split(",") if part.strip()}
    except ValueError:
        return None
    return ids if len(ids) <= 50 else None


def _run_hooks(sb: JiraSandbox) -> None:
    while sb.search_hooks:
        sb.search_hooks.pop(0)(sb)


@register("GET", r"/rest/api/(?:2|latest)/search", scope="datacenter")
def search_dc(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Data Center search: offset paging with total and a silent page cap."""
    params = _params(req)
    jql = str(params.get("jql") or "")
    try:
        issues = run_jql(sb, req, jql, require_bound=False)
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), DC_MAX_RESULTS)
    except JqlError as exc:
        return error(400, str(exc))
    except (TypeError, ValueError):
        return error(400, "The value for startAt or maxResults is invalid.")
    wanted = wanted_fields(params.get("fields"), None)
    expand = params.get("expand") or ""
    expand = ",".join(expand) if isinstance(expand, list) else str(expand)
    page = issues[start:start + size]
    body = {"expand": "schema,names", "startAt": start, "maxResults": size,
            "total": len(issues),
            "issues": [render_issue(sb, req, i, wanted, expand) for i in page]}
    body.update(hoist_names_schema(body["issues"]))
    _run_hooks(sb)
    return Reply(200, body)


register("POST", r"/rest/api/(?:2|latest)/search", scope="datacenter")(search_dc)


@register("POST", r"/rest/api/(?:2|3)/search/approximate-count", scope="cloud")
def approximate_count(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Count matching issues."""
    jql = str((req.body or {}).get("jql") or "")
    try:
        return Reply(200, {"count": len(run_jql(sb, req, jql, require_bound=True))})
    except JqlError as exc:
        return error(400, str(exc))


@register("POST", r"/rest/api/(?:2|3)/issue/bulkfetch", scope="cloud")
def issue_bulkfetch(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Up to 100 issues by id or key."""
    body = req.body or {}
    ids = list(body.get("issueIdsOrKeys") or [])
    if not ids or len(ids) > 100:
        return error(400, "issueIdsOrKeys must contain between 1 and 100 items.")
    wanted = wanted_fields(body.get("fields"), None)
    expand = ",".join(body.get("expand") or [])
    issues, errors = [], []
    for value in ids:
        issue = sb.data.find(str(value))
        if issue is None:
            errors.append(str(value))
        else:
            issues.append(render_issue(sb, req, issue, wanted, expand))
    return Reply(200, {"expand": "schema,names", "issues": issues,
                       "issueErrors": [{"issueIdOrKey": e, "errorMessages": [ISSUE_NOT_FOUND],
                                        "errors": {}} for e in errors]})


@register("GET", r"/rest/api/(?:2|3|latest)/issue/([^/]+)")
def get_issue(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One issue (all fields unless ``fields`` is given)."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    # GET issue defaults to every field (*all), search to the navigable ones.
    wanted = wanted_fields(",".join(req.query.get("fields") or []), {"*all"})
    return Reply(200, render_issue(sb, req, issue, wanted,
                                   ",".join(req.query.get("expand") or [])))


@register("GET", r"/rest/api/(?:2|3)/issue/([^/]+)/changelog", scope="cloud")
def issue_changelog(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One issue's changelog, paged by ``startAt`` (at most 100 per page)."""
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    histories = sb.data.histories(issue)
    start = req.int_arg("startAt", 0)
    size = max(1, min(req.int_arg("maxResults", 100), 100))
    page = histories[start:start + size]
    return Reply(200, {"self": f"{sb.url}{req.path}", "maxResults": size, "startAt": start,
                       "total": len(histories), "isLast": start + size >= len(histories),
                       "values": [req.render.history(h) for h in page]})


@register("POST", r"/rest/api/(?:2|3)/changelog/bulkfetch", scope="cloud")
def changelog_bulkfetch(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Changelogs of up to 1000 issues, paged by token over all their histories."""
    body = req.body or {}
    ids = [str(v) for v in body.get("issueIdsOrKeys") or []]
    if not ids or len(ids) > 1000:
        return error(400, "issueIdsOrKeys must contain between 1 and 1000 items.")
    field_ids = set(body.get("fieldIds") or [])
    size = max(1, min(int(body.get("maxResults") or 1000), 1000))
    flat: list[tuple[str, Any]] = []
    for value in ids:
        issue = sb.data.find(value)
        if issue is None:
            continue
        for history in sb.data.histories(issue):
            if field_ids and not any(item[2] in field_ids for item in history.items):
                continue
            flat.append((str(issue.id), history))
    key = ",".join(ids)
    offset = _offset(str(body["nextPageToken"]), key) if body.get("nextPageToken") else 0
    if offset is None:
        return error(400, "The provided next page token is invalid or expired.")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for issue_id, history in flat[offset:offset + size]:
        grouped.setdefault(issue_id, []).append(req.render.history(history))
    reply: dict[str, Any] = {"issueChangeLogs": [
        {"issueId": issue_id, "changeHistories": values} for issue_id, values in grouped.items()]}
    if offset + size < len(flat):
        reply["nextPageToken"] = _token(offset + size, key)
    return Reply(200, reply)
