"""Read-only queries on the state store's ``records`` table for the canonical builder.

The builder needs what the store's API does not offer: each record's stamp as SQLite reads
it (``unixepoch(updated)``, the figure the stream marks sum), the records stamped at or
after a moment, and payloads by key. Each function opens its own read-only connection, so
a refresh never takes the store's write lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

from connectors.base import RawRecord
from fiveo_sync.errors import StateError

Stamp = tuple[str, str, int | None]  # key, updated, unixepoch(updated)
_CHUNK = 500  # keys per IN (…) list: well under SQLite's parameter limit


def _connect(store_path: Path) -> sqlite3.Connection:
    uri = f"{Path(store_path).resolve().as_uri()}?mode=ro"
    try:
        return sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StateError(f"cannot read state store: {exc}", path=str(store_path)) from exc


def _query(store_path: Path, sql: str, args: Iterable[object]) -> list[tuple]:
    try:
        with closing(_connect(store_path)) as conn:
            return conn.execute(sql, tuple(args)).fetchall()
    except sqlite3.Error as exc:
        raise StateError(f"cannot read state store: {exc}", path=str(store_path)) from exc


def stamps(store_path: Path, source: str, stream: str, since: str | None = None
           ) -> list[Stamp]:
    """``(key, updated, epoch)`` of a stream's records (those stamped at or after ``since``)."""
    return list(iter_stamps(store_path, source, stream, since))


def iter_stamps(store_path: Path, source: str, stream: str, since: str | None = None
                ) -> Iterator[Stamp]:
    """:func:`stamps`, one at a time (a million keys need not sit in a list)."""
    sql = ("SELECT key, updated, unixepoch(updated) FROM records "
           "WHERE source = ? AND stream = ?")
    args: list[object] = [source, stream]
    if since is not None:
        sql += " AND updated >= ?"
        args.append(since)
    try:
        with closing(_connect(store_path)) as conn:
            yield from conn.execute(sql, tuple(args))
    except sqlite3.Error as exc:
        raise StateError(f"cannot read state store: {exc}", path=str(store_path)) from exc


def records_by_key(store_path: Path, source: str, stream: str, keys: Iterable[str]
                   ) -> Iterator[RawRecord]:
    """The stored records of ``keys`` (keys the store does not hold are left out)."""
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = _query(store_path,
                      "SELECT key, updated, payload FROM records WHERE source = ? AND "  # noqa: S608
                      f"stream = ? AND key IN ({marks}) ORDER BY key",
                      [source, stream, *chunk])
        for key, updated, payload in rows:
            yield RawRecord(key, updated, json.loads(payload))
