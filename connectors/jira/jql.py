"""JQL for incremental pulls, with dates in the Jira user's time zone.

Jira reads zone-less date literals in the searching user's profile zone with one-minute
resolution (jira-api.md §4): a UTC bookmark written as ``"2024-05-02 18:10"`` silently
misses data for users east of UTC. Literals here are converted to ``/myself`` ``timeZone``
and floored to the minute; a local time that occurs twice (DST fall-back) is moved one hour
earlier so that either reading of it is at or before the bookmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ISSUE_ORDER = "ORDER BY updated ASC, key ASC"


def format_jql_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` as a quoted ``"yyyy-MM-dd HH:mm"`` literal in ``zone``, never later."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(zone).replace(second=0, microsecond=0)
    naive = local.replace(tzinfo=None)
    early = naive.replace(tzinfo=zone, fold=0).utcoffset()
    late = naive.replace(tzinfo=zone, fold=1).utcoffset()
    if early != late:
        local = (moment - timedelta(hours=1)).astimezone(zone).replace(second=0, microsecond=0)
    return f'"{local:%Y-%m-%d %H:%M}"'


def epoch_ms(moment: datetime) -> int:
    """``moment`` as epoch milliseconds (an alternative JQL date form, unconfirmed)."""
    return int(moment.astimezone(UTC).timestamp() * 1000)


def quote_keys(keys: Sequence[str]) -> str:
    """``("PAY", "WEB")`` for ``project in``."""
    return "(" + ", ".join(f'"{k}"' for k in keys) + ")"


def build_issue_jql(projects: Sequence[str], since: datetime | None, zone: ZoneInfo,
                    *, floor: datetime | None = None) -> str:
    """The incremental issue query.

    Args:
        projects: project keys (bounded queries are mandatory on Cloud).
        since: only issues updated at or after this instant (``None`` = all).
        zone: the Jira user's profile zone.
        floor: a lower bound used when there are no projects (backfill start).
    """
    clauses = []
    if projects:
        clauses.append(f"project in {quote_keys(sorted(projects))}")
    start = since or (floor if not projects else None)
    if start is not None:
        clauses.append(f"updated >= {format_jql_datetime(start, zone)}")
    return " AND ".join(clauses) + f" {ISSUE_ORDER}"


def build_census_jql(projects: Sequence[str], after_id: int | None) -> str:
    """Id-only census query, keyset-paged by issue id."""
    clauses = [f"project in {quote_keys(sorted(projects))}"] if projects else []
    if after_id is not None:
        clauses.append(f"id > {after_id}")
    if not clauses:
        clauses.append("id > 0")
    return " AND ".join(clauses) + " ORDER BY id ASC"


def parse_jira_time(text: str) -> datetime:
    """``2024-05-02T18:11:04.512+1200`` (or ``…Z``) as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
