"""(Re)build the canonical DuckDB file from the state store's raw records.

The raw payloads go through the one normaliser compute uses
(:func:`fiveo_sync.engine.normalise.normalise`); its records become rows
(:mod:`fiveo_sync.canonical.converter`) loaded in chunks (:mod:`~fiveo_sync.canonical.loader`).
A full build happens inside one DuckDB transaction in a temporary file beside the target,
which replaces the target with ``os.replace`` once complete: a build killed at any point
leaves the previous file as it was, and a leftover temporary file is removed by the next
build.

The file's ``canonical_build`` table records the digest of the inputs
(:mod:`fiveo_sync.canonical.digest`); :func:`refresh` does nothing while it matches, applies
the changed records only when nothing but record streams moved
(:mod:`~fiveo_sync.canonical.incremental`), and builds the whole file otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import structlog

from fiveo_sync import __version__
from fiveo_sync.canonical import id_traits, incremental
from fiveo_sync.canonical.converter import iter_all_rows
from fiveo_sync.canonical.digest import (
    LOOKUP_STREAMS,
    build_inputs,
    changed_inputs,
    digest_of,
    fetch_stream_marks,
)
from fiveo_sync.canonical.loader import READING, ChunkLoader, ProgressLike
from fiveo_sync.canonical.passes import (
    LOOKUP_TABLES,
    PER_RECORD,
    SURVEY,
    TABLES_OF,
    WHOLE,
    counting_tap,
    index_rows,
    kind_streams,
    merge_skips,
    normalise_part,
    read_lookups,
    survey_tasks,
)
from fiveo_sync.canonical.rawstore import iter_stamps, records_by_key
from fiveo_sync.canonical.schema import (
    BUILD,
    BUILD_TABLE,
    CHANGE_LOG,
    PREVIOUS,
    RAW_INDEX,
    SCHEMA_VERSION,
    TABLES,
)
from fiveo_sync.errors import StateError
from fiveo_sync.settings import ANALYTICS_MEMORY_MB, duckdb_config
from fiveo_sync.state import StateStore

log = structlog.get_logger(__name__)

CHUNK_RECORDS = 20_000  # raw records normalised at a time (bounds the build's memory)


@dataclass(frozen=True)
class BuildReport:
    """What :func:`refresh` did.

    Attributes:
        path: the canonical DuckDB file.
        rebuilt: whether the file was changed by this call (built or brought up to date).
        reasons: which inputs had changed (empty when current).
        rows: rows written per table (empty when not rebuilt).
        seconds: time taken (0 when not rebuilt).
        incremental: whether only the changed records were applied.
    """

    path: Path
    rebuilt: bool
    reasons: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    incremental: bool = False


def canonical_path(state_path: str | Path) -> Path:
    """The canonical file beside the SQLite store: ``<stem>.duckdb``."""
    return Path(state_path).with_suffix(".duckdb")


def read_build_info(path: Path) -> dict[str, Any] | None:
    """What a canonical file was built from and how, ``None`` when unusable.

    Keys: ``digest, inputs, skipped, mode, lineage, generation, id_traits``.
    """
    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            return build_info(conn)
    except duckdb.Error:
        return None  # missing table, older layout, damaged file: rebuild


def build_info(conn: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """:func:`read_build_info` on an open connection (raises ``duckdb.Error`` if unusable)."""
    row = conn.execute("SELECT digest, inputs, skipped, mode, lineage, generation, "  # noqa: S608
                       f'id_traits FROM "{BUILD_TABLE}"').fetchone()
    if row is None:
        return None
    return {"digest": row[0], "inputs": json.loads(row[1]) if row[1] else None,
            "skipped": json.loads(row[2]) if row[2] else {}, "mode": row[3],
            "lineage": row[4], "generation": row[5],
            "id_traits": json.loads(row[6]) if row[6] else {}}


def refresh(store_path: str | Path, mappings: Any, *, path: Path | None = None,
            progress: ProgressLike | None = None, force: bool = False,
            memory_mb: int = ANALYTICS_MEMORY_MB) -> BuildReport:
    """Bring the canonical file up to date when its inputs changed (or rebuild: ``force``).

    Args:
        store_path: the SQLite state store.
        mappings: the loaded mapping folder (``sources``, ``portfolio``).
        path: the canonical file (default: :func:`canonical_path` of ``store_path``).
        progress: where to show progress.
        force: build the whole file even when the digest matches.
        memory_mb: DuckDB's memory limit while writing (``state.analytics_memory_mb``).

    Returns:
        What was done.

    Raises:
        StateError: no state store, or DuckDB needs more memory than ``memory_mb``.
    """
    store_path = Path(store_path)
    if not store_path.is_file():
        raise StateError("no state store: run 'fiveo-sync pull' first", path=str(store_path))
    target = path or canonical_path(store_path)
    inputs = build_inputs(mappings, fetch_stream_marks(store_path))
    digest = digest_of(inputs)
    info = read_build_info(target)
    if info is not None and info["digest"] == digest and not force:
        return BuildReport(target, rebuilt=False)
    if force:
        reasons: tuple[str, ...] = ("forced",)
    else:
        reasons = tuple(changed_inputs(info["inputs"] if info else None, inputs))
    _remove_leftovers(target)  # of builds killed earlier, whichever kind
    try:
        return _update(store_path, mappings, target, info, (digest, inputs), reasons,
                       progress, force, memory_mb)
    except duckdb.OutOfMemoryException as exc:
        raise StateError(f"building the canonical tables needs more than {memory_mb} MB: "
                         f"raise state.analytics_memory_mb ({str(exc).splitlines()[0]})",
                         path=str(target)) from None


def _update(store_path: Path, mappings: Any, target: Path, info: dict[str, Any] | None,
            built_from: tuple[str, dict[str, Any]], reasons: tuple[str, ...],
            progress: ProgressLike | None, force: bool, memory_mb: int) -> BuildReport:
    """:func:`refresh` once it knows the file is out of date: incrementally, or whole."""
    digest, inputs = built_from
    started = time.monotonic()
    rows = None
    if info is not None and not force:
        rows = incremental.apply(store_path, mappings, target, info, digest, inputs, progress,
                                 memory_mb)
    if rows is not None:
        seconds = round(time.monotonic() - started, 3)
        log.info("canonical_updated", path=str(target), rows=sum(rows.values()),
                 duration_s=seconds)
        return BuildReport(target, True, reasons, rows, seconds, incremental=True)
    log.info("canonical_rebuild_started", path=str(target), reasons=list(reasons))
    rows = build(store_path, mappings, target, digest, inputs, progress, memory_mb)
    seconds = round(time.monotonic() - started, 3)
    log.info("canonical_rebuilt", path=str(target), rows=sum(rows.values()),
             duration_s=seconds)
    return BuildReport(target, True, reasons, rows, seconds)


def build(store_path: Path, mappings: Any, target: Path, digest: str,
          inputs: dict[str, Any], progress: ProgressLike | None = None,
          memory_mb: int = ANALYTICS_MEMORY_MB) -> dict[str, int]:
    """Build the canonical file into a temporary file, then move it over ``target``.

    Returns:
        Rows written per table.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    scratch = target.with_name(f"{temp.name}.rows")
    temp.unlink(missing_ok=True)
    scratch.mkdir(exist_ok=True)
    started = time.monotonic()
    try:
        with duckdb.connect(str(temp), config=duckdb_config(memory_mb)) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            conn.execute("BEGIN TRANSACTION")
            for table in (*TABLES, BUILD, RAW_INDEX, CHANGE_LOG, *PREVIOUS.values()):
                conn.execute(table.ddl())
            rows, skipped = _load(conn, store_path, mappings, scratch, progress)
            traits = json.dumps(id_traits.measure(conn), sort_keys=True)
            conn.execute(f'INSERT INTO "{BUILD_TABLE}" VALUES '  # noqa: S608
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                digest, datetime.now(UTC), __version__, SCHEMA_VERSION,
                json.dumps(inputs, sort_keys=True), json.dumps(skipped, sort_keys=True),
                round(time.monotonic() - started, 3), "full", uuid.uuid4().hex, 0, traits])
            conn.execute("COMMIT")
            conn.execute("CHECKPOINT")
        # A WAL left by some earlier crashed writer would be replayed onto the new file.
        Path(f"{target}.wal").unlink(missing_ok=True)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        Path(f"{temp}.wal").unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if progress is not None:
            progress.done()
    return rows


