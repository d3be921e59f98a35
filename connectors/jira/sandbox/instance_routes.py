"""Instance-wide routes: types, priorities, resolutions, link types, users, settings.

Also Cloud's paged field and filter searches, application properties and the locale.

Users (Jira REST "User search"): Cloud finds people with ``query`` (display name or email
prefix, word by word) and identifies them by ``accountId``; Data Center takes ``username``
(matching name, display name or email) and names users by ``name``/``key``. Cloud's
``users/search`` lists everyone, paged. Filters are the boards' saved filters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.catalog import LINK_TYPES, PRIORITIES, RESOLUTIONS, all_fields
from connectors.jira.sandbox.data import ISSUE_TYPES
from connectors.jira.sandbox.routing import Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

API = r"/rest/api/(?:2|3|latest)"


def _paged(sb: JiraSandbox, req: Request, values: list[Any], cap: int = 50) -> Reply:
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), cap))
    return Reply(200, {"self": f"{sb.url}{req.path}", "maxResults": size, "startAt": start,
                       "total": len(values), "isLast": start + size >= len(values),
                       "values": values[start:start + size]})


@register("GET", f"{API}/issuetype")
def issue_types(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every issue type."""
    return Reply(200, [req.render.issue_type(name) for name in ISSUE_TYPES])


