"""What every connector exposes to the core, and the plain data that crosses the boundary.

A connector pulls pages of raw platform records (:class:`Page`) and executes write plans.
The core never sees a ``requests.Response``: it sees :class:`RawRecord` payloads (the
platform's JSON as received) and typed errors from :mod:`fiveo_sync.errors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RawRecord:
    """One platform record as received.

    Attributes:
        key: the platform's stable id (ServiceNow ``sys_id``, Jira issue ``id``, sprint id).
        updated: the record's own update stamp as an ISO-8601 UTC string
            (``2025-03-03T10:30:00Z``); used for dedupe and bookmarks.
        payload: the JSON object the platform returned (already trimmed to requested fields).
    """

    key: str
    updated: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One unit of progress: records to upsert, keys deleted, and the bookmark after them.

    The store commits all three in one transaction, so a crash between pages loses nothing
    and repeats nothing. ``bookmark`` is connector-owned JSON (``None`` keeps the old one).
    """

    source: str
    stream: str
    records: Sequence[RawRecord] = ()
    deleted_keys: Sequence[str] = ()
    bookmark: dict[str, Any] | None = None
    # Insert-only streams (sprint scope snapshots) never overwrite an existing key.
    insert_only: bool = False
    requests: int = 0


@dataclass
class WriteOutcome:
    """What happened to one write operation."""

    key: str
    action: str  # created | updated | unchanged | marked | failed
    detail: str = ""


@dataclass
class WriteReport:
    """The result of executing one target's plan."""

    target: str
    outcomes: list[WriteOutcome] = field(default_factory=list)
    error: str = ""

    def count(self, action: str) -> int:
        """How many operations ended with ``action``."""
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def failed(self) -> bool:
        """True when the target as a whole failed or any operation failed."""
        return bool(self.error) or self.count("failed") > 0


class Connector(Protocol):
    """The contract between the core and one platform."""

    source: str

    def streams(self) -> Sequence[str]:
        """Names of the streams this connector pulls."""
        ...

    def iter_pages(self, stream: str, bookmark: dict[str, Any] | None,
                   *, full: bool = False) -> Iterator[Page]:
        """Yield pages changed since ``bookmark`` (all records when ``full``)."""
        ...

    def close(self) -> None:
        """Release HTTP sessions."""
        ...
