"""The state store's schema, as forward migrations.

``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v``; the version lives in
SQLite's ``PRAGMA user_version``. Never edit a released migration: add the next one.
"""

from __future__ import annotations

# A record counted into / out of its stream's marks (``{row}``: NEW or OLD in a trigger).
# The newest stamp is looked up again (through the stamps index) only when the newest
# record itself goes.
_MARK_ADD = """INSERT INTO stream_marks (source, stream, n, newest, total)
    VALUES ({row}.source, {row}.stream, 1, {row}.updated, coalesce(unixepoch({row}.updated), 0))
    ON CONFLICT (source, stream) DO UPDATE SET n = n + 1,
        newest = CASE WHEN newest IS NULL OR excluded.newest > newest THEN excluded.newest
                 ELSE newest END,
        total = total + excluded.total"""
_MARK_REMOVE = """UPDATE stream_marks SET n = n - 1,
        total = total - coalesce(unixepoch({row}.updated), 0),
        newest = CASE WHEN {row}.updated < newest THEN newest ELSE (SELECT max(updated)
                 FROM records WHERE source = {row}.source AND stream = {row}.stream) END
    WHERE source = {row}.source AND stream = {row}.stream"""

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
    # v5: the per-stream marks the canonical refresh compares on every run (record count,
    # newest stamp, sum of the stamps as instants), kept up to date by triggers in the
    # transaction that writes the records, instead of an aggregate over every record.
    5: (
        """CREATE TABLE stream_marks (
               source TEXT NOT NULL, stream TEXT NOT NULL, n INTEGER NOT NULL,
               newest TEXT, total INTEGER NOT NULL, PRIMARY KEY (source, stream))""",
        """INSERT INTO stream_marks SELECT source, stream, count(*), max(updated),
               coalesce(sum(unixepoch(updated)), 0) FROM records GROUP BY source, stream""",
        f"""CREATE TRIGGER records_marks_insert AFTER INSERT ON records BEGIN
               {_MARK_ADD.format(row="NEW")}; END""",
        f"""CREATE TRIGGER records_marks_delete AFTER DELETE ON records BEGIN
               {_MARK_REMOVE.format(row="OLD")}; END""",
        f"""CREATE TRIGGER records_marks_update AFTER UPDATE ON records BEGIN
               {_MARK_REMOVE.format(row="OLD")}; {_MARK_ADD.format(row="NEW")}; END""",
    ),
}

SCHEMA_VERSION = max(MIGRATIONS)
