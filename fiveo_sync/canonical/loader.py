"""Rows → canonical tables, in chunks of newline-delimited JSON loaded with ``read_json``.

Measured on 150,000 records: 0.9 s for 100,000 incidents, against 15 s for 20,000 with
``executemany``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import duckdb

from fiveo_sync.canonical.converter import Row
from fiveo_sync.canonical.schema import TABLES, Table

READING, WRITING = "canonical rebuild, reading", "canonical rebuild, writing"
CHUNK_ROWS = 10_000  # rows per table held before a load (1/10 store: 371 MiB peak; 50k: 451)


class ProgressLike(Protocol):
    """What the builder reports progress to (``display.RebuildProgress``)."""

    def update(self, label: str, records: int) -> None:
        """Show a count."""

    def done(self) -> None:
        """End the progress line."""


class ChunkLoader:
    """Buffers rows per table as JSON lines and loads each chunk with ``read_json``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, folder: Path,
                 progress: ProgressLike | None, tables: Iterable[Table] = TABLES) -> None:
        self.conn, self.folder, self.progress = conn, folder, progress
        self.tables = {t.name: t for t in tables}
        self.buffers: dict[str, list[str]] = {name: [] for name in self.tables}
        self.counts: dict[str, int] = dict.fromkeys(self.tables, 0)
        self.written = 0
        self._encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False,
                                        separators=(",", ":")).encode

    def add(self, table: str, row: Row) -> None:
        """Buffer one row; load the table's chunk when full."""
        buffer = self.buffers[table]
        buffer.append(self._encode(row))
        if len(buffer) >= CHUNK_ROWS:
            self.flush(table)

    def flush_all(self) -> None:
        """Load every buffered row."""
        for name in self.tables:
            self.flush(name)

    def flush(self, name: str) -> None:
        """Load the buffered rows of one table."""
        buffer = self.buffers[name]
        if not buffer:
            return
        table: Table = self.tables[name]
        chunk = self.folder / f"{name}.jsonl"
        chunk.write_text("\n".join(buffer) + "\n", encoding="utf-8")
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        self.conn.execute(
            f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM read_json(?, '  # noqa: S608
            f"format = 'newline_delimited', columns = {table.json_columns()})",
            [str(chunk)])
        self.counts[name] += len(buffer)
        self.written += len(buffer)
        buffer.clear()
        if self.progress is not None:
            self.progress.update(WRITING, self.written)
