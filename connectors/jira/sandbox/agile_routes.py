"""Agile and greenhopper routes of the sandbox (jira-api.md §5).

Boards page with ``total``; board sprints page at most 50 with ``isLast`` and no ``total``;
kanban boards answer 400 "The board does not support sprints" and scrum boards whose
columns map no status 422 (wording unconfirmed). Sprints shared with another board are
listed there too, keeping their ``originBoardId`` (§5.2). ``POST /sprint/{id}`` starts,
closes, renames and re-goals sprints; a closed sprint takes only ``name`` and ``goal``.
The sprint report and the velocity chart are computed by replaying each issue's changelog
(``Sprint``, ``status`` and story-points items), so they are consistent with what the
changelog endpoints return.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.api_routes import render_issue, run_jql, wanted_fields
from connectors.jira.sandbox.data import ISSUE_TYPES, STATUS_BY_ID, History, Issue, Sprint
from connectors.jira.sandbox.jql import JqlError
from connectors.jira.sandbox.routing import Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

AGILE = "/rest/agile/1.0"


def _board_json(sb: JiraSandbox, board_id: int) -> dict[str, Any]:
    board = sb.data.boards[board_id]
    project = sb.data.projects[board.project_key]
    return {"id": board.id, "self": f"{sb.url}{AGILE}/board/{board.id}", "name": board.name,
            "type": board.type,
            "location": {"projectId": board.project_id,
                         "displayName": f"{project['name']} ({board.project_key})",
                         "projectName": project["name"], "projectKey": board.project_key,
                         "projectTypeKey": "software", "name":
                         f"{project['name']} ({board.project_key})"}}


@register("GET", f"{AGILE}/board")
def boards(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Boards, paged by ``startAt`` (at most 50)."""
    kinds = set((req.arg("type") or "scrum,kanban,simple").split(","))
    project = (req.arg("projectKeyOrId") or "").upper()
    chosen = [b for b in sorted(sb.data.boards) if sb.data.boards[b].type in kinds
              and (not project or project in (sb.data.boards[b].project_key,
                                              str(sb.data.boards[b].project_id)))]
    start, size = req.int_arg("startAt", 0), min(req.int_arg("maxResults", 50), 50)
    page = chosen[start:start + size]
    return Reply(200, {"maxResults": size, "startAt": start, "total": len(chosen),
                       "isLast": start + size >= len(chosen),
                       "values": [_board_json(sb, b) for b in page]})