def _load(conn: duckdb.DuckDBPyConnection, store_path: Path, mappings: Any, scratch: Path,
          progress: ProgressLike | None) -> tuple[dict[str, int], dict[str, Any]]:
    """Normalise the store part by part into the tables; return rows and skip counts.

    First the lookups, portfolio, sprints, sprint scopes and outages; then each per-record
    kind in chunks of :data:`CHUNK_RECORDS`; then the survey responses with the incidents
    they were sent for. Peak memory is one chunk, whatever the size of the store.
    """
    tap = counting_tap(mappings, progress)
    streams = kind_streams(tap)
    loader = ChunkLoader(conn, scratch, progress, (*TABLES, RAW_INDEX))
    skipped: dict[str, dict[str, int]] = {}

    def load(data: Any, tables: Iterable[str]) -> None:
        wanted = set(tables)
        for table, row in iter_all_rows(data, mappings.portfolio, tap):
            if table in wanted:
                loader.add(table, row)

    with StateStore(store_path) as store:
        stored = store.streams()
        lookups = read_lookups(store)
        tap.read += sum(len(payloads) for payloads in lookups.values())  # read once, shown
        whole = {streams[k]: store.iter_records(*streams[k]) for k in WHOLE}
        data = normalise_part(mappings, tap, lookups, whole)
        load(data, LOOKUP_TABLES + tuple(t for k in WHOLE for t in TABLES_OF[k]))
        merge_skips(skipped, data.skipped, set(data.skipped) - PER_RECORD - set(SURVEY))
        for kind in sorted(PER_RECORD):
            records = store.iter_records(*streams[kind])
            while True:  # the normaliser reads each chunk lazily: one raw payload at a time
                before = tap.read
                data = normalise_part(mappings, tap, lookups,
                                      {streams[kind]: islice(records, CHUNK_RECORDS)})
                if tap.read == before:
                    break
                load(data, TABLES_OF[kind])
                merge_skips(skipped, data.skipped, [kind])
        tasks = survey_tasks(mappings, store, lookups, streams)
        surveys = {streams[k]: store.iter_records(*streams[k]) for k in SURVEY}
        context = {streams["incident"]: records_by_key(store_path, *streams["incident"], tasks)}
        data = normalise_part(mappings, tap, lookups, surveys, context)
        load(data, TABLES_OF["survey_response"])
        merge_skips(skipped, data.skipped, SURVEY)
    if progress is not None:
        progress.update(READING, tap.read)
    for source, stream in stored:
        if (source, stream) not in LOOKUP_STREAMS:
            for row in index_rows(source, stream, iter_stamps(store_path, source, stream),
                                  tap):
                loader.add(RAW_INDEX.name, row)
    loader.flush_all()
    return dict(loader.counts), skipped


def _remove_leftovers(target: Path) -> None:
    """Delete temporary files of builds whose process is gone (killed mid-build)."""
    for leftover in target.parent.glob(f"{target.name}.tmp-*"):
        pid_text = leftover.name.rsplit(".tmp-", 1)[-1].split(".", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _alive(int(pid_text)):
            continue
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
