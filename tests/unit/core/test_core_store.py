import json
import sqlite3

import pytest

from connectors.base import Page, RawRecord
from fiveo_sync.errors import StateError
from fiveo_sync.state.schema import MIGRATIONS, SCHEMA_VERSION
from fiveo_sync.state.store import StateStore


def _page(keys, bookmark, **kw):
    records = [RawRecord(key=k, updated="2025-03-01T00:00:00Z", payload={"n": k}) for k in keys]
    return Page(source="servicenow", stream="incident", records=records, bookmark=bookmark, **kw)


def test_page_and_bookmark_commit_together(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        store.save_page(_page(["a", "b"], {"after": "b"}))
        assert store.count_records("servicenow", "incident") == 2
        assert store.get_bookmark("servicenow", "incident") == {"after": "b"}


def test_failure_between_records_and_bookmark_leaves_neither(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        store.save_page(_page(["a"], {"after": "a"}))
        # The bookmark cannot be serialised: the error comes after the records were written
        # inside the transaction, so the whole page must roll back.
        with pytest.raises(TypeError):
            store.save_page(_page(["b", "c"], {"after": object()}))
        assert store.record_versions("servicenow", "incident") == {"a": "2025-03-01T00:00:00Z"}
        assert store.get_bookmark("servicenow", "incident") == {"after": "a"}


def test_deletions_apply_with_the_page(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        store.save_page(_page(["a", "b"], {"v": 1}))
        store.save_page(Page(source="servicenow", stream="incident", deleted_keys=["a"],
                             bookmark={"v": 2}))
        assert store.record_versions("servicenow", "incident").keys() == {"b"}


def test_insert_only_keeps_the_first_snapshot(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        first = RawRecord(key="42:start", updated="t1", payload={"items": [1]})
        later = RawRecord(key="42:start", updated="t2", payload={"items": [1, 2]})
        for record in (first, later):
            store.save_page(Page(source="jira", stream="sprint_scope", records=[record],
                                 insert_only=True))
        [kept] = list(store.iter_records("jira", "sprint_scope"))
        assert kept.payload == {"items": [1]}


def test_reopening_keeps_data_and_schema(tmp_path):
    path = tmp_path / "s.sqlite"
    with StateStore(path) as store:
        store.save_page(_page(["a"], {"after": "a"}))
        store.start_run("r1", "2025-03-01T00:00:00Z")
        store.finish_run("r1", "2025-03-01T00:01:00Z", "ok", {"pulled": 1}, 0)
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [r.key for r in store.iter_records("servicenow", "incident")] == ["a"]
        assert store.runs()[0]["counts"] == {"pulled": 1}
        assert store.runs()[0]["exit_code"] == 0


@pytest.mark.parametrize("previous", [2, 3])
def test_migration_from_an_earlier_schema_version(tmp_path, previous):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for version in range(1, previous + 1):
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {previous}")
    conn.executemany("INSERT INTO records VALUES ('jira', 'issue', ?, ?, ?)", [
        ("1", "2025-01-02T00:00:00Z", json.dumps({"k": 1})),
        ("2", "2025-01-05T00:00:00Z", json.dumps({"k": 2}))])
    conn.execute("INSERT INTO runs (id, started_at, status) VALUES ('old', 't', 'ok')")
    old_result = {"indicator": "operate.mttr", "scope_type": "service", "scope": "mail",
                  "breakdown": "all", "period": "2025-02", "period_end": "2025-03-01T00:00:00Z",
                  "value": 0.1 + 0.2, "status": "met", "flags": {"no_baseline": True}}
    conn.execute("INSERT INTO results (indicator, scope_type, scope, breakdown, period, "
                 "run_id, computed_at, payload) VALUES ('operate.mttr', 'service', 'mail', "
                 "'all', '2025-02', 'r1', 't', ?)", (json.dumps(old_result),))
    conn.commit()
    conn.close()
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [r.payload for r in store.iter_records("jira", "issue")] == [{"k": 1}, {"k": 2}]
        assert store.runs()[0]["command"] == "run"
        # v4 filled in the series columns of the results stored before it
        assert list(store.iter_series_points()) == [
            ("operate.mttr", "service", "mail", "all", "2025-02", "2025-03-01T00:00:00Z",
             "0.30000000000000004", "met", 1)]
        store.save_results("r2", "t", [{"indicator": "operate.mttr", "scope_type": "service",
                                        "scope": "payments", "period": "2025-03"}])
        assert len(list(store.iter_results())) == 2
    with sqlite3.connect(path) as conn:
        # v3: the stamps index; v5: the stream marks of the records stored before it
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT source, stream, count(*), "
                            "max(updated) FROM records GROUP BY source, stream").fetchall()
        marks = conn.execute("SELECT * FROM stream_marks").fetchall()
    assert "records_stamps" in str(plan)
    assert marks == [("jira", "issue", 2, "2025-01-05T00:00:00Z", 1735776000 + 1736035200)]


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StateError, match="newer"):
        StateStore(path)


def test_unwritable_store_is_a_state_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError):
        StateStore(blocker / "s.sqlite")


def test_corrupt_file_is_a_state_error(tmp_path):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError):
        StateStore(path)


def test_a_recomputed_window_drops_the_cells_it_no_longer_has(tmp_path):
    # Run 1 had a priority-1 cell in mail's March; run 2 recomputed mail's window without
    # it (no such incident any more): left, a later run reusing the window would give it.
    def result(scope, breakdown, period):
        return {"indicator": "operate.mttr", "scope_type": "service", "scope": scope,
                "breakdown": breakdown, "period": period}

    with StateStore(tmp_path / "state.sqlite") as store:
        store.save_results("r1", "t1", [result("mail", "all", "2025-03"),
                                        result("mail", "priority=1", "2025-03"),
                                        result("mail", "priority=1", "2025-01"),
                                        result("pay", "priority=1", "2025-03")])
        store.save_results("r2", "t2", [result("mail", "all", "2025-03")])
        assert store.drop_stale_window_results("r2", "operate.mttr", ["2025-03"], {"mail"}) == 1
        left = sorted((r["scope"], r["breakdown"], r["period"]) for r in store.iter_results())
        # January is final (outside the window), pay was not computed: both kept.
        assert left == [("mail", "all", "2025-03"), ("mail", "priority=1", "2025-01"),
                        ("pay", "priority=1", "2025-03")]
        assert store.window_runs("operate.mttr", ["2025-03"]) == {"r1": 1, "r2": 1}
        assert store.drop_stale_window_results("r2", "operate.mttr", ["2025-03"]) == 1
        assert [r["scope"] for r in store.window_results("operate.mttr", ["2025-03"])] == \
            ["mail"]
        assert store.window_results("operate.mttr", ["2025-03"], {"mail"}) == []
        # Saving and dropping in one transaction: run 3 gives pay's March, nothing else.
        store.save_results("r3", "t3", [result("pay", "all", "2025-03")],
                           [("operate.mttr", ["2025-03"], None)])
        assert store.window_runs("operate.mttr", ["2025-03"]) == {"r3": 1}
