"""Canonical records held in memory → the canonical tables of a DuckDB connection.

For records that come from no state store (the golden cases, hand-built tests): the tables
the builder fills from the store's raw records, filled from a ``CanonicalData`` directly.
No raw record lies behind these rows: their ``raw_*`` columns are NULL.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from fiveo_sync.canonical.converter import iter_all_rows
from fiveo_sync.canonical.loader import ChunkLoader
from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.records import CanonicalData


class NoRawKeys:
    """The converter's raw-key source for records no raw record stands behind."""

    def key_of(self, kind: str, identity: object) -> None:
        """No raw key."""
        return None

    def scope_key(self, sprint: int, moment: str) -> None:
        """No raw key."""
        return None


def load_canonical(conn: duckdb.DuckDBPyConnection, data: CanonicalData,
                   portfolio: PortfolioSpec) -> dict[str, int]:
    """Create the canonical tables in ``conn`` and fill them from ``data``.

    Returns:
        Rows written per table.
    """
    conn.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        conn.execute(table.ddl())
    with tempfile.TemporaryDirectory(prefix="fiveo-canonical-") as scratch:
        loader = ChunkLoader(conn, Path(scratch), None)
        for table, row in iter_all_rows(data, portfolio, NoRawKeys()):  # type: ignore[arg-type]
            loader.add(table, row)
        loader.flush_all()
    return dict(loader.counts)
