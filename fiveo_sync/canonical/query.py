"""Run one read-only SQL statement over the canonical file.

Accepted: one ``SELECT`` (with ``WITH``, ``FROM``-first, ``VALUES``, ``DESCRIBE``, ``SHOW``
and ``SUMMARIZE``, which DuckDB parses as selects) or one ``EXPLAIN``. Anything else —
``INSERT``, ``CREATE``, ``COPY … TO``, ``ATTACH``, ``SET``, ``PRAGMA``, several statements —
is refused with :class:`~fiveo_sync.errors.DataError` (exit 65) before the file is opened;
the file is opened ``read_only=True`` as the second line of defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from fiveo_sync.errors import DataError

_EXPLAIN = re.compile(r"^\s*explain(\s+analy[sz]e)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class QueryResult:
    """Column names, DuckDB type names and rows of one query."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def check_read_only(sql: str) -> None:
    """Raise :class:`DataError` unless ``sql`` is exactly one read statement."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise DataError(f"invalid SQL: {_first_line(exc)}") from None
    if not statements:
        raise DataError("no SQL statement given")
    if len(statements) > 1:
        raise DataError(f"one statement at a time: {len(statements)} given")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs what it explains: the explained statement must be a read.
        inner = duckdb.extract_statements(_EXPLAIN.sub("", statements[0].query, count=1))
        kind = inner[0].type if len(inner) == 1 else kind
    if kind != duckdb.StatementType.SELECT:
        raise DataError(
            f"only a read statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) is "
            f"allowed, got {kind.name} (the canonical tables are derived from the state "
            "store and rebuilt from it)")


def run_query(path: Path, sql: str) -> QueryResult:
    """Run ``sql`` (checked by :func:`check_read_only`) on the file at ``path``.

    Date-times are read in UTC. A query DuckDB rejects (unknown table or column, type
    error) raises :class:`DataError` with DuckDB's message.
    """
    check_read_only(sql)
    with duckdb.connect(str(path), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        try:
            cursor = conn.execute(sql)
            rows = cursor.fetchall()
        except duckdb.Error as exc:
            raise DataError(f"query failed: {exc}") from None
        description = cursor.description or []
    return QueryResult(tuple(d[0] for d in description), tuple(str(d[1]) for d in description),
                       rows)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
