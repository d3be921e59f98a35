"""Pulling: every stream of every connector, page by page, into the state store.

A page's records, deletions and bookmark are committed together
(:meth:`~fiveo_sync.state.store.StateStore.save_page`), so a pull killed at any point
resumes from the last committed page and repeats nothing. One failing platform does not
stop the others; its error is reported with the summary.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector
from fiveo_sync.errors import AuthError, FiveoSyncError, StateError
from fiveo_sync.progress import Progress
from fiveo_sync.state.store import StateStore


@dataclass
class StreamSummary:
    """What one stream's pull did."""

    source: str
    stream: str
    records: int = 0
    deleted: int = 0
    pages: int = 0
    seconds: float = 0.0


@dataclass
class PullReport:
    """The outcome of pulling every source."""

    streams: list[StreamSummary] = field(default_factory=list)
    failures: dict[str, FiveoSyncError] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Records pulled per ``source.stream``."""
        return {f"{s.source}.{s.stream}": s.records for s in self.streams}

    @property
    def total_records(self) -> int:
        """Records pulled across all streams."""
        return sum(s.records for s in self.streams)


def pull_all(store: StateStore, connectors: Mapping[str, Connector], *, log: Any,
             full: bool = False, progress: Progress | None = None) -> PullReport:
    """Pull every stream of every connector into ``store``.

    Args:
        store: the state store receiving pages.
        connectors: source name → connector.
        log: a structlog logger.
        full: ignore bookmarks and read everything again (records are upserted).
        progress: terminal progress display (optional).
    """
    report = PullReport()
    progress = progress or Progress(enabled=False)
    for source, connector in connectors.items():
        try:
            for stream in connector.streams():
                report.streams.append(
                    _pull_stream(store, connector, source, stream, full, log, progress))
        except StateError:
            # The store, not the source, failed (disk full, read-only): nothing can be
            # saved for any source, so the whole run stops (exit 74) instead of going on
            # to compute and push from a store that could not take this pull.
            raise
        except AuthError as exc:
            # Credentials are wrong for every stream: no point going on with this source.
            report.failures[source] = exc
            log.error("source_failed", source=source, error=str(exc))
        except FiveoSyncError as exc:
            report.failures[source] = exc
            log.error("source_failed", source=source, error=str(exc))
        finally:
            progress.done()
    return report


def _pull_stream(store: StateStore, connector: Connector, source: str, stream: str,
                 full: bool, log: Any, progress: Progress) -> StreamSummary:
    summary = StreamSummary(source=source, stream=stream)
    started = time.monotonic()
    bookmark = None if full else store.get_bookmark(source, stream)
    for page in connector.iter_pages(stream, bookmark, full=full):
        store.save_page(page)
        summary.records += len(page.records)
        summary.deleted += len(page.deleted_keys)
        summary.pages += 1
        log.debug("page_committed", source=source, stream=stream, rows=len(page.records),
                  deleted=len(page.deleted_keys))
        progress.update(f"{source} {stream}", summary.records)
    summary.seconds = round(time.monotonic() - started, 3)
    log.info("stream_pulled", source=source, stream=stream, records=summary.records,
             deleted=summary.deleted, pages=summary.pages, duration_s=summary.seconds)
    return summary
