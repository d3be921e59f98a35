"""Export every canonical table to one Parquet or CSV file with DuckDB's ``COPY … TO``.

Each file is written under a temporary name in the target folder and renamed over the
final name once complete, so a reader (or a BI tool's scheduled refresh) sees the old
file or the new one, never half of one. Parquet keeps the column types (``TIMESTAMPTZ``
as UTC instants, lists as lists); CSV writes a header, date-times in UTC
(``2025-03-10 10:00:00+00``) and lists as ``[a, b]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fiveo_sync.canonical.schema import BUILD, TABLES
from fiveo_sync.errors import StateError

EXPORT_FORMATS = ("parquet", "csv")
_COPY_OPTIONS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}


@dataclass(frozen=True)
class ExportedFile:
    """One file written: its table, path and row count."""

    table: str
    path: Path
    rows: int


def export_tables(canonical: Path, directory: Path, fmt: str = "parquet"
                  ) -> list[ExportedFile]:
    """Write ``<table>.<fmt>`` into ``directory`` for every canonical table.

    Args:
        canonical: the canonical DuckDB file.
        directory: the output folder (created when missing).
        fmt: ``parquet`` or ``csv``.

    Returns:
        The files written, in table order (``canonical_build`` last).

    Raises:
        StateError: the folder or a file cannot be written.
    """
    if fmt not in _COPY_OPTIONS:
        raise ValueError(f"unknown export format {fmt!r}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create export folder: {exc.strerror}",
                         path=str(directory)) from exc
    written = []
    with duckdb.connect(str(canonical), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table in (*TABLES, BUILD):
            final = directory / f"{table.name}.{fmt}"
            temp = directory / f".{final.name}.tmp-{os.getpid()}"
            try:
                conn.execute(f'COPY "{table.name}" TO ? {_COPY_OPTIONS[fmt]}', [str(temp)])
                os.replace(temp, final)
            except (duckdb.Error, OSError) as exc:
                temp.unlink(missing_ok=True)
                raise StateError(f"cannot write export file: {exc}", path=str(final)) from exc
            count = f'SELECT count(*) FROM "{table.name}"'  # noqa: S608 - schema constant
            rows = conn.execute(count).fetchone()[0]
            written.append(ExportedFile(table.name, final, rows))
    return written
