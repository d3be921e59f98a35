"""``canonical_build.id_traits``: measured by the build, kept by refreshes from the loaded rows.

A computation trusts them to list evidence without DISTINCT and as joined text, so a trait
must never claim more than the rows hold: a loaded duplicate or separator clears it, and
a cleared trait is measured again (a deletion may restore it).
"""

from __future__ import annotations

import duckdb
import pytest

from fiveo_sync.canonical import id_traits
from fiveo_sync.canonical.schema import TABLES

SEP = id_traits.SEPARATOR


@pytest.fixture
def conn():
    db = duckdb.connect()
    for table in TABLES:
        db.execute(table.ddl())
    db.executemany('INSERT INTO "incidents" (raw_source, raw_stream, raw_key, id) '
                   "VALUES ('sn', 'incident', ?, ?)", [("k1", "i1"), ("k2", "i2")])
    db.execute('INSERT INTO "work_items" (raw_source, raw_stream, raw_key, "key") '
               "VALUES ('jira', 'issue', '10001', 'PAY-1')")
    yield db
    db.close()


def _load(conn, key, ident):
    conn.execute('INSERT INTO "incidents" (raw_source, raw_stream, raw_key, id) '
                 "VALUES ('sn2', 'incident', ?, ?)", [key, ident])


def test_the_build_measures_every_record_table(conn):
    traits = id_traits.measure(conn)
    assert set(traits) == set(id_traits.EVIDENCE_IDS)
    assert traits["incidents"] == [True, True] and traits["work_items"] == [True, True]
    _load(conn, "k3", "i1")
    _load(conn, "k4", f"i{SEP}4")
    assert id_traits.measure(conn, ["incidents"]) == {"incidents": [False, False]}


def test_a_loaded_duplicate_or_separator_clears_a_trait(conn):
    old = id_traits.measure(conn)
    _load(conn, "k3", "i1")  # a second source with the same sys_id
    assert id_traits.update(conn, old, {"incidents": {"k3"}}, ())["incidents"] == [False, True]
    conn.execute("DELETE FROM incidents WHERE raw_key = 'k3'")
    _load(conn, "k4", f"i{SEP}4")
    assert id_traits.update(conn, old, {"incidents": {"k3", "k4"}}, ())["incidents"] == \
        [True, False]


def test_a_cleared_trait_is_measured_again(conn):
    _load(conn, "k3", "i1")
    cleared = id_traits.measure(conn)
    assert cleared["incidents"] == [False, True]
    conn.execute("DELETE FROM incidents WHERE raw_key = 'k3'")  # the duplicate went away
    assert id_traits.update(conn, cleared, {"incidents": {"k3"}}, ())["incidents"] == \
        [True, True]


def test_unchanged_tables_keep_their_traits_and_whole_ones_are_measured(conn):
    old = {**id_traits.measure(conn), "work_items": [False, False]}  # as if stale
    new = id_traits.update(conn, old, {}, {"work_items"})
    assert new["work_items"] == [True, True] and new["incidents"] == [True, True]
    assert id_traits.update(conn, {}, {}, ())["incidents"] == [True, True]  # older file