@register("GET", f"{AGILE}/board/(\\d+)")
def board(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One board."""
    if int(m.group(1)) not in sb.data.boards:
        return error(404, "Board does not exist or you do not have permission to see it.")
    return Reply(200, _board_json(sb, int(m.group(1))))


@register("GET", f"{AGILE}/board/(\\d+)/configuration")
def board_configuration(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Columns, filter and the estimation field of a board."""
    board_id = int(m.group(1))
    if board_id not in sb.data.boards:
        return error(404, "Board does not exist or you do not have permission to see it.")
    b = sb.data.boards[board_id]
    columns = [{"name": name, "statuses": [{"id": sid, "self": f"{sb.url}/rest/api/2/status/{sid}"}
                                           for sid in ids]}
               for name, ids in (("To Do", ["10000"]), ("In Progress", ["3"]),
                                 ("In Review", ["10001"]), ("Done", ["10002"]))]
    if board_id in sb.data.unmapped:
        columns = [{**column, "statuses": []} for column in columns]
    body: dict[str, Any] = {
        "id": b.id, "name": b.name, "type": b.type,
        "self": f"{sb.url}{AGILE}/board/{b.id}/configuration",
        "location": {"type": "project", "key": b.project_key, "id": str(b.project_id),
                     "self": f"{sb.url}/rest/api/2/project/{b.project_id}",
                     "name": sb.data.projects[b.project_key]["name"]},
        "filter": {"id": str(10000 + b.id), "self": f"{sb.url}/rest/api/2/filter/{10000 + b.id}"},
        "columnConfig": {"columns": columns, "constraintType": "issueCount"},
        "ranking": {"rankCustomFieldId": int(sb.data.fields.rank.rsplit("_", 1)[1])}}
    if b.type != "kanban":
        body["subQuery"] = {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"}
        body["estimation"] = {"type": "field", "field": {
            "fieldId": sb.data.fields.story_points,
            "displayName": sb.data.fields.story_points_name}}
    return Reply(200, body)


@register("GET", f"{AGILE}/board/(\\d+)/sprint")
def board_sprints(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Sprints of a board: at most 50 a page, ``isLast``, no ``total``."""
    board_id = int(m.group(1))
    if board_id not in sb.data.boards:
        return error(404, "Board does not exist or you do not have permission to see it.")
    kind = sb.data.boards[board_id].type
    # Team-managed ("simple") boards list sprints when their sprints feature is on.
    if kind == "kanban" or kind == "simple" and not sb.data.board_sprints(board_id):
        return error(400, "The board does not support sprints")
    if board_id in sb.data.unmapped:
        return error(422, "The board has no columns with mapped statuses.")
    states = set((req.arg("state") or "future,active,closed").split(","))
    chosen = [s for s in sb.data.board_sprints(board_id) if s.state in states]
    start, size = req.int_arg("startAt", 0), max(1, min(req.int_arg("maxResults", 50), 50))
    page = chosen[start:start + size]
    return Reply(200, {"maxResults": size, "startAt": start,
                       "isLast": start + size >= len(chosen),
                       "values": [req.render.sprint(s) for s in page]})


@register("GET", f"{AGILE}/sprint/(\\d+)")
def sprint(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """One sprint."""
    found = sb.data.sprints.get(int(m.group(1)))
    if found is None:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    return Reply(200, req.render.sprint(found))


@register("POST", f"{AGILE}/sprint/(\\d+)")
def update_sprint(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Partial update: ``state`` (start, close), ``name``, ``goal``."""
    found = sb.data.sprints.get(int(m.group(1)))
    if found is None:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    if req.role == "viewer":
        return error(403, "You do not have permission to manage sprints.")
    body = req.body if isinstance(req.body, dict) else {}
    state = body.get("state")
    if found.state == "closed":
        state = None  # a closed sprint takes only its name and goal
    try:
        sb.data.update_sprint(found.id, sb.now(), state=state, name=body.get("name"),
                              goal=body.get("goal"))
    except ValueError as exc:
        return error(400, str(exc))
    return Reply(200, req.render.sprint(found))


def _agile_issues(sb: JiraSandbox, req: Request, issues: list[Issue]) -> Reply:
    jql = req.arg("jql")
    if jql:
        try:
            allowed = {i.id for i in run_jql(sb, req, jql, require_bound=False)}
        except JqlError as exc:
            return error(400, str(exc))
        issues = [i for i in issues if i.id in allowed]
    issues.sort(key=lambda i: (i.project, i.number))
    start, size = req.int_arg("startAt", 0), max(1, min(req.int_arg("maxResults", 50), 100))
    wanted = wanted_fields(",".join(req.query.get("fields") or []), None)
    expand = ",".join(req.query.get("expand") or [])
    rendered = []
    for issue in issues[start:start + size]:
        body = render_issue(sb, req, issue, wanted, expand)
        body["self"] = f"{sb.url}{AGILE}/issue/{issue.id}"
        if "fields" in body and "-sprint" not in (wanted or ()) and (
                wanted is None or wanted & {"sprint", "*all", "*navigable"}):
            sprints = [sb.data.sprints[s] for s in issue.sprints if s in sb.data.sprints]
            active = [s for s in sprints if s.state == "active"]
            body["fields"]["sprint"] = req.render.sprint(active[0]) if active else None
            body["fields"]["closedSprints"] = [req.render.sprint(s) for s in sprints
                                               if s.state == "closed"]
        rendered.append(body)
    return Reply(200, {"expand": "schema,names", "startAt": start, "maxResults": size,
                       "total": len(issues), "issues": rendered})


@register("GET", f"{AGILE}/sprint/(\\d+)/issue")
def sprint_issues(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Issues currently in a sprint."""
    sprint_id = int(m.group(1))
    if sprint_id not in sb.data.sprints:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    return _agile_issues(sb, req, [i for i in sb.data.iter_issues() if sprint_id in i.sprints])


@register("GET", f"{AGILE}/board/(\\d+)/issue")
def board_issues(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Issues on a board (its project)."""
    board_id = int(m.group(1))
    if board_id not in sb.data.boards:
        return error(404, "Board does not exist or you do not have permission to see it.")
    key = sb.data.boards[board_id].project_key
    return _agile_issues(sb, req, [i for i in sb.data.iter_issues() if i.project == key])


# -- greenhopper ----------------------------------------------------------------------


def _value_at(histories: list[History], current: Any, when: datetime,
              match: Any, pick: int) -> Any:
    """Replay histories backwards from the current value to the value at ``when``."""
    value = current
    for history in reversed(histories):
        if history.created <= when:
            break
        for item in history.items:
            if match(item):
                value = item[pick]
    return value


def _sprint_ids(text: str | None) -> set[int]:
    return {int(v) for v in (text or "").split(",") if v.strip()}


def _in_sprint_at(histories: list[History], issue: Issue, sprint_id: int,
                  when: datetime) -> bool:
    ids = _value_at(histories, ",".join(map(str, issue.sprints)), when,
                    lambda item: item[0] == "Sprint", 3)
    return sprint_id in _sprint_ids(ids)


def _report_entry(sb: JiraSandbox, req: Request, issue: Issue, histories: list[History],
                  sprint: Sprint, end: datetime) -> dict[str, Any]:
    field_id = sb.data.fields.story_points

    def points_at(when: datetime) -> float | None:
        current = f"{issue.points:g}" if issue.points is not None else None
        text = _value_at(histories, current, when, lambda item: item[2] == field_id, 4)
        return float(text) if text not in (None, "") else None

    joined = next((h.created for h in histories for item in h.items if item[0] == "Sprint"
                   and sprint.id in _sprint_ids(item[5]) - _sprint_ids(item[3])), sprint.start)
    initial_at = max(sprint.start or end, joined or end)
    status_id = _value_at(histories, issue.status, end, lambda item: item[0] == "status", 3)

    def stat(value: float | None) -> dict[str, Any]:
        return {"statFieldId": field_id,
                "statFieldValue": {"value": value} if value is not None else {}}

    return {"id": issue.id, "key": issue.key, "hidden": False, "typeName": issue.type,
            "typeId": ISSUE_TYPES[issue.type][0], "summary": issue.summary,
            "priorityName": "Medium", "done": STATUS_BY_ID[status_id][2] == "done",
            "estimateStatistic": stat(points_at(initial_at)),
            "currentEstimateStatistic": stat(points_at(end)),
            "estimateStatisticRequired": False, "statusId": status_id,
            "statusName": STATUS_BY_ID[status_id][1], "status": req.render.status(status_id),
            "projectId": sb.data.projects[issue.project]["id"], "linkedPagesCount": 0,
            "fixVersions": [], "flagged": False}


def sprint_report(sb: JiraSandbox, req: Request, sprint_obj: Sprint) -> dict[str, Any]:
    """The sprint report contents, replayed from changelogs."""
    end = sprint_obj.complete or sb.now()
    start = sprint_obj.start or end
    groups: dict[str, list[dict[str, Any]]] = {"completedIssues": [],
                                               "issuesNotCompletedInCurrentSprint": [],
                                               "puntedIssues": [],
                                               "issuesCompletedInAnotherSprint": []}
    added: dict[str, bool] = {}
    for issue_id in sorted(sb.data.ever_in.get(sprint_obj.id, set())):
        issue = sb.data.issues.get(issue_id)
        if issue is None:
            continue
        histories = sb.data.histories(issue)
        at_start = _in_sprint_at(histories, issue, sprint_obj.id, start)
        at_end = _in_sprint_at(histories, issue, sprint_obj.id, end)
        during = any(h.created > start and h.created <= end and any(
            i[0] == "Sprint" and sprint_obj.id in _sprint_ids(i[5]) for i in h.items)
            for h in histories)
        if not (at_start or at_end or during):
            continue
        if not at_start:
            added[issue.key] = True
        entry = _report_entry(sb, req, issue, histories, sprint_obj, end)
        if not at_end:
            groups["puntedIssues"].append(entry)
        elif entry["done"]:
            groups["completedIssues"].append(entry)
        else:
            groups["issuesNotCompletedInCurrentSprint"].append(entry)

    def total(entries: list[dict[str, Any]], stat: str) -> dict[str, Any]:
        value = sum(e[stat]["statFieldValue"].get("value") or 0.0 for e in entries)
        return {"value": value, "text": f"{value:g}"}

    contents: dict[str, Any] = dict(groups)
    for name, prefix in (("completedIssues", "completedIssues"),
                         ("issuesNotCompletedInCurrentSprint", "issuesNotCompleted"),
                         ("puntedIssues", "puntedIssues"),
                         ("issuesCompletedInAnotherSprint", "issuesCompletedInAnotherSprint")):
        contents[f"{prefix}EstimateSum"] = total(groups[name], "currentEstimateStatistic")
        contents[f"{prefix}InitialEstimateSum"] = total(groups[name], "estimateStatistic")
    contents["allIssuesEstimateSum"] = total(
        groups["completedIssues"] + groups["issuesNotCompletedInCurrentSprint"],
        "currentEstimateStatistic")
    contents["issueKeysAddedDuringSprint"] = added
    return {"contents": contents,
            "sprint": {"id": sprint_obj.id, "name": sprint_obj.name, "goal": sprint_obj.goal,
                       "state": sprint_obj.state.upper(), "isoStartDate":
                       req.render.sprint(sprint_obj).get("startDate"),
                       "isoEndDate": req.render.sprint(sprint_obj).get("endDate"),
                       "isoCompletedDate": req.render.sprint(sprint_obj).get("completeDate")},
            "lastUserToClose": None, "supportsPages": True}


@register("GET", "/rest/greenhopper/1.0/rapid/charts/sprintreport")
def sprint_report_route(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """``?rapidViewId=&sprintId=``."""
    board_id, sprint_id = req.int_arg("rapidViewId", -1), req.int_arg("sprintId", -1)
    found = sb.data.sprints.get(sprint_id)
    if board_id not in sb.data.boards or found is None:
        return error(404, "The requested board cannot be viewed because it either does not "
                          "exist or you do not have permission to view it.")
    return Reply(200, sprint_report(sb, req, found))


@register("GET", "/rest/greenhopper/1.0/rapid/charts/velocity(?:\\.json)?")
def velocity(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Committed (frozen at start) and completed points of the board's closed sprints."""
    board_id = req.int_arg("rapidViewId", -1)
    if board_id not in sb.data.boards:
        return error(404, "The requested board cannot be viewed because it either does not "
                          "exist or you do not have permission to view it.")
    closed = [s for s in sb.data.board_sprints(board_id) if s.state == "closed"][-7:]
    entries, listed = {}, []
    for item in closed:
        contents = sprint_report(sb, req, item)["contents"]
        committed = sum(contents[f"{p}InitialEstimateSum"]["value"] for p in (
            "completedIssues", "issuesNotCompleted", "puntedIssues")) - sum(
            (e["estimateStatistic"]["statFieldValue"].get("value") or 0.0)
            for g in ("completedIssues", "issuesNotCompletedInCurrentSprint", "puntedIssues")
            for e in contents[g] if e["key"] in contents["issueKeysAddedDuringSprint"])
        entries[str(item.id)] = {"estimated": {"value": committed, "text": f"{committed:g}"},
                                 "completed": contents["completedIssuesEstimateSum"]}
        listed.append({"id": item.id, "sequence": item.id, "name": item.name,
                       "state": "CLOSED", "linkedPagesCount": 0, "goal": item.goal or ""})
    return Reply(200, {"sprints": listed, "velocityStatEntries": entries})
