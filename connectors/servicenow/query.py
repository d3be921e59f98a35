"""Keyset queries and time formats for incremental Table API reads (servicenow-api.md §6, §10).

Offset paging skips rows when data changes mid-run, so every incremental read is a compound
keyset on ``(time_field, sys_id)``::

    T>=B^T<U^T>D ^NQ T>=B^T<U^T=D^sys_id>S ^ORDERBYT^ORDERBYsys_id

``B`` is the start (bookmark minus overlap), ``U`` the upper bound (run start minus lag),
``(D, S)`` the last row processed. Shared filters are repeated in both ``^NQ`` branches.
Literals are raw UTC ``YYYY-MM-DD HH:MM:SS``; display values are never used for cursors.
"""

from __future__ import annotations

from datetime import UTC, datetime

SN_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_sn(moment: datetime) -> str:
    """An aware datetime as a raw ServiceNow UTC literal."""
    return moment.astimezone(UTC).strftime(SN_FORMAT)


def parse_sn(text: str) -> datetime:
    """A raw ServiceNow date-time (UTC) as an aware datetime."""
    return datetime.strptime(text, SN_FORMAT).replace(tzinfo=UTC)


def sn_to_iso(text: str) -> str:
    """``2025-03-03 10:30:00`` → ``2025-03-03T10:30:00Z`` (the RawRecord ``updated`` form)."""
    return f"{text[:10]}T{text[11:19]}Z" if len(text) >= 19 else text


def build_keyset_query(time_field: str, start: str | None, upper: str,
                       after: tuple[str, str] | None = None, extra: str = "") -> str:
    """The encoded query for the next keyset page.

    Args:
        time_field: the cursor's time column (``sys_updated_on``, ``sys_created_on``).
        start: inclusive lower bound, or ``None`` for no lower bound.
        upper: exclusive upper bound.
        after: ``(time, sys_id)`` of the last row processed, ``None`` on the first page.
        extra: a filter both branches must repeat (e.g. ``tablename=incident``).
    """
    shared = [extra] if extra else []
    if start:
        shared.append(f"{time_field}>={start}")
    shared.append(f"{time_field}<{upper}")
    order = f"ORDERBY{time_field}^ORDERBYsys_id"
    if after is None:
        return "^".join([*shared, order])
    last_time, last_id = after
    first = "^".join([*shared, f"{time_field}>{last_time}"])
    second = "^".join([*shared, f"{time_field}={last_time}", f"sys_id>{last_id}"])
    return f"{first}^NQ{second}^{order}"
