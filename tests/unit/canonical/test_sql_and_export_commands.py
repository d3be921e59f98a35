"""``fiveo-sync sql`` and ``fiveo-sync export`` through the CLI, on the hand-made store."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from fiveo_sync.canonical import TABLES
from fiveo_sync.canonical.formatter import write_result
from fiveo_sync.canonical.query import QueryResult
from fiveo_sync.cli import main

MTTR = ("SELECT service, count(*) AS resolved, "
        "quantile_cont(epoch(resolved_at - opened_at) / 3600, 0.5) AS mttr_hours "
        "FROM incidents WHERE resolved_at IS NOT NULL GROUP BY service ORDER BY service")


@pytest.fixture
def env(hand_case, monkeypatch):
    monkeypatch.setenv("FIVEO_STATE__PATH", str(hand_case.store))
    monkeypatch.setenv("FIVEO_MAPPINGS__DIR", str(hand_case.mappings))
    return hand_case


def test_sql_prints_the_median_resolution_hours_per_service(env, capsys):
    assert main(["sql", MTTR]) == 0
    # a1 took 2 h and a2 6 h (Payments); a3 (Email) is open; a4 has no number (skipped).
    assert capsys.readouterr().out == (
        "service   resolved  mttr_hours\n"
        "--------  --------  ----------\n"
        "payments         2         4.0\n"
        "(1 row)\n")


def test_sql_csv_and_json_carry_lists_nulls_and_utc_times(env, capsys):
    query = ("SELECT number, jira_keys, resolved_at FROM incidents ORDER BY number")
    assert main(["sql", query, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["number", "jira_keys", "resolved_at"],
                    ["INC001", "[PAY-7]", "2025-03-01T10:00:00Z"],
                    ["INC002", "[]", "2025-03-02T14:00:00Z"],
                    ["INC003", "[]", ""]]
    assert main(["sql", query, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0] == {
        "number": "INC001", "jira_keys": ["PAY-7"], "resolved_at": "2025-03-01T10:00:00Z"}


def test_sql_joins_work_items_to_their_histories_and_raw_keys(env, capsys):
    query = ("SELECT w.raw_key, w.key, w.story_points, count(*) AS changes, "
             "max(s.changed_at) = any_value(w.done_at) AS done_is_last "
             "FROM work_items w JOIN work_item_status_changes s USING (raw_key) "
             "GROUP BY w.raw_key, w.key, w.story_points")
    assert main(["sql", query, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"raw_key": "10007", "key": "PAY-7", "story_points": 3.0, "changes": 2,
         "done_is_last": True}]


@pytest.mark.parametrize(("query", "message"), [
    ("INSERT INTO incidents SELECT * FROM incidents", "got INSERT"),
    ("DROP TABLE incidents", "got DROP"),
    ("COPY incidents TO 'x.csv'", "got COPY"),
    ("CREATE TABLE t AS SELECT 1", "got CREATE"),
    ("ATTACH 'other.duckdb'", "got ATTACH"),
    ("SET threads = 1", "got SET"),
    ("EXPLAIN ANALYZE DELETE FROM incidents", "got DELETE"),
    ("SELECT 1; DELETE FROM incidents", "one statement at a time: 2 given"),
    ("SELEC 1", "invalid SQL"),
])
def test_sql_refuses_anything_but_one_read_statement_before_building(env, capsys, query,
                                                                    message):
    assert main(["sql", query]) == 65
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert not env.canonical.exists()


def test_sql_reports_duckdb_errors_with_their_position(env, capsys):
    assert main(["sql", "SELECT nothing FROM incidents"]) == 65
    err = capsys.readouterr().err
    assert "query failed: Binder Error" in err and '"nothing" not found' in err


def test_sql_reads_the_file_read_only(env, capsys):
    assert main(["sql", "SELECT count(*) AS n FROM incidents"]) == 0
    before = env.canonical.stat().st_mtime_ns
    assert main(["sql", "SELECT count(*) AS n FROM incidents"]) == 0
    assert env.canonical.stat().st_mtime_ns == before  # current: no rebuild, no write
    assert capsys.readouterr().out.count("(1 row)") == 2


def test_export_parquet_writes_one_file_per_table_readable_with_the_same_counts(
        env, capsys, tmp_path):
    out = tmp_path / "bi"
    assert main(["export", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert f"wrote {out / 'incidents.parquet'} (3 rows)" in printed
    names = [t.name for t in TABLES] + ["canonical_build"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in names)
    with duckdb.connect(str(env.canonical), read_only=True) as conn:
        for name in names:
            expected = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            path = str(out / f"{name}.parquet")
            assert conn.execute("SELECT count(*) FROM read_parquet(?)", [path]
                                ).fetchone()[0] == expected, name
        kinds = dict(conn.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [str(out / "work_items.parquet")]).fetchall())
    assert kinds["created"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["labels"] == "VARCHAR[]" and kinds["story_points"] == "DOUBLE"
    assert len(printed) == len(names)


def test_export_csv_and_a_folder_that_is_a_file(env, capsys, tmp_path):
    assert main(["export", "--format", "csv", str(tmp_path / "csv")]) == 0
    capsys.readouterr()
    lines = (tmp_path / "csv" / "sprint_scope_items.csv").read_text().splitlines()
    assert lines[0] == ("raw_source,raw_stream,raw_key,sprint,moment,seq,key,story_points,"
                        "status_category")
    # The sub-task is left out of the scope, as commitment never counts it.
    assert lines[1:] == ["jira,sprint_scope,5:start,5,start,1,PAY-7,3.0,new",
                         "jira,sprint_scope,5:start,5,start,2,PAY-8,,new"]
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    assert main(["export", str(blocker)]) == 74
    assert "cannot create export folder" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_format_on_a_terminal_is_a_rich_table_that_keeps_brackets():
    out = _Terminal()
    result = QueryResult(("key", "jira_keys", "points"), ("VARCHAR", "VARCHAR[]", "DOUBLE"),
                         [("PAY-7", ["PAY-7", "MAIL-2"], None)])
    write_result(result, out, "table")
    text = out.getvalue()
    assert "[PAY-7, MAIL-2]" in text and "NULL" in text and "(1 row)" in text
    assert "┃" in text  # rich's box, not the plain layout
