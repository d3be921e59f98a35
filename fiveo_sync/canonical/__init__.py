"""Canonical records as typed DuckDB tables, for SQL and BI tools (``docs/canonical-tables.md``).

The SQLite state store stays the system of record (raw payloads, bookmarks, results); the
DuckDB file beside it (``<stem>.duckdb``) is derived from it through the normaliser and can
be rebuilt at any time. :func:`refresh` rebuilds it when its inputs changed.
"""

from fiveo_sync.canonical.builder import BuildReport, canonical_path, read_build_info, refresh
from fiveo_sync.canonical.schema import TABLES

__all__ = ["TABLES", "BuildReport", "canonical_path", "read_build_info", "refresh"]
