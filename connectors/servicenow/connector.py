"""The ServiceNow connector: incremental keyset pulls and deletions (servicenow-api.md §10, §15).

Per stream, a pull reads rows with ``sys_updated_on`` in ``[bookmark - overlap, now - lag)``
by keyset pages (never offsets), ending on an empty page (a short page proves nothing: the
limit applies before ACLs), then reads ``sys_audit_delete`` rows of the stream's table the
same way and yields their ``documentkey`` as deletions. A delete is never inferred from a
failed or missing fetch. Each page carries the bookmark to commit with it, so a killed pull
resumes after its last committed row. Rows repeated by the overlap are deduplicated on
``(sys_id, sys_updated_on)`` within a run and upserted by the store across runs.

A backfill whose first page comes back full continues as parallel time-window partitions
(:mod:`connectors.servicenow.partition`), ``concurrency`` requests in flight; incremental
pulls and small tables stay on one cursor (one request when nothing changed).

Bookmark (JSON, owned here)::

    {"v": 1, "watermark": "<U of the last complete pass>", "run": {"from": B, "after": [D, S]},
     "deletions": "<U of the last complete deletion pass>", "deletions_run": {...}}

with ``run`` = ``{"from": B, "parts": [...]}`` while a partitioned backfill is under way.
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
from connectors.servicenow.partition import build_parts, iter_partitions
from connectors.servicenow.query import build_keyset_query, format_sn, parse_sn, sn_to_iso
from connectors.servicenow.settings import ALL_STREAMS
from fiveo_sync.errors import ConfigError, DataError

log = structlog.get_logger(__name__)

# Reference data is read whole; transactional streams start at the backfill horizon.
REFERENCE_STREAMS = frozenset({"contract_sla", "cmdb_ci_service", "sys_user_group", "sys_user",
                               "core_company", "asmt_metric_type", "asmt_metric"})
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
        concurrency: the most requests in flight during a partitioned backfill.
    """

    source = PLATFORM

    def __init__(self, client: ServiceNowClient, *, streams: Sequence[str],
                 fields: dict[str, list[str]], clock: Callable[[], datetime],
                 page_size: int = 1000, overlap_s: int = 300, lag_s: int = 60,
                 backfill_days: int = 400, concurrency: int = 4) -> None:
        self.client = client
        self._streams = tuple(streams)
        self._fields = fields
        self._clock = clock
        self.page_size = page_size
        self.overlap = timedelta(seconds=overlap_s)
        self.lag = timedelta(seconds=lag_s)
        self.backfill = timedelta(days=backfill_days)
        self.concurrency = max(1, concurrency)

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
        if run and run.get("parts"):
            yield from self._partitioned(stream, state, upper)
            return
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
        backfill = after is None and not state.get("watermark")
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
            if backfill and len(rows) >= self.page_size and self.concurrency > 1:
                # More than a page to come: the rest of the window goes out in parallel.
                parts = build_parts(after[0], upper, 2 * self.concurrency)
                parts[0][2] = list(after)
                state["run"] = {"from": start, "parts": parts}
            total += len(records)
            log.debug("page_fetched", platform=PLATFORM, stream=stream, rows=len(rows))
            yield Page(PLATFORM, stream, records=records, bookmark=_copy(state),
                       requests=requests)
            if "parts" in state["run"]:
                yield from self._partitioned(stream, state, upper)
                return
        log.info("stream_pulled", platform=PLATFORM, stream=stream, records=total)

    def _partitioned(self, stream: str, state: dict[str, Any], upper: str) -> Iterator[Page]:
        """The rest of a backfill as parallel keyset-paged time slices; bookmarks per page."""
        parts = state["run"]["parts"]
        fields = self.fields_for(stream)
        total = 0

        def fetch(query: str) -> list[dict[str, Any]]:
            return self.client.fetch_rows(stream, query, fields, self.page_size)

        before = self.stats.requests
        for _, rows in iter_partitions(parts, upper, fetch, self.concurrency,
                                       lambda row: _cursor_of(stream, row)[::-1]):
            records = []
            for row in rows:
                key, updated = _cursor_of(stream, row)
                records.append(RawRecord(key=key, updated=sn_to_iso(updated), payload=row))
            if all(part[3] for part in parts):
                state["watermark"] = upper
                state.pop("run", None)
            total += len(records)
            now_made = self.stats.requests
            yield Page(PLATFORM, stream, records=records, bookmark=_copy(state),
                       requests=now_made - before)
            before = now_made
        if state.get("run"):  # resumed with every slice already done
            state["watermark"] = upper
            state.pop("run", None)
            yield Page(PLATFORM, stream, bookmark=_copy(state))
        log.info("stream_pulled", platform=PLATFORM, stream=stream, records=total,
                 partitions=len(parts))

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


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """A bookmark snapshot: the partition lists keep changing after a page is yielded."""
    return json.loads(json.dumps(state))


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
