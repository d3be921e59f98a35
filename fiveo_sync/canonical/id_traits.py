"""What the computation needs to know about the ids a cell lists as its evidence.

Per record table: whether no two rows share an evidence id (``unique``: cells may then
list ids without ``DISTINCT``) and whether no id holds the separator the SQL engine joins
a cell's ids with (``plain``). Measured when the file is built and kept up to date by each
incremental refresh, in ``canonical_build.id_traits``, so a computation does not count
the distinct ids of a million rows on every run (~0.1 s per table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

# ruff: noqa: S608 - table and column names come from the canonical schema
SEPARATOR = "\x1f"
"""The ASCII unit separator: a cell's ids come joined by it when no id holds it."""
EVIDENCE_IDS = {"incidents": "id", "changes": "id", "problems": "id", "slas": "id",
                "work_items": "key", "outages": "id", "survey_responses": "id"}
"""The column a cell lists as its evidence, per record table."""
Traits = dict[str, list[bool]]  # table -> [unique, plain]


def _holds_separator(column: str) -> str:
    return f"strpos({column}, chr({ord(SEPARATOR)})) > 0"


def measure(conn: duckdb.DuckDBPyConnection, tables: Iterable[str] = EVIDENCE_IDS) -> Traits:
    """``[unique, plain]`` of each table, counted over all its rows."""
    out: Traits = {}
    for table in tables:
        column = f'"{EVIDENCE_IDS[table]}"'
        holds = _holds_separator(column)
        unique, plain = conn.execute(
            f"SELECT count({column}) = count(DISTINCT {column}), "
            f'NOT coalesce(bool_or({holds}), FALSE) FROM "{table}"').fetchone()
        out[table] = [bool(unique), bool(plain)]
    return out


def update(conn: duckdb.DuckDBPyConnection, old: Mapping[str, Any],
           replaced: Mapping[str, Iterable[str]], whole: Iterable[str]) -> Traits:
    """The traits after an incremental refresh.

    Args:
        conn: the canonical file, inside the refresh's transaction.
        old: the traits before it (``canonical_build.id_traits``; missing tables are
            measured).
        replaced: per table, the raw keys whose rows were deleted or loaded again.
        whole: tables derived again whole (measured).

    A trait that held can only be lost through the loaded rows, so only their ids are
    looked at; one that did not hold is measured again (a deletion may restore it).
    """
    out: Traits = {t: list(v) for t, v in old.items() if t in EVIDENCE_IDS}
    again = {t for t in EVIDENCE_IDS if t not in out} | set(whole) & set(EVIDENCE_IDS)
    for table, keys in replaced.items():
        if table not in EVIDENCE_IDS or table in again:
            continue
        keys = sorted(set(keys))
        if not keys:
            continue
        if not all(out[table]):
            again.add(table)
            continue
        column = f'"{EVIDENCE_IDS[table]}"'
        repeated, holds = conn.execute(
            f'WITH loaded AS (SELECT {column} AS id FROM "{table}" '
            "WHERE raw_key IN (SELECT unnest(?::VARCHAR[]))) "
            f'SELECT (SELECT count(*) FROM (SELECT 1 FROM "{table}" WHERE {column} IN '
            f"(SELECT id FROM loaded) GROUP BY {column} HAVING count(*) > 1)), "
            f"(SELECT coalesce(bool_or({_holds_separator('id')}), FALSE) FROM loaded)",
            [keys]).fetchone()
        out[table] = [not repeated, not holds]
    out.update(measure(conn, sorted(again)))
    return out