@register("GET", f"{API}/issuetype/(\\d+)")
def issue_type(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One issue type by id."""
    name = next((n for n, v in ISSUE_TYPES.items() if v[0] == m.group(1)), None)
    if name is None:
        return error(404, f"The issue type with id '{m.group(1)}' does not exist.")
    return Reply(200, req.render.issue_type(name))


def priority_json(sb: JiraSandbox, req: Request, row: tuple[str, str, str]) -> dict[str, Any]:
    """A priority object."""
    pid, name, colour = row
    return {"self": f"{sb.url}/rest/api/{req.version}/priority/{pid}", "statusColor": colour,
            "description": f"{name} priority", "iconUrl":
            f"{sb.url}/images/icons/priorities/{name.lower()}.svg", "name": name, "id": pid}


@register("GET", f"{API}/priority")
def priorities(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every priority, highest first."""
    return Reply(200, [priority_json(sb, req, row) for row in PRIORITIES])


@register("GET", f"{API}/resolution")
def resolutions(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every resolution."""
    return Reply(200, [{"self": f"{sb.url}/rest/api/{req.version}/resolution/{rid}",
                        "id": rid, "description": text, "name": name}
                       for rid, name, text in RESOLUTIONS])


@register("GET", f"{API}/issueLinkType")
def link_types(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every issue link type."""
    return Reply(200, {"issueLinkTypes": [
        {"id": lid, "name": name, "inward": inward, "outward": outward,
         "self": f"{sb.url}/rest/api/{req.version}/issueLinkType/{lid}"}
        for lid, name, inward, outward in LINK_TYPES]})


def _matches(sb: JiraSandbox, index: int, text: str) -> bool:
    person = sb.world.people[index]
    words = person.display_name.lower().split() + [person.email.lower()]
    if not sb.cloud:
        words.append(person.user_name.lower())
    return any(w.startswith(text) for w in words) or person.display_name.lower() \
        .startswith(text)


@register("GET", f"{API}/user/search")
def user_search(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """People matching ``query`` (Cloud) or ``username`` (Data Center), a plain list."""
    if sb.cloud:
        text = req.arg("query")
        if not text and not req.arg("accountId"):
            return error(400, "The query parameter 'query' or 'accountId' is required.")
    else:
        text = req.arg("username")
        if not text:
            return error(400, "The username query parameter was not provided")
    found = list(range(len(sb.world.people)))
    if not sb.cloud and text == ".":
        text = None  # Data Center's well-known "username=." lists every user
    if req.arg("accountId"):
        found = [i for i in found if sb.world.people[i].jira_account_id == req.arg("accountId")]
    if text:
        found = [i for i in found if _matches(sb, i, text.strip().lower())]
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 1000))
    return Reply(200, [req.render.user(i) for i in found[start:start + size]])


@register("GET", f"{API}/users/search", scope="cloud")
def users_search(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Every user, paged by ``startAt``/``maxResults``, a plain list."""
    start = max(0, req.int_arg("startAt", 0))
    size = max(1, min(req.int_arg("maxResults", 50), 1000))
    people = range(len(sb.world.people))
    return Reply(200, [req.render.user(i) for i in people[start:start + size]])


@register("GET", f"{API}/user")
def user(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """One user by ``accountId`` (Cloud) or ``username``/``key`` (Data Center)."""
    people = sb.world.people
    if sb.cloud:
        wanted = req.arg("accountId") or ""
        index = next((i for i, p in enumerate(people) if p.jira_account_id == wanted), None)
        if index is None:
            return error(404, f"Specified user does not exist or you do not have required "
                              f"permissions (accountId: {wanted})")
    else:
        name, key = req.arg("username") or "", req.arg("key") or ""
        index = next((i for i, p in enumerate(people) if p.user_name == name
                      or f"JIRAUSER{10000 + i}" == key), None)
        if index is None:
            return error(404, f"The user named '{name or key}' does not exist")
    return Reply(200, req.render.user(index))


@register("GET", f"{API}/field/search", scope="cloud")
def field_search(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Fields paged, filtered by ``type`` (system|custom), ``id`` and ``query``."""
    kinds = set((req.arg("type") or "system,custom").split(","))
    ids = {i for v in req.query.get("id", []) for i in v.split(",") if i}
    query = (req.arg("query") or "").lower()
    values = []
    for field in all_fields(True, sb.data.fields):
        if ("custom" if field["custom"] else "system") not in kinds:
            continue
        if ids and field["id"] not in ids or query and query not in field["name"].lower():
            continue
        values.append({**field, "description": "", "isLocked": not field["custom"]})
    return _paged(sb, req, values)


def filter_json(sb: JiraSandbox, req: Request, board_id: int) -> dict[str, Any]:
    """A board's saved filter."""
    board = sb.data.boards[board_id]
    fid = 10000 + board_id
    jql = f"project = {board.project_key} ORDER BY Rank ASC"
    return {"expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,"
                      "sharePermissions,editPermissions,isWritable,subscriptions",
            "self": f"{sb.url}/rest/api/{req.version}/filter/{fid}", "id": str(fid),
            "name": f"Filter for {board.name}", "owner": req.render.user(-1), "jql": jql,
            "viewUrl": f"{sb.url}/issues/?filter={fid}",
            "searchUrl": f"{sb.url}/rest/api/{req.version}/search?jql={jql}",
            "favourite": False, "favouritedCount": 0, "sharePermissions": [],
            "editPermissions": [], "isWritable": True}


@register("GET", f"{API}/filter/search", scope="cloud")
def filter_search(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Filters paged, by ``filterName`` (contains) and ``id``."""
    name = (req.arg("filterName") or "").lower()
    ids = {i for v in req.query.get("id", []) for i in v.split(",") if i}
    values = [filter_json(sb, req, b) for b in sorted(sb.data.boards)]
    values = [f for f in values if (not name or name in f["name"].lower())
              and (not ids or f["id"] in ids)]
    return _paged(sb, req, values, cap=100)


@register("GET", f"{API}/filter/(\\d+)")
def filter_one(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One filter by id."""
    board_id = int(m.group(1)) - 10000
    if board_id not in sb.data.boards:
        return error(400, f"The selected filter is not available to you, perhaps it has been "
                          f"deleted or had its permissions changed. (id {m.group(1)})")
    return Reply(200, filter_json(sb, req, board_id))


@register("GET", f"{API}/configuration")
def configuration(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Global settings (time tracking is on: 8 h days, 5 d weeks)."""
    return Reply(200, {"votingEnabled": True, "watchingEnabled": True,
                       "unassignedIssuesAllowed": True, "subTasksEnabled": True,
                       "issueLinkingEnabled": True, "timeTrackingEnabled": True,
                       "attachmentsEnabled": True,
                       "timeTrackingConfiguration": {"workingHoursPerDay": 8.0,
                                                     "workingDaysPerWeek": 5.0,
                                                     "timeFormat": "pretty",
                                                     "defaultUnit": "minute"}})


def _properties(sb: JiraSandbox) -> list[dict[str, Any]]:
    rows = (("jira.title", "Jira", "The name of this Jira site"),
            ("jira.baseurl", sb.url, "The base URL"),
            ("jira.option.allowunassigned", "true", "Allow unassigned issues"),
            ("jira.timetracking.hours.per.day", "8", "Working hours per day"),
            ("jira.timetracking.days.per.week", "5", "Working days per week"),
            ("jira.lf.date.dmy", "dd/MMM/yy", "Day/Month/Year format"),
            ("jira.date.time.picker.java.format", "dd/MMM/yy h:mm a", "Date time format"))
    return [{"id": key, "key": key, "value": value, "name": key, "desc": desc,
             "type": "string", "defaultValue": value} for key, value, desc in rows]


@register("GET", f"{API}/application-properties")
def application_properties(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Application properties; ``key=`` picks one (answered alone, not in a list)."""
    rows = _properties(sb)
    key = req.arg("key")
    if key is None:
        return Reply(200, rows)
    found = next((r for r in rows if r["key"] == key), None)
    if found is None:
        return error(404, f"Property with key: {key} does not exist.")
    return Reply(200, found)


@register("GET", f"{API}/mypreferences/locale")
def my_locale(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """The caller's locale."""
    return Reply(200, {"locale": "en_US"})
