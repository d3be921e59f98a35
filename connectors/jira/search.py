"""Issue search paging for Cloud and Data Center, with loop guards and keyset restarts.

Cloud ``/rest/api/3/search/jql`` pages by ``nextPageToken`` without a total; tokens have
repeated and pages have come back empty while ``isLast`` said otherwise (jira-api.md §2.1,
JRACLOUD-95477), so a query stops on a missing token, an empty page, a repeated token or the
page cap. Data Center ``/rest/api/2/search`` pages by ``startAt`` and silently caps
``maxResults``; the echoed value is the page size (§2.3).

Offset and token paging skip issues when data changes between pages (§2.3). The incremental
reader therefore restarts the query after every full page from the minute of the last
issue seen (keyset on ``updated``), deduplicating by ``(id, updated)``; it only follows the
token or offset while every issue of a page falls in the same minute (a bulk edit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from connectors.jira.client import JiraApi
from connectors.jira.jql import parse_jira_time
from fiveo_sync.errors import UnavailableError

log = structlog.get_logger(__name__)

DEFAULT_PAGE_CAP = 100_000


@dataclass
class SearchPage:
    """One page of one query: its issues and whether the server has more."""

    issues: list[dict[str, Any]]
    more: bool
    stalled: bool = False


def iter_query(api: JiraApi, jql: str, *, fields: list[str], expand: str = "",
               page_size: int, page_cap: int = DEFAULT_PAGE_CAP) -> Iterator[SearchPage]:
    """Every page of one JQL query, guarded against endless paging."""
    if api.cloud:
        yield from _iter_cloud(api, jql, fields, expand, page_size, page_cap)
    else:
        yield from _iter_dc(api, jql, fields, expand, page_size, page_cap)


def _iter_cloud(api: JiraApi, jql: str, fields: list[str], expand: str, page_size: int,
                page_cap: int) -> Iterator[SearchPage]:
    token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(page_cap):
        payload: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if expand:
            payload["expand"] = expand
        if token:
            payload["nextPageToken"] = token
        _, body = api.post(f"{api.api}/search/jql", payload, idempotent=True)
        issues = list((body or {}).get("issues") or [])
        token = (body or {}).get("nextPageToken")
        if not token:
            yield SearchPage(issues, more=False)
            return
        if not issues or token in seen_tokens:
            log.warning("search_loop_guard_tripped", reason="empty page" if not issues
                        else "repeated token", issues=len(issues))
            yield SearchPage(issues, more=True, stalled=True)
            return
        seen_tokens.add(token)
        yield SearchPage(issues, more=True)
    raise UnavailableError("jira search exceeded the page cap", platform="jira")


def _iter_dc(api: JiraApi, jql: str, fields: list[str], expand: str, page_size: int,
             page_cap: int) -> Iterator[SearchPage]:
    start = 0
    for _ in range(page_cap):
        params = {"jql": jql, "fields": ",".join(fields), "startAt": start,
                  "maxResults": page_size}
        if expand:
            params["expand"] = expand
        _, body = api.get(f"{api.api}/search", params)
        body = body or {}
        issues = list(body.get("issues") or [])
        size = int(body.get("maxResults") or len(issues) or 1)  # the server's real cap
        total = int(body.get("total") or 0)
        start += len(issues)
        more = bool(issues) and start < total
        yield SearchPage(issues, more=more, stalled=not issues and start < total)
        if not more or len(issues) < size and start >= total:
            return
    raise UnavailableError("jira search exceeded the page cap", platform="jira")


def iter_changed_issues(api: JiraApi, build_jql: Callable[[datetime | None], str],
                        since: datetime | None, *, fields: list[str], expand: str,
                        page_size: int, skip: dict[str, str] | None = None,
                        page_cap: int = DEFAULT_PAGE_CAP) -> Iterator[list[dict[str, Any]]]:
    """Issues updated at or after ``since``, in pages of new ``(id, updated)`` pairs.

    Args:
        api: the client.
        build_jql: JQL for a cursor instant (``None`` = from the beginning).
        since: the first cursor.
        fields: field ids to request.
        expand: ``changelog`` to embed histories.
        page_size: requested page size.
        skip: ``id -> updated`` pairs already stored (the overlap window of the bookmark).
        page_cap: the most pages one pull may read.
    """
    seen: dict[str, str] = dict(skip or {})
    cursor = since
    stalls = 0
    pages = 0
    while True:
        restarted = False
        for page in iter_query(api, build_jql(cursor), fields=fields, expand=expand,
                               page_size=page_size, page_cap=page_cap):
            pages += 1
            if pages > page_cap:
                raise UnavailableError("jira search exceeded the page cap", platform="jira")
            fresh = []
            for issue in page.issues:
                stamp = str((issue.get("fields") or {}).get("updated") or "")
                if seen.get(str(issue["id"])) != stamp:
                    seen[str(issue["id"])] = stamp
                    fresh.append(issue)
            yield fresh
            if page.stalled:
                stalls += 1
                if stalls > 3:
                    raise UnavailableError("jira search paging made no progress",
                                           platform="jira")
                restarted = True
                break
            if not page.more:
                return
            last = _last_updated(page.issues)
            if last is not None and (cursor is None
                                     or last.replace(second=0, microsecond=0)
                                     > cursor.replace(second=0, microsecond=0)):
                cursor = last
                restarted = True
                break
        if not restarted:
            return


def _last_updated(issues: list[dict[str, Any]]) -> datetime | None:
    stamps = [str((i.get("fields") or {}).get("updated") or "") for i in issues]
    parsed = [parse_jira_time(s) for s in stamps if s]
    return max(parsed) if parsed else None


def iter_all_ids(api: JiraApi, build_jql: Callable[[int | None], str],
                 page_cap: int = DEFAULT_PAGE_CAP) -> Iterator[int]:
    """Every visible issue id (the census), keyset-paged by id."""
    after: int | None = None
    size = 5000 if api.cloud else 1000
    for _ in range(page_cap):
        page = next(iter_query(api, build_jql(after), fields=["id"], page_size=size,
                               page_cap=1), SearchPage([], more=False))
        ids = [int(i["id"]) for i in page.issues]
        yield from ids
        if not page.more or not ids:
            return
        after = max(ids)
    raise UnavailableError("jira census exceeded the page cap", platform="jira")
