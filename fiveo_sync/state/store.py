"""The SQLite state store: raw records, bookmarks, run history and result history.

One file, WAL mode. A page of records, its deletions and its bookmark commit in one
transaction (:meth:`StateStore.save_page`), so a crash between pages loses nothing and
repeats nothing. The schema carries a version and migrates forward on open.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from connectors.base import Page, RawRecord
from fiveo_sync.errors import StateError
from fiveo_sync.state.schema import MIGRATIONS, SCHEMA_VERSION


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# (indicator, periods, scopes or None for all): cells a run computed whole.
Recomputed = tuple[str, Iterable[str], Collection[str] | None]


class StateStore:
    """Access to one state database.

    Args:
        path: the SQLite file; created (with its parent folder) when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open state store: {exc}", path=str(self.path)) from exc
        except OSError as exc:
            raise StateError(f"cannot create state store: {exc.strerror}",
                             path=str(self.path)) from exc

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self._conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise StateError(
                f"state store schema {current} is newer than this fiveo-sync "
                f"(knows up to {SCHEMA_VERSION}); upgrade fiveo-sync", path=str(self.path))
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self._transaction() as cur:
                for statement in MIGRATIONS[version]:
                    cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {version:d}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn, self.path)

    # -- records and bookmarks ---------------------------------------------------------

    def save_page(self, page: Page) -> None:
        """Commit a page's records, its deletions and its bookmark atomically.

        Records are upserted by key (an overlap re-read replaces the same row); with
        ``page.insert_only`` an existing key is kept as it was.
        """
        # An upsert, not REPLACE: the stream-marks triggers see a replaced record as an update
        # (REPLACE deletes without firing delete triggers).
        if page.insert_only:
            sql = ("INSERT OR IGNORE INTO records (source, stream, key, updated, payload) "
                   "VALUES (?, ?, ?, ?, ?)")
        else:
            sql = ("INSERT INTO records (source, stream, key, updated, payload) VALUES "
                   "(?, ?, ?, ?, ?) ON CONFLICT (source, stream, key) DO UPDATE SET "
                   "updated = excluded.updated, payload = excluded.payload")
        rows = [(page.source, page.stream, r.key, r.updated, _dumps(r.payload))
                for r in page.records]
        with self._transaction() as cur:
            cur.executemany(sql, rows)
            cur.executemany(
                "DELETE FROM records WHERE source = ? AND stream = ? AND key = ?",
                [(page.source, page.stream, key) for key in page.deleted_keys])
            if page.bookmark is not None:
                cur.execute(
                    "INSERT OR REPLACE INTO bookmarks (source, stream, value) VALUES (?, ?, ?)",
                    (page.source, page.stream, _dumps(page.bookmark)))

    def get_bookmark(self, source: str, stream: str) -> dict[str, Any] | None:
        """The stored bookmark of a stream, or ``None`` before its first page."""
        row = self._conn.execute(
            "SELECT value FROM bookmarks WHERE source = ? AND stream = ?",
            (source, stream)).fetchone()
        return json.loads(row[0]) if row else None

    def clear_bookmark(self, source: str, stream: str) -> None:
        """Forget a stream's bookmark so the next pull starts from scratch."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM bookmarks WHERE source = ? AND stream = ?",
                        (source, stream))

    def iter_records(self, source: str, stream: str) -> Iterator[RawRecord]:
        """Every stored record of a stream, ordered by key."""
        with closing(self._conn.execute(
                "SELECT key, updated, payload FROM records WHERE source = ? AND stream = ? "
                "ORDER BY key", (source, stream))) as cursor:
            for key, updated, payload in cursor:
                yield RawRecord(key=key, updated=updated, payload=json.loads(payload))

    def iter_payloads(self, source: str, stream: str) -> Iterator[Any]:
        """Every stored payload of a stream, ordered by key (what compute reads)."""
        decode = json.JSONDecoder().decode
        with closing(self._conn.execute(
                "SELECT payload FROM records WHERE source = ? AND stream = ? ORDER BY key",
                (source, stream))) as cursor:
            for (payload,) in cursor:
                yield decode(payload)

    def record_versions(self, source: str, stream: str) -> dict[str, str]:
        """``{key: updated}`` for every stored record of a stream."""
        return dict(self._conn.execute(
            "SELECT key, updated FROM records WHERE source = ? AND stream = ?",
            (source, stream)))

    def count_records(self, source: str, stream: str | None = None) -> int:
        """How many records a source (or one of its streams) holds."""
        if stream is None:
            sql, args = "SELECT count(*) FROM records WHERE source = ?", (source,)
        else:
            sql = "SELECT count(*) FROM records WHERE source = ? AND stream = ?"
            args = (source, stream)
        return self._conn.execute(sql, args).fetchone()[0]

    def stream_mark(self, source: str, stream: str) -> tuple[int, str | None, int] | None:
        """``(records, newest stamp, sum of stamps)`` of a stream, kept by triggers.

        It changes whenever a record of the stream is saved, replaced or deleted: what a
        reader of the stream can compare to know that it would read the same again.
        """
        row = self._conn.execute("SELECT n, newest, total FROM stream_marks WHERE source = ? "
                                 "AND stream = ?", (source, stream)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def streams(self) -> list[tuple[str, str]]:
        """The (source, stream) pairs that hold records."""
        return list(self._conn.execute(
            "SELECT DISTINCT source, stream FROM records ORDER BY source, stream"))

    # -- runs ------------------------------------------------------------------------

    def start_run(self, run_id: str, started_at: str, command: str = "run") -> None:
        """Record the start of a run."""
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO runs (id, command, started_at, status) VALUES (?, ?, ?, 'running')",
                (run_id, command, started_at))

    def finish_run(self, run_id: str, finished_at: str, status: str,
                   counts: dict[str, Any], exit_code: int) -> None:
        """Record how a run ended."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, exit_code = ? "
                "WHERE id = ?", (finished_at, status, _dumps(counts), exit_code, run_id))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent runs, newest first."""
        rows = self._conn.execute(
            "SELECT id, command, started_at, finished_at, status, counts, exit_code "
            "FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,))
        keys = ("id", "command", "started_at", "finished_at", "status", "counts", "exit_code")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["counts"] = json.loads(item["counts"]) if item["counts"] else {}
            out.append(item)
        return out

    # -- indicator results -------------------------------------------------------------

    def save_results(self, run_id: str, computed_at: str,
                     results: Iterable[dict[str, Any]],
                     recomputed: Iterable[Recomputed] = ()) -> int:
        """Store one computation's results; a later computation of a period replaces it.

        Each result dict needs ``indicator, scope_type, scope, breakdown, period``.
        ``results`` may be a generator: each row is encoded as it is inserted, so a first
        computation's tens of thousands of payloads (with their evidence) are never all
        held as JSON text at once. ``recomputed`` names ``(indicator, periods, scopes or
        None for all)`` this run computed whole: the stored results there it did not give
        again are deleted in the same transaction (:meth:`drop_stale_window_results`).
        Returns the number of results stored.
        """
        stored = 0

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal stored
            for r in results:
                stored += 1
                yield (r["indicator"], r["scope_type"], r["scope"], r.get("breakdown") or "all",
                       r["period"], run_id, computed_at, _dumps(r), r.get("period_end"),
                       json.dumps(r.get("value")), r.get("status"),
                       1 if (r.get("flags") or {}).get("no_baseline") else 0)

        with self._transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO results (indicator, scope_type, scope, breakdown, "
                "period, run_id, computed_at, payload, period_end, value, status, "
                "no_baseline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
            for indicator, periods, scopes in recomputed:
                self._drop_stale(cur, run_id, indicator, periods, scopes)
        return stored

    def iter_results(self) -> Iterator[dict[str, Any]]:
        """Every stored result (latest computation per period), in key order."""
        with closing(self._conn.execute(
                "SELECT payload FROM results ORDER BY indicator, scope_type, scope, "
                "breakdown, period")) as cursor:
            for (payload,) in cursor:
                yield json.loads(payload)

    def window_runs(self, indicator: str, periods: Iterable[str]) -> dict[str, int]:
        """How many results of one indicator for these periods each run stored (and holds)."""
        wanted = list(periods)
        marks = ", ".join("?" * len(wanted))
        rows = self._conn.execute(
            "SELECT run_id, count(*) FROM results WHERE indicator = ? AND period "  # noqa: S608
            f"IN ({marks}) GROUP BY run_id", [indicator, *wanted])
        return dict(rows.fetchall())

    def window_results(self, indicator: str, periods: Iterable[str],
                       skip: Collection[str] = ()) -> list[dict[str, Any]]:
        """The stored results of one indicator for these periods, but the scopes ``skip``."""
        wanted, left_out = list(periods), sorted(skip)
        marks, out = ", ".join("?" * len(wanted)), ", ".join("?" * len(left_out))
        with closing(self._conn.execute(
                "SELECT payload FROM results WHERE indicator = ? AND period "  # noqa: S608
                f"IN ({marks}) AND scope NOT IN ({out}) "
                "ORDER BY scope_type, scope, breakdown, period",
                [indicator, *wanted, *left_out])) as cursor:
            return [json.loads(payload) for (payload,) in cursor]

    def drop_stale_window_results(self, run_id: str, indicator: str, periods: Iterable[str],
                                  scopes: Collection[str] | None = None) -> int:
        """Delete what a run that computed these periods of an indicator did not give again.

        Run ``run_id`` stored every result it computed for ``periods`` (of ``scopes``;
        None: every scope); a result of an earlier run still there is a cell that no
        longer exists (a breakdown value no record has any more). Left, a later run that
        reuses the window's results would give it back. Returns how many were deleted.
        """
        with self._transaction() as cur:
            return self._drop_stale(cur, run_id, indicator, periods, scopes)

    @staticmethod
    def _drop_stale(cur: sqlite3.Cursor, run_id: str, indicator: str, periods: Iterable[str],
                    scopes: Collection[str] | None) -> int:
        wanted = list(periods)
        marks = ", ".join("?" * len(wanted))
        sql = f"DELETE FROM results WHERE indicator = ? AND period IN ({marks}) AND run_id <> ?"  # noqa: S608
        args: list[Any] = [indicator, *wanted, run_id]
        if scopes is not None:
            sql += f" AND scope IN ({', '.join('?' * len(scopes))})"
            args += sorted(scopes)
        return cur.execute(sql, args).rowcount

    def result_count(self) -> int:
        """How many results the store holds (one per indicator, scope, breakdown, period)."""
        return self._conn.execute("SELECT count(*) FROM results").fetchone()[0]

    def iter_series_points(self) -> Iterator[tuple[Any, ...]]:
        """What trends and baselines need of every stored result, without decoding it whole.

        Yields ``(indicator, scope_type, scope, breakdown, period, period_end, value,
        status, no_baseline)``, read from the columns kept beside the payload: ``value`` as
        JSON text (``'null'``), so a float is parsed by Python exactly as ``json.loads``
        would, and ``no_baseline`` as 0 or 1.
        """
        with closing(self._conn.execute(
                "SELECT indicator, scope_type, scope, breakdown, period, period_end, value, "
                "status, no_baseline FROM results")) as cursor:
            yield from cursor

    # -- key/value metadata ------------------------------------------------------------

    def get_meta(self, name: str) -> Any:
        """A small JSON value stored under ``name`` (``None`` when absent)."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, name: str, value: Any) -> None:
        """Store a small JSON value under ``name``."""
        with self._transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                        (name, _dumps(value)))


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception.

    SQLite errors (disk full, read-only file, corruption) become :class:`StateError`.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    def __enter__(self) -> sqlite3.Cursor:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateError(f"cannot write state store: {exc}", path=str(self._path)) from exc
        return self._conn.cursor()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if exc_type is None:
            try:
                self._conn.execute("COMMIT")
                return
            except sqlite3.Error as commit_exc:
                self._conn.execute("ROLLBACK")
                raise StateError(f"cannot write state store: {commit_exc}",
                                 path=str(self._path)) from commit_exc
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StateError(f"cannot write state store: {exc}", path=str(self._path)) from exc
