"""Normalising part of the store at a time: which tables derive from which streams.

Both the full build and the incremental refresh normalise subsets of the stored records —
a chunk of incidents, the changed Jira issues, the survey streams — each time with the
whole lookup streams (groups, users, services, fields…), which are small. Memory is then
bounded by the chunk, not by the store (a million incidents never sit in memory at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from connectors.base import RawRecord
from fiveo_sync.canonical.digest import LOOKUP_STREAMS
from fiveo_sync.canonical.keymap import NOTED_KINDS, SCOPE_STREAM, RawKeyTap
from fiveo_sync.canonical.loader import READING, ProgressLike
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.records import CanonicalData
from fiveo_sync.state import StateStore

StreamKey = tuple[str, str]

# Tables derived from each kind's stream(s).
TABLES_OF = {
    "incident": ("incidents",), "change": ("changes",), "problem": ("problems",),
    "sla": ("slas",),
    "work_item": ("work_items", "work_item_status_changes", "work_item_sprint_changes",
                  "work_item_points_changes"),
    "sprint": ("sprints",), "sprint_scope": ("sprint_scopes", "sprint_scope_items"),
    "outage": ("outages",), "survey_response": ("survey_responses",),
    "survey_result": ("survey_responses",)}
PER_RECORD = NOTED_KINDS  # incident, change, problem, sla, work_item: record by record
SURVEY = ("survey_response", "survey_result")  # a response takes its incident's service
WHOLE = ("sprint", "sprint_scope", "outage")  # small, read in one pass with the lookups
LOOKUP_TABLES = ("services", "products", "suppliers", "groups")  # lookups and portfolio
_PROGRESS_EVERY = 2_000  # records between progress updates while reading


def kind_streams(tap: RawKeyTap) -> dict[str, StreamKey]:
    """``{kind: (source, stream)}`` of every kind the canonical tables derive from."""
    found = {kind: tap.streams[kind] for kind in TABLES_OF if kind in tap.streams}
    found["sprint_scope"] = SCOPE_STREAM
    return found


def read_lookups(store: StateStore) -> dict[StreamKey, list[Any]]:
    """The payloads of every lookup stream (read once, fed to every pass)."""
    return {key: list(store.iter_payloads(*key)) for key in LOOKUP_STREAMS}


def normalise_part(mappings: Any, tap: RawKeyTap, lookups: dict[StreamKey, list[Any]],
                   streams: dict[StreamKey, Iterable[RawRecord]],
                   context: dict[StreamKey, Iterable[RawRecord]] | None = None
                   ) -> CanonicalData:
    """Normalise ``streams`` (through ``tap``, which notes raw keys and skips) with the lookups.

    ``context`` records are read for what other records take from them (the incident of a
    survey response), not through the tap: their rows are not loaded.
    """
    raw: dict[StreamKey, Iterable[Any]] = dict(lookups)
    raw.update({key: (r.payload for r in records) for key, records in (context or {}).items()})
    raw.update({key: tap.payloads(*key, records) for key, records in streams.items()})
    return normalise(mappings.sources, mappings.portfolio, raw, on_skip=tap.on_skip)


def survey_tasks(mappings: Any, store: StateStore, lookups: dict[StreamKey, list[Any]],
                 streams: dict[str, StreamKey]) -> set[str]:
    """The incidents the stored survey responses were sent for."""
    raw: dict[StreamKey, Iterable[Any]] = dict(lookups)
    raw.update({streams[k]: store.iter_payloads(*streams[k]) for k in SURVEY})
    data = normalise(mappings.sources, mappings.portfolio, raw)
    return {r.task for r in data.survey_responses if r.task}


def merge_skips(total: dict[str, dict[str, int]], found: dict[str, dict[str, int]],
                kinds: Iterable[str]) -> None:
    """Add the skip counts of ``kinds`` in ``found`` to ``total``."""
    for kind in kinds:
        for reason, count in found.get(kind, {}).items():
            per_kind = total.setdefault(kind, {})
            per_kind[reason] = per_kind.get(reason, 0) + count


def counting_tap(mappings: Any, progress: ProgressLike | None) -> RawKeyTap:
    """A :class:`RawKeyTap` that shows the records read on ``progress``."""
    def on_record(read: int) -> None:
        if progress is not None and read % _PROGRESS_EVERY == 0:
            progress.update(READING, read)

    return RawKeyTap(mappings.sources, on_record)


def index_rows(source: str, stream: str, found: Iterable[tuple[str, str, int | None]],
               tap: RawKeyTap) -> Iterator[dict[str, Any]]:
    """Rows of the raw index for ``found`` stamps, with the skips the tap noted."""
    for key, updated, epoch in found:
        kind, reason = tap.skipped.get((source, stream, key), (None, None))
        yield {"raw_source": source, "raw_stream": stream, "raw_key": key,
               "updated": updated, "updated_epoch": epoch, "skipped_kind": kind,
               "skipped_reason": reason}
