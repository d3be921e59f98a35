"""Apply the records changed since the last build to the canonical file, in place.

When only record streams moved (the layout, source maps, portfolio and lookup streams are
as they were), :func:`apply` finds the changed raw records by comparing the store with the
file's raw index (``canonical_raw_records``), normalises only those, and replaces their rows
in one DuckDB transaction on the file itself. A kill before ``COMMIT`` leaves the file as it
was (DuckDB drops an uncommitted write-ahead log when the file is next opened), its digest
still names the old inputs, and the next refresh finds the same changes again.

Incidents, changes, problems, SLAs and Jira issues (with their histories) are replaced per
raw record. Sprints, sprint scopes, outages and survey responses are small and depend on
more than one record, so their tables are derived again whole when one of their streams
moved. A survey response takes the service of the incident it was sent for: after the
incidents are replaced, every response's service is set again from the ``incidents`` table
(not by normalising the surveyed incidents, which cost seconds when one of them changed).

Finding the changes: the records stamped at or after the stream's previous newest stamp are
read from the store and compared with the index; when the stream's count and sum of stamps
then add up to the store's marks, nothing else changed. Otherwise (a deletion, a record
replaced by an older version) every key and stamp of the stream is compared.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import structlog

from fiveo_sync import __version__
from fiveo_sync.canonical import id_traits
from fiveo_sync.canonical.converter import iter_all_rows
from fiveo_sync.canonical.keymap import RawKeyTap
from fiveo_sync.canonical.loader import READING, ChunkLoader, ProgressLike
from fiveo_sync.canonical.passes import (
    PER_RECORD,
    SURVEY,
    TABLES_OF,
    counting_tap,
    index_rows,
    kind_streams,
    normalise_part,
    read_lookups,
)
from fiveo_sync.canonical.rawstore import Stamp, iter_stamps, records_by_key, stamps
from fiveo_sync.canonical.schema import (
    BUILD_TABLE,
    CHANGES_KEPT,
    CHANGES_TABLE,
    PREVIOUS,
    RAW_INDEX,
    RAW_INDEX_TABLE,
    TABLES,
)
from fiveo_sync.settings import ANALYTICS_MEMORY_MB, duckdb_config
from fiveo_sync.state import StateStore

log = structlog.get_logger(__name__)

# Above this share of a stream's records changed, one full build is cheaper.
MAX_CHANGED_SHARE = 0.25
_MIN_FULL = 1_000  # ... but a few changed records in a tiny stream never force one


def moved_kinds(old: dict[str, Any], new: dict[str, Any],
                streams: dict[str, tuple[str, str]]) -> set[str] | None:
    """The kinds whose streams moved, or ``None`` when only a full build is right.

    ``None`` when anything but a record stream changed, when a moved stream is not one the
    tables derive from (a lookup read under another stream name, say), or when two kinds
    read one stream.
    """
    if any(old.get(name) != new.get(name) for name in ("layout", "sources", "portfolio",
                                                        "lookups")):
        return None
    if len(set(streams.values())) != len(streams):
        return None
    by_name = {f"{s}/{t}": kind for kind, (s, t) in streams.items()}
    old_marks, new_marks = old.get("records") or {}, new.get("records") or {}
    kinds: set[str] = set()
    for name in set(old_marks) | set(new_marks):
        if old_marks.get(name) == new_marks.get(name):
            continue
        if name not in by_name:
            return None
        kinds.add(by_name[name])
    return kinds


def _indexed(conn: duckdb.DuckDBPyConnection, source: str, stream: str,
             keys: list[str] | None = None) -> dict[str, tuple[str, int | None]]:
    sql = (f'SELECT raw_key, updated, updated_epoch FROM "{RAW_INDEX_TABLE}" '  # noqa: S608
           "WHERE raw_source = ? AND raw_stream = ?")
    args: list[Any] = [source, stream]
    if keys is not None:
        sql += " AND raw_key IN (SELECT unnest(?::VARCHAR[]))"
        args.append(keys)
    return {key: (updated, epoch) for key, updated, epoch in conn.execute(sql, args).fetchall()}


def diff_stream(conn: duckdb.DuckDBPyConnection, store_path: Path, source: str, stream: str,
                old_mark: list[Any] | None, new_mark: list[Any] | None
                ) -> tuple[list[Stamp], set[str]]:
    """``(changed or new stamps, deleted keys)`` of one stream since the last build."""
    if old_mark is not None and new_mark is not None:
        old_count, old_newest, old_sum = old_mark
        candidates = stamps(store_path, source, stream, since=old_newest)
        known = _indexed(conn, source, stream, [key for key, _, _ in candidates])
        count, total = old_count, old_sum or 0
        for key, _updated, epoch in candidates:
            if key in known:
                total -= known[key][1] or 0
            else:
                count += 1
            total += epoch or 0
        if count == new_mark[0] and total == (new_mark[2] or 0):
            return [c for c in candidates if known.get(c[0], (None,))[0] != c[1]], set()
    current = stamps(store_path, source, stream) if new_mark is not None else []
    indexed = _indexed(conn, source, stream)
    changed = [c for c in current if indexed.get(c[0], (None,))[0] != c[1]]
    return changed, set(indexed) - {key for key, _, _ in current}


def apply(store_path: Path, mappings: Any, target: Path, info: dict[str, Any], digest: str,
          inputs: dict[str, Any], progress: ProgressLike | None = None,
          memory_mb: int = ANALYTICS_MEMORY_MB) -> dict[str, int] | None:
    """Apply the changed records to ``target``; ``None`` when a full build should be done.

    Args:
        store_path: the state store.
        mappings: the loaded mapping folder.
        target: the canonical file (built by this layout: ``info`` read from it).
        info: :func:`~fiveo_sync.canonical.builder.read_build_info` of ``target``.
        digest: the digest of ``inputs``.
        inputs: the current inputs (:func:`~fiveo_sync.canonical.digest.build_inputs`).
        progress: where to show progress.
        memory_mb: DuckDB's memory limit while writing.

    Returns:
        Rows written per table, or ``None`` (not applicable, too many changes, or the file
        is locked by another process: a full build replaces it without needing its lock).
    """
    tap = counting_tap(mappings, progress)
    streams = kind_streams(tap)
    kinds = moved_kinds(info.get("inputs") or {}, inputs, streams)
    if kinds is None:
        return None
    started = time.monotonic()
    try:
        conn = duckdb.connect(str(target), config=duckdb_config(memory_mb))
    except duckdb.Error as exc:  # another process holds the file: build a new one instead
        log.info("canonical_incremental_skipped", path=str(target), reason=str(exc)[:200])
        return None
    scratch = target.with_name(f"{target.name}.tmp-{os.getpid()}.incremental")
    try:
        with conn:
            conn.execute("SET TimeZone = 'UTC'")
            update = _Update(conn, store_path, mappings, tap, streams, info, inputs)
            if not update.plan(kinds):
                return None
            generation = int(info.get("generation") or 0) + 1
            conn.execute("BEGIN TRANSACTION")
            update.delete_old_rows(generation)
            scratch.mkdir(exist_ok=True)
            loader = ChunkLoader(conn, scratch, progress, (*TABLES, RAW_INDEX))
            skipped = update.load(loader)
            update.log_changes(generation)
            traits = update.id_traits(info.get("id_traits") or {})
            conn.execute(
                f'UPDATE "{BUILD_TABLE}" SET digest = ?, built_at = ?, '  # noqa: S608
                "fiveo_sync_version = ?, inputs = ?, skipped = ?, seconds = ?, "
                "mode = 'incremental', generation = ?, id_traits = ?",
                [digest, datetime.now(UTC), __version__, _json(inputs), _json(skipped),
                 round(time.monotonic() - started, 3), generation, _json(traits)])
            conn.execute("COMMIT")
            conn.execute("CHECKPOINT")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if progress is not None:
            progress.done()
    return dict(loader.counts)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class _Update:
    """The changes of one incremental refresh: found, then deleted and loaded."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, store_path: Path, mappings: Any,
                 tap: RawKeyTap, streams: dict[str, tuple[str, str]], info: dict[str, Any],
                 inputs: dict[str, Any]) -> None:
        self.conn, self.store_path, self.mappings, self.tap = conn, store_path, mappings, tap
        self.streams, self.info, self.inputs = streams, info, inputs
        self.changed: dict[str, list[Stamp]] = {}
        self.deleted: dict[str, set[str]] = {}
        self.whole: set[str] = set()  # kinds whose tables are derived again whole
        self.surveyed_changed = False  # an incident with survey responses changed

    def _mark(self, marks_of: str, kind: str) -> list[Any] | None:
        source, stream = self.streams[kind]
        return ((self.info.get("inputs") or {} if marks_of == "old" else self.inputs)
                .get("records") or {}).get(f"{source}/{stream}")

    def plan(self, kinds: set[str]) -> bool:
        """Find the changed records; False when a full build is the better choice."""
        for kind in sorted(kinds & PER_RECORD):
            source, stream = self.streams[kind]
            old, new = self._mark("old", kind), self._mark("new", kind)
            changed, deleted = diff_stream(self.conn, self.store_path, source, stream,
                                           old, new)
            size = max((old or [0])[0], (new or [0])[0])
            if len(changed) + len(deleted) > max(_MIN_FULL, MAX_CHANGED_SHARE * size):
                log.info("canonical_incremental_skipped", kind=kind, changed=len(changed),
                         deleted=len(deleted), records=size)
                return False
            self.changed[kind], self.deleted[kind] = changed, deleted
        self.whole = kinds - PER_RECORD
        if self.whole & set(SURVEY):
            self.whole |= set(SURVEY)
        touched = {key for key, _, _ in self.changed.get("incident", ())} | \
            self.deleted.get("incident", set())
        if touched and not self.whole & set(SURVEY):
            tasks = self.conn.execute(
                "SELECT count(*) FROM survey_responses WHERE task IN "
                "(SELECT unnest(?::VARCHAR[]))", [sorted(touched)]).fetchone()[0]
            self.surveyed_changed = bool(tasks)
        return True

    def delete_old_rows(self, generation: int) -> None:
        """Delete the rows (and index entries) the load replaces.

        The record tables' rows are kept first in their ``canonical_previous_*`` table,
        tagged with this refresh's generation: where a computation finds where they were.
        """
        for kind, changed in self.changed.items():
            source, stream = self.streams[kind]
            keys = sorted({key for key, _, _ in changed} | self.deleted[kind])
            if not keys:
                continue
            for table in (*TABLES_OF[kind], RAW_INDEX_TABLE):
                if table in PREVIOUS:
                    self.conn.execute(
                        f'INSERT INTO "{PREVIOUS[table].name}" SELECT ?, * FROM "{table}" '  # noqa: S608
                        "WHERE raw_source = ? AND raw_stream = ? "
                        "AND raw_key IN (SELECT unnest(?::VARCHAR[]))",
                        [generation, source, stream, keys])
                self.conn.execute(
                    f'DELETE FROM "{table}" WHERE raw_source = ? AND raw_stream = ? '  # noqa: S608
                    "AND raw_key IN (SELECT unnest(?::VARCHAR[]))", [source, stream, keys])
        for kind in self.whole:
            source, stream = self.streams[kind]
            for table in TABLES_OF[kind]:
                self.conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 - schema names
            self.conn.execute(f'DELETE FROM "{RAW_INDEX_TABLE}" WHERE raw_source = ? '  # noqa: S608
                              "AND raw_stream = ?", [source, stream])

    def log_changes(self, generation: int) -> None:
        """Note in ``canonical_changes`` the rows this refresh replaced, deleted or rederived.

        A computation reads them to learn which rows changed since it last ran; the keys
        (and previous rows) of the last :data:`CHANGES_KEPT` refreshes are kept.
        """
        rows: list[tuple[int, str, str | None]] = []
        for kind, changed in self.changed.items():
            keys = sorted({key for key, _, _ in changed} | self.deleted[kind])
            rows += [(generation, table, key) for table in TABLES_OF[kind] for key in keys]
        rows += [(generation, table, None) for kind in sorted(self.whole)
                 for table in TABLES_OF[kind]]
        if self.surveyed_changed and not self.whole & set(SURVEY):  # services set again
            rows.append((generation, "survey_responses", None))
        for table in (CHANGES_TABLE, *(previous.name for previous in PREVIOUS.values())):
            self.conn.execute(f'DELETE FROM "{table}" WHERE generation <= ?',  # noqa: S608
                              [generation - CHANGES_KEPT])
        if rows:
            self.conn.executemany(f'INSERT INTO "{CHANGES_TABLE}" VALUES (?, ?, ?)', rows)  # noqa: S608

    def id_traits(self, old: dict[str, Any]) -> dict[str, list[bool]]:
        """``canonical_build.id_traits`` after this refresh (:mod:`.id_traits`)."""
        replaced: dict[str, set[str]] = {}
        for kind, changed in self.changed.items():
            keys = {key for key, _, _ in changed} | self.deleted[kind]
            for table in TABLES_OF[kind]:
                replaced.setdefault(table, set()).update(keys)
        whole = {table for kind in self.whole for table in TABLES_OF[kind]}
        return id_traits.update(self.conn, old, replaced, whole)

    def _streams(self, store: StateStore) -> dict[tuple[str, str], Iterable[Any]]:
        """The records to normalise: the changed ones and the kinds derived whole."""
        raw: dict[tuple[str, str], Iterable[Any]] = {}
        for kind, changed in self.changed.items():
            keys = {key for key, _, _ in changed}
            raw[self.streams[kind]] = records_by_key(self.store_path, *self.streams[kind], keys)
        for kind in self.whole:
            raw[self.streams[kind]] = store.iter_records(*self.streams[kind])
        return raw

    def load(self, loader: ChunkLoader) -> dict[str, Any]:
        """Normalise the changed records, load their rows and index; return the skips."""
        with StateStore(self.store_path) as store:
            data = normalise_part(self.mappings, self.tap, read_lookups(store),
                                  self._streams(store))
        if loader.progress is not None:
            loader.progress.update(READING, self.tap.read)
        wanted = {table for kind in (*self.changed, *self.whole) for table in TABLES_OF[kind]}
        for table, row in iter_all_rows(data, self.mappings.portfolio, self.tap):
            if table in wanted:
                loader.add(table, row)
        for kind, changed in self.changed.items():
            for row in index_rows(*self.streams[kind], changed, self.tap):
                loader.add(RAW_INDEX_TABLE, row)
        for kind in self.whole:
            found = iter_stamps(self.store_path, *self.streams[kind])
            for row in index_rows(*self.streams[kind], found, self.tap):
                loader.add(RAW_INDEX_TABLE, row)
        loader.flush_all()
        if self.whole & set(SURVEY) or self.surveyed_changed:
            self._survey_services()
        return self._skipped(data.skipped)

    def _survey_services(self) -> None:
        """Give each response the service of its incident, as this refresh left it.

        The normaliser's rule (``survey_responses``; no incident, no service), applied to
        the table: responses are normalised without their incidents.
        """
        self.conn.execute(
            'UPDATE "survey_responses" AS s SET service = (SELECT any_value(i.service) '
            'FROM "incidents" AS i WHERE i.id = s.task)')

    def _skipped(self, fresh: dict[str, dict[str, int]]) -> dict[str, Any]:
        """The skip counts of the whole file.

        Per record from the index for the per-record kinds, this pass's counts for what it
        read whole, the last build's for the rest.
        """
        # Lookups are read whole on every pass (and have not changed).
        skipped = {kind: counts for kind, counts in (self.info.get("skipped") or {}).items()
                   if kind in TABLES_OF and kind not in PER_RECORD and kind not in self.whole}
        skipped.update({kind: counts for kind, counts in fresh.items()
                        if kind not in PER_RECORD and
                        (kind not in TABLES_OF or kind in self.whole)})
        for kind, reason, count in self.conn.execute(
                f'SELECT skipped_kind, skipped_reason, count(*) FROM "{RAW_INDEX_TABLE}" '  # noqa: S608
                "WHERE skipped_kind IS NOT NULL GROUP BY ALL ORDER BY ALL").fetchall():
            skipped.setdefault(kind, {})[reason] = count
        return skipped
