"""Completing truncated changelogs so every stored issue has its whole history.

Search with ``expand=changelog`` embeds at most a few dozen histories while
``changelog.total`` tells the truth (jira-api.md §3). On Cloud the rest comes from
``POST /rest/api/3/changelog/bulkfetch`` (token paging, same loop guards as search) and,
for anything still short, ``GET /rest/api/3/issue/{id}/changelog`` paged by ``startAt``.
Data Center embeds whole changelogs (unconfirmed), so a short one there is logged.
Histories are sorted by ``(created, id)``.
"""

from __future__ import annotations

from typing import Any

import structlog

from connectors.jira.client import JiraApi
from connectors.jira.jql import parse_jira_time
from fiveo_sync.errors import DataError

log = structlog.get_logger(__name__)

BULK_LIMIT = 1000


def _sort(histories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {str(h.get("id")): h for h in histories}
    return sorted(unique.values(),
                  key=lambda h: (parse_jira_time(h["created"]), int(h["id"])
                                 if str(h.get("id", "")).isdigit() else 0))


def is_truncated(issue: dict[str, Any]) -> bool:
    """True when the embedded changelog holds fewer histories than its total."""
    changelog = issue.get("changelog") or {}
    return int(changelog.get("total") or 0) > len(changelog.get("histories") or [])


def complete_changelogs(api: JiraApi, issues: list[dict[str, Any]]) -> int:
    """Fill in truncated changelogs in place; returns how many issues were completed."""
    short = [i for i in issues if is_truncated(i)]
    if not short:
        return 0
    if not api.cloud:
        log.warning("changelog_truncated_on_datacenter", issues=len(short))
        return 0
    for start in range(0, len(short), BULK_LIMIT):
        batch = short[start:start + BULK_LIMIT]
        fetched = _bulkfetch(api, [str(i["id"]) for i in batch])
        for issue in batch:
            histories = fetched.get(str(issue["id"]), [])
            total = int(issue["changelog"]["total"])
            if len(histories) < total:
                histories = _paged(api, str(issue["id"]))
            if len(histories) < total:
                raise DataError(f"jira returned {len(histories)} of {total} histories",
                                platform="jira", issue=issue.get("key"))
            issue["changelog"] = {"startAt": 0, "maxResults": len(histories),
                                  "total": len(histories), "histories": _sort(histories)}
    log.info("changelogs_completed", issues=len(short))
    return len(short)


def _bulkfetch(api: JiraApi, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    token: str | None = None
    seen: set[str] = set()
    for _ in range(10_000):
        payload: dict[str, Any] = {"issueIdsOrKeys": ids, "maxResults": BULK_LIMIT}
        if token:
            payload["nextPageToken"] = token
        _, body = api.post(f"{api.api}/changelog/bulkfetch", payload, idempotent=True)
        logs = (body or {}).get("issueChangeLogs") or []
        for entry in logs:
            result.setdefault(str(entry["issueId"]), []).extend(entry.get("changeHistories")
                                                                or [])
        token = (body or {}).get("nextPageToken")
        if not token or not logs or token in seen:
            break
        seen.add(token)
    return result


def _paged(api: JiraApi, issue_id: str) -> list[dict[str, Any]]:
    histories: list[dict[str, Any]] = []
    start = 0
    while True:
        _, body = api.get(f"{api.api}/issue/{issue_id}/changelog",
                          {"startAt": start, "maxResults": 100})
        values = list((body or {}).get("values") or [])
        histories.extend(values)
        start += len(values)
        if not values or body.get("isLast") or start >= int(body.get("total") or 0):
            return histories
