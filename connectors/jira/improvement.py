"""Improvement items in Jira: read them back, write the plan (``docs/improvement.md``).

Items are found by the improvement label in the products' projects; each carries the label
:func:`fiveo_sync.improvement.jira_label` of its key, by which it is matched. An issue in a
status of category *done* (closed by hand or resolved) is *closed*. ``POST /issue`` has no
idempotency key (jira-api.md §6): after a lost or cut-off answer the project is searched
for the item's label and the issue adopted if it landed. Resolving is one ``POST
/issue/{key}/transitions`` to a done status carrying the note as a comment, so a rerun
after a lost answer finds the issue done and does nothing more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import WriteOutcome, WriteReport
from connectors.http import HttpClient
from connectors.jira.executor import create_issue_once, iter_issues, jql_string
from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.errors import DataError, FiveoSyncError
from fiveo_sync.improvement import HeldItem
from fiveo_sync.writers.plan import Plan, WriteOp

log = structlog.get_logger(__name__)
DIGEST = re.compile(r"digest ([0-9a-f]{16})")
ITEM_LABEL = re.compile(r"^fiveo-imp-[0-9a-f]{16}$")
TARGET = "jira"
# What reading an item back needs: its labels (the key), status and description (digest).
_SEARCH_FIELDS = "labels,status,description"


def _api(base_url: str, flavour: str) -> str:
    return f"{base_url.rstrip('/')}/rest/api/{'3' if flavour == 'adf' else '2'}"


def fetch_items(http: HttpClient, base_url: str, spec: ImprovementSpec, *, flavour: str,
                projects: list[str]) -> dict[str, HeldItem]:
    """The improvement issues of the projects, by their item label (oldest first wins)."""
    if not projects:
        return {}
    api = _api(base_url, flavour)
    keys = ", ".join(jql_string(p) for p in sorted(set(projects)))
    jql = f"labels = {jql_string(spec.jira.label)} AND project in ({keys}) ORDER BY key ASC"
    held: dict[str, HeldItem] = {}
    found = iter_issues(http, api, flavour, jql, fields=_SEARCH_FIELDS)
    for issue in sorted(found, key=lambda i: int(i.get("id") or 0)):
        fields = issue.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        text = json.dumps(fields.get("description"), ensure_ascii=False)
        digest = DIGEST.search(text)
        for label in fields.get("labels") or ():
            if ITEM_LABEL.match(str(label)) and label not in held:
                held[label] = HeldItem(label, str(issue.get("key") or ""),
                                       closed=category == "done",
                                       digest=digest.group(1) if digest else "")
    log.info("improvement_items_fetched", platform="jira", items=len(held))
    return held


def execute_plan(http: HttpClient, base_url: str, plan: Plan, *, flavour: str) -> WriteReport:
    """Create, update and resolve the improvement issues of a plan."""
    api = _api(base_url, flavour)
    report = WriteReport(target=TARGET)
    for op in plan.for_target(TARGET):
        if not op.writes:
            report.outcomes.append(WriteOutcome(op.key, "unchanged", op.ref))
            continue
        try:
            outcome = _write(http, api, op, flavour)
        except DataError as exc:
            outcome = WriteOutcome(op.key, "failed", str(exc))
        except FiveoSyncError as exc:  # auth lost or retries exhausted: stop this target
            report.error = str(exc)
            log.error("improvement_write_failed", platform="jira", error=str(exc))
            break
        report.outcomes.append(outcome)
        log.info("improvement_written", platform="jira", key=op.key, action=outcome.action,
                 issue=outcome.detail)
    return report


def _payload(fields: Mapping[str, Any]) -> dict[str, Any]:
    body = {"summary": fields["summary"], "description": fields["description"],
            "labels": list(fields["labels"])}
    if fields.get("assignee"):
        body["assignee"] = dict(fields["assignee"])
    return body


def _write(http: HttpClient, api: str, op: WriteOp, flavour: str) -> WriteOutcome:
    fields = op.fields
    if op.action == "create" or not op.ref:
        return WriteOutcome(op.key, "created", create_issue_once(
            http, api, {"project": {"key": str(fields["project"])},
                        "issuetype": {"name": fields["issue_type"]}, **_payload(fields)},
            label=str(list(fields["labels"])[-1]), search_fields=_SEARCH_FIELDS))
    issue = op.ref
    http.request("PUT", f"{api}/issue/{quote(issue)}", json={"fields": _payload(fields)})
    if fields.get("resolve_comment") is not None:
        _, listed = http.request("GET", f"{api}/issue/{quote(issue)}/transitions")
        done = [t for t in (listed or {}).get("transitions") or []
                if ((t.get("to") or {}).get("statusCategory") or {}).get("key") == "done"]
        if not done:
            raise DataError(f"no transition to a done status on {issue}", platform="jira")
        http.request("POST", f"{api}/issue/{quote(issue)}/transitions", json={
            "transition": {"id": str(done[0]["id"])},
            "update": {"comment": [{"add": {"body": fields["resolve_comment"]}}]}})
    return WriteOutcome(op.key, "updated", issue)


def jira_assignees(people: Mapping[tuple[str, str], Any], flavour: str) -> dict[str, dict]:
    """Assignee id → Jira user field, for the active Jira users the pulled issues show."""
    field = "accountId" if flavour == "adf" else "name"
    return {ident: {field: ident} for (platform, ident), person in people.items()
            if platform == "jira" and getattr(person, "active", False)}
