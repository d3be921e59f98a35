"""The rows incremental refreshes changed, read back for a computation (``canonical_changes``).

A computation remembers the canonical file's lineage and generation it ran on; the next one
reads here which rows were replaced, deleted or derived again since, so its queries can skip
the rows that cannot have moved a cell (:func:`fiveo_sync.sqlengine.since_bound`).
"""

from __future__ import annotations

import duckdb

from fiveo_sync.canonical.schema import CHANGES_KEPT, CHANGES_TABLE


def changed_rows(conn: duckdb.DuckDBPyConnection, lineage: str | None, after: int,
                 info: dict) -> dict[str, frozenset[str] | None] | None:
    """Per table, the raw keys changed after generation ``after`` of ``lineage``.

    Args:
        conn: a connection to the canonical file.
        lineage: the full build the remembered generation belongs to.
        after: the generation the last computation ran on.
        info: the file's :func:`~fiveo_sync.canonical.builder.build_info`.

    Returns:
        ``{table: keys}`` (``None`` for a table derived again whole; tables without changes
        absent), or ``None`` when unknown: another full build since, a generation from the
        future, or one older than the refreshes whose changes are kept.
    """
    generation = info.get("generation")
    if lineage is None or info.get("lineage") != lineage or generation is None or \
            not generation - CHANGES_KEPT <= after <= generation:
        return None
    out: dict[str, set[str] | None] = {}
    for table, key in conn.execute(
            f'SELECT table_name, raw_key FROM "{CHANGES_TABLE}" WHERE generation > ?',  # noqa: S608
            [after]).fetchall():
        if key is None:
            out[table] = None
        elif (keys := out.setdefault(table, set())) is not None:
            keys.add(key)
    return {table: None if keys is None else frozenset(keys) for table, keys in out.items()}
