"""The ServiceNow connector: incremental keyset pulls and deletions (servicenow-api.md §10, §15).

Per stream, a pull reads rows with ``sys_updated_on`` in ``[bookmark - overlap, now - lag)``
by keyset pages (never offsets), ending on an empty page (a short page proves nothing: the
limit applies before ACLs), then reads ``sys_audit_delete`` rows of the stream's table the
same way and yields their ``documentkey`` as deletions. A delete is never inferred from a
failed or missing fetch. Each page carries the bookmark to commit with it, so a killed pull
resumes after its last committed row. Rows repeated by the overlap are deduplicated on
``(sys_id, sys_updated_on)`` within a run and upserted by the store across runs.

Bookmark (JSON, owned here)::

    {"v": 1, "watermark": "<U of the last complete pass>", "run": {"from": B, "after": [D, S]},
     "deletions": "<U of the last complete deletion pass>", "deletions_run": {...}}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import structlog

from connectors.base import Page, RawRecord
from connectors.http import HttpStats
from connectors.servicenow.client import PLATFORM, ServiceNowClient
from connectors.servicenow.query import build_keyset_query, format_sn, parse_sn, sn_to_iso
from connectors.servicenow.settings import ALL_STREAMS
from fiveo_sync.errors import ConfigError, DataError

log = structlog.get_logger(__name__)

# Reference data is read whole; transactional streams start at the backfill horizon.
REFERENCE_STREAMS = frozenset({"contract_sla", "cmdb_ci_service", "sys_user_group", "sys_user"})
_CURSOR_FIELDS = ("sys_id", "sys_updated_on")
_DELETION_FIELDS = ["sys_id", "sys_created_on", "documentkey", "tablename"]


def default_fields() -> dict[str, list[str]]:
    """The fields the shipped mappings need, per stream (``fields.json``)."""
    text = resources.files("connectors.servicenow").joinpath("fields.json").read_text("utf-8")
    return json.loads(text)


class ServiceNowConnector:
    """Pulls ServiceNow tables as pages of raw Table API records.

    Args:
        client: the authenticated HTTP client.
        streams: the streams to pull.
        fields: ``{stream: [field, ...]}`` to request (``sys_id``/``sys_updated_on`` added).
        clock: aware-UTC now.
        page_size: ``sysparm_limit``.
        overlap_s: how far before the bookmark each pull starts again.
        lag_s: rows newer than ``now - lag`` wait for the next pull.
        backfill_days: the first pull's horizon for transactional streams.
    """

    source = PLATFORM

    def __init__(self, client: ServiceNowClient, *, streams: Sequence[str],
                 fields: dict[str, list[str]], clock: Callable[[], datetime],
                 page_size: int = 1000, overlap_s: int = 300, lag_s: int = 60,
                 backfill_days: int = 400) -> None:
        self.client = client
        self._streams = tuple(streams)
        self._fields = fields
        self._clock = clock
        self.page_size = page_size
        self.overlap = timedelta(seconds=overlap_s)
        self.lag = timedelta(seconds=lag_s)
        self.backfill = timedelta(days=backfill_days)

    @property
    def stats(self) -> HttpStats:
        """HTTP counters (requests, retries, bytes, errors)."""
        return self.client.stats

    def streams(self) -> Sequence[str]:
        """The streams this connector pulls."""
        return self._streams

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()

    def fields_for(self, stream: str) -> list[str]:
        """``sysparm_fields`` of a stream: the mapped fields plus the cursor fields."""
        wanted = self._fields.get(stream) or []
        return sorted({*wanted, *_CURSOR_FIELDS})

    def iter_pages(self, stream: str, bookmark: dict[str, Any] | None,
                   *, full: bool = False) -> Iterator[Page]:
        """Yield pages of records changed since ``bookmark``, then pages of deletions.

        Args:
            stream: a table name from :meth:`streams`.
            bookmark: the stored bookmark (``None`` on the first pull).
            full: ignore the bookmark and read from the backfill horizon.
        """
        if stream not in ALL_STREAMS:
            raise ConfigError(f"unknown servicenow stream {stream!r}")
        now = self._clock().astimezone(UTC)
        upper = format_sn(now - self.lag)
        state: dict[str, Any] = {"v": 1} if full or not bookmark else dict(bookmark)
        first_pull = not state.get("watermark") and not state.get("run")
        yield from self._records(stream, state, now, upper)
        if first_pull:
            # Nothing stored before this pull could have been deleted: start watching now.
            state["deletions"] = upper
            state.pop("deletions_run", None)
            yield Page(PLATFORM, stream, bookmark=dict(state))
        else:
            yield from self._deletions(stream, state, upper)

    def _records(self, stream: str, state: dict[str, Any], now: datetime,
                 upper: str) -> Iterator[Page]:
        run = state.get("run")
        if run:
            start, after = run.get("from"), _cursor(run.get("after"))
        else:
            after = None
            if state.get("watermark"):
                start = format_sn(parse_sn(state["watermark"]) - self.overlap)
            elif stream in REFERENCE_STREAMS:
                start = None
            else:
                start = format_sn(now - self.backfill)
        seen: set[tuple[str, str]] = set()
        fields = self.fields_for(stream)
        total = 0
        while True:
            before = self.stats.requests
            rows = self.client.fetch_rows(
                stream, build_keyset_query("sys_updated_on", start, upper, after),
                fields, self.page_size)
            requests = self.stats.requests - before
            if not rows:
                state["watermark"] = upper
                state.pop("run", None)
                yield Page(PLATFORM, stream, bookmark=dict(state), requests=requests)
                break
            records = []
            for row in rows:
                key, updated = _cursor_of(stream, row)
                if (key, updated) not in seen:
                    seen.add((key, updated))
                    records.append(RawRecord(key=key, updated=sn_to_iso(updated), payload=row))
            after = _cursor_of(stream, rows[-1])[::-1]
            state["run"] = {"from": start, "after": list(after)}
            total += len(records)
            log.debug("page_fetched", platform=PLATFORM, stream=stream, rows=len(rows))
            yield Page(PLATFORM, stream, records=records, bookmark=dict(state),
                       requests=requests)
        log.info("stream_pulled", platform=PLATFORM, stream=stream, records=total)

    def _deletions(self, stream: str, state: dict[str, Any], upper: str) -> Iterator[Page]:
        run = state.get("deletions_run")
        if run:
            start, after = run.get("from"), _cursor(run.get("after"))
        else:
            since = state.get("deletions") or state.get("watermark") or upper
            start, after = format_sn(parse_sn(since) - self.overlap), None
        while True:
            before = self.stats.requests
            rows = self.client.fetch_rows(
                "sys_audit_delete",
                build_keyset_query("sys_created_on", start, upper, after,
                                   extra=f"tablename={stream}"),
                _DELETION_FIELDS, self.page_size)
            requests = self.stats.requests - before
            if not rows:
                state["deletions"] = upper
                state.pop("deletions_run", None)
                yield Page(PLATFORM, stream, bookmark=dict(state), requests=requests)
                return
            keys = [str(r.get("documentkey") or "") for r in rows if r.get("documentkey")]
            last = rows[-1]
            after = (str(last.get("sys_created_on", "")), str(last.get("sys_id", "")))
            state["deletions_run"] = {"from": start, "after": list(after)}
            log.info("deletions_fetched", platform=PLATFORM, stream=stream, deleted=len(keys))
            yield Page(PLATFORM, stream, deleted_keys=keys, bookmark=dict(state),
                       requests=requests)


def _cursor(value: Any) -> tuple[str, str] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return str(value[0]), str(value[1])
    return None


def _cursor_of(stream: str, row: dict[str, Any]) -> tuple[str, str]:
    """``(sys_id, sys_updated_on)`` of a row; both must be non-empty strings."""
    key, updated = row.get("sys_id"), row.get("sys_updated_on")
    if not isinstance(key, str) or not key or not isinstance(updated, str) or len(updated) < 19:
        raise DataError(f"servicenow {stream} record without sys_id/sys_updated_on "
                        "(missing read access to them?)", platform=PLATFORM, stream=stream)
    return key, updated
