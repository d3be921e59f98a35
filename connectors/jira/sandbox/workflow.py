"""The sandbox's workflow: every status can move to every other (a simplified workflow).

Transition ids and names follow a Jira Software simplified workflow, where each transition
is global and named after its target status. ``GET /issue/{key}/transitions`` lists the
ones away from the current status; ``expand=transitions.fields`` adds the transition
screen's fields (a resolution on the way to Done, as the default screen has).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.catalog import RESOLUTIONS
from connectors.jira.sandbox.data import STATUSES, Issue
from connectors.jira.sandbox.routing import Request

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

# transition id -> target status id
TRANSITIONS = {"11": "10000", "21": "3", "31": "10001", "41": "10002"}
_ID_BY_STATUS = {status: tid for tid, status in TRANSITIONS.items()}


def transition_target(transition_id: str) -> str | None:
    """The status a transition leads to, or ``None`` for an unknown id."""
    return TRANSITIONS.get(str(transition_id))


def transitions_json(sb: JiraSandbox, req: Request, issue: Issue, *,
                     with_fields: bool = False, only: str | None = None) -> list[dict[str, Any]]:
    """The transitions available on an issue (all but the one to its own status)."""
    out = []
    for status_id, name, category in STATUSES:
        tid = _ID_BY_STATUS[status_id]
        if status_id == issue.status or (only is not None and only != tid):
            continue
        body: dict[str, Any] = {"id": tid, "name": name, "to": req.render.status(status_id),
                                "hasScreen": category == "done", "isGlobal": True,
                                "isInitial": False, "isAvailable": True,
                                "isConditional": False, "looped": False}
        if not sb.cloud:
            body = {k: v for k, v in body.items() if k in ("id", "name", "to")}
        if with_fields:
            body["fields"] = _screen(sb, req) if category == "done" else {}
        out.append(body)
    return out


def _screen(sb: JiraSandbox, req: Request) -> dict[str, Any]:
    values = [{"self": f"{sb.url}/rest/api/{req.version}/resolution/{rid}", "id": rid,
               "name": name, "description": text} for rid, name, text in RESOLUTIONS]
    return {"resolution": {"required": False, "schema": {"type": "resolution",
                                                         "system": "resolution"},
                           "name": "Resolution", "key": "resolution", "hasDefaultValue": True,
                           "operations": ["set"], "allowedValues": values}}
