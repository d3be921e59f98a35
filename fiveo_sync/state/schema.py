"""The state store's schema, as forward migrations.

``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v``; the version lives in
SQLite's ``PRAGMA user_version``. Never edit a released migration: add the next one.
"""

from __future__ import annotations

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # v1: raw records, bookmarks, run history.
    1: (
        """CREATE TABLE records (
               source TEXT NOT NULL, stream TEXT NOT NULL, key TEXT NOT NULL,
               updated TEXT NOT NULL, payload TEXT NOT NULL,
               PRIMARY KEY (source, stream, key)) WITHOUT ROWID""",
        """CREATE TABLE bookmarks (
               source TEXT NOT NULL, stream TEXT NOT NULL, value TEXT NOT NULL,
               PRIMARY KEY (source, stream))""",
        """CREATE TABLE runs (
               id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
               status TEXT NOT NULL, counts TEXT, exit_code INTEGER)""",
    ),
    # v2: indicator result history, the command that started a run, small metadata.
    2: (
        """CREATE TABLE results (
               indicator TEXT NOT NULL, scope_type TEXT NOT NULL, scope TEXT NOT NULL,
               breakdown TEXT NOT NULL, period TEXT NOT NULL,
               run_id TEXT NOT NULL, computed_at TEXT NOT NULL, payload TEXT NOT NULL,
               PRIMARY KEY (indicator, scope_type, scope, breakdown, period))""",
        "ALTER TABLE runs ADD COLUMN command TEXT NOT NULL DEFAULT 'run'",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # v3: the records' stamps apart from their payloads, so the per-stream marks the
    # canonical refresh compares on every run (count, newest, sum of stamps) and the records
    # stamped since a mark are read from the index, not from the payload pages.
    3: (
        "CREATE INDEX records_stamps ON records (source, stream, updated)",
    ),
    # v4: what trends and baselines read of each result, beside its payload (which holds
    # up to thousands of evidence ids): period end, value as JSON text, status, and the
    # no_baseline flag; filled in for the results already stored.
    4: (
        "ALTER TABLE results ADD COLUMN period_end TEXT",
        "ALTER TABLE results ADD COLUMN value TEXT",
        "ALTER TABLE results ADD COLUMN status TEXT",
        "ALTER TABLE results ADD COLUMN no_baseline INTEGER",
        """UPDATE results SET period_end = payload ->> '$.period_end',
               value = coalesce(payload -> '$.value', 'null'),
               status = payload ->> '$.status',
               no_baseline = coalesce(payload -> '$.flags.no_baseline' = 'true', 0)""",
    ),
}

SCHEMA_VERSION = max(MIGRATIONS)
