"""Jira Cloud backfills: id-only keyset listing, then parallel ``issue/bulkfetch``.

Platform facts: jira-api.md §2.1, §3, §7.

Search pages that carry fields and changelogs hold at most 100 issues and must be read one
after the other (each needs the token or cursor of the one before). The throughput pattern
of §2.1 lists ids only (5000 a page) and fetches details with ``POST /rest/api/3/issue/
bulkfetch`` (100 ids a call) in parallel, completing truncated changelogs in the same worker
(§3). Ids are listed by keyset on ``id`` (``id > N ORDER BY id``), never by token or offset,
so issues updated while the pass runs cannot shift others out of a page.

Chunks come back in id order; at most ``2 × concurrency`` chunks are in flight or waiting,
so memory is bounded by page size, not by the number of issues. The burst limit (~100
requests/s per endpoint, §7) is far above what four workers send.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from connectors.jira.changelog import complete_changelogs
from connectors.jira.client import JiraApi
from connectors.jira.search import iter_query
from fiveo_sync.errors import UnavailableError

ID_PAGE = 5000
BULK_MAX = 100


def build_backfill_jql(issue_jql: str, after_id: int | None) -> str:
    """The incremental issue JQL re-ordered by id and keyset-bounded after ``after_id``."""
    where = issue_jql.rsplit(" ORDER BY ", 1)[0].strip()
    clauses = [where] if where else []
    clauses.append(f"id > {after_id or 0}")
    return " AND ".join(clauses) + " ORDER BY id ASC"


def fetch_issues(api: JiraApi, ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
    """Issues by id with changelogs (complete), in the order of ``ids``; gone ones dropped."""
    _, body = api.post(f"{api.api}/issue/bulkfetch",
                       {"issueIdsOrKeys": ids, "fields": fields, "expand": ["changelog"],
                        "fieldsByKeys": False}, idempotent=True)
    found = {str(i["id"]): i for i in (body or {}).get("issues") or []}
    issues = [found[i] for i in ids if i in found]
    complete_changelogs(api, issues)
    return issues


def iter_backfill(api: JiraApi, jql_after: Callable[[int | None], str], after_id: int | None,
                  *, fields: list[str], chunk: int, concurrency: int,
                  page_cap: int = 100_000) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``(last id of the chunk, issues)`` for every matching issue after ``after_id``.

    Args:
        api: the client.
        jql_after: JQL for issues with ``id > after`` ordered by id.
        after_id: resume after this id (``None`` = from the start).
        fields: field ids to fetch.
        chunk: ids per bulk fetch (at most 100).
        concurrency: bulk fetches in flight.
        page_cap: the most id pages one pass may read.
    """
    chunk = max(1, min(chunk, BULK_MAX))
    with ThreadPoolExecutor(max_workers=max(1, concurrency),
                            thread_name_prefix="jira-bulkfetch") as pool:
        window: deque[tuple[int, Future[list[dict[str, Any]]]]] = deque()
        try:
            for _ in range(page_cap):
                page = next(iter_query(api, jql_after(after_id), fields=["id"],
                                       page_size=ID_PAGE, page_cap=1), None)
                ids = sorted({int(i["id"]) for i in (page.issues if page else [])})
                if page is not None and page.stalled and not ids:
                    # An empty page that claims more: never end the pass on it (§2.1).
                    raise UnavailableError("jira id listing made no progress",
                                           platform="jira")
                for start in range(0, len(ids), chunk):
                    part = ids[start:start + chunk]
                    window.append((part[-1], pool.submit(
                        fetch_issues, api, [str(i) for i in part], fields)))
                    while len(window) >= 2 * max(1, concurrency):
                        last, future = window.popleft()
                        yield last, future.result()
                if not ids or not page or not page.more:
                    break
                after_id = ids[-1]
            else:
                raise UnavailableError("jira id listing exceeded the page cap",
                                       platform="jira")
            while window:
                last, future = window.popleft()
                yield last, future.result()
        finally:
            for _, future in window:
                future.cancel()
