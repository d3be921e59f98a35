"""An incremental refresh leaves the canonical file exactly as a full build would.

The demo organisation is pulled from both sandboxes; after a first build, records are
changed in the state store the ways a pull changes them — updated, created (one the
normaliser skips), deleted, replaced by an older version, a sprint edited, an incident a
survey was sent for moved to another service — and the refreshed file is compared, table
by table and row by row, with a full build of the same store into another file.
"""

from __future__ import annotations

import copy
import shutil

import duckdb
import pytest

from connectors.base import Page, RawRecord
from fiveo_sync.canonical import TABLES, read_build_info, refresh
from fiveo_sync.canonical.changes import changed_rows
from fiveo_sync.canonical.schema import RAW_INDEX
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.state import StateStore

LATER = "2025-04-02T09:00:00Z"


@pytest.fixture
def case(sandbox_case, tmp_path):
    store = tmp_path / "state.sqlite"
    shutil.copy(sandbox_case.store, store)
    return store, load_mappings(sandbox_case.mappings)


def _records(store: StateStore, source: str, stream: str, n: int) -> list[RawRecord]:
    out = []
    for record in store.iter_records(source, stream):
        out.append(record)
        if len(out) == n:
            break
    return out


def _edited(record: RawRecord, updated: str = LATER, **changes) -> RawRecord:
    payload = copy.deepcopy(record.payload)
    payload.update(changes)
    if "sys_updated_on" in payload:
        payload["sys_updated_on"] = updated.replace("T", " ").rstrip("Z")
    return RawRecord(record.key, updated, payload)


def _change_the_store(path) -> None:
    with StateStore(path) as store:
        incidents = _records(store, "servicenow", "incident", 8)
        survey = next(r for r in store.iter_records("servicenow", "asmt_assessment_instance")
                      if r.payload.get("task_id"))
        task = next(store.iter_records("servicenow", "incident"))
        for record in store.iter_records("servicenow", "incident"):
            if record.key == survey.payload["task_id"]:
                task = record
        other_service = next(r.payload["business_service"] for r in incidents
                             if r.payload["business_service"] !=
                             task.payload["business_service"])
        new = copy.deepcopy(incidents[0].payload)
        new.update(sys_id="f" * 32, number="INC9999001")
        nameless = copy.deepcopy(incidents[1].payload)
        nameless.update(sys_id="e" * 32)
        nameless.pop("number")
        store.save_page(Page("servicenow", "incident", [
            _edited(incidents[2], priority="1", state="2"),
            _edited(incidents[3], short_description="edited"),
            _edited(task, business_service=other_service),
            RawRecord("f" * 32, LATER, new), RawRecord("e" * 32, LATER, nameless)]))
        changes = _records(store, "servicenow", "change_request", 2)
        store.save_page(Page("servicenow", "change_request",
                             deleted_keys=[r.key for r in changes]))
        sla = _records(store, "servicenow", "task_sla", 1)[0]  # an older version comes back
        store.save_page(Page("servicenow", "task_sla", [
            _edited(sla, "2020-01-01T00:00:00Z", stage="in_progress", end_time="")]))
        issues = _records(store, "jira", "issue", 3)
        edited = []
        for issue in issues:
            payload = copy.deepcopy(issue.payload)
            payload["fields"]["labels"] = ["incremental-test"]
            edited.append(RawRecord(issue.key, LATER, payload))
        store.save_page(Page("jira", "issue", edited))
        sprint = _records(store, "jira", "sprint", 1)[0]
        store.save_page(Page("jira", "sprint", [_edited(sprint, goal="A new goal")]))


def _tables(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {t.name: conn.execute(f'SELECT * FROM "{t.name}" ORDER BY ALL').fetchall()  # noqa: S608
                for t in (*TABLES, RAW_INDEX)}


def test_an_incremental_refresh_equals_a_full_build_of_the_same_store(case, tmp_path):
    store, mappings = case
    first = refresh(store, mappings)
    assert first.rebuilt and not first.incremental
    before = _tables(first.path)
    _change_the_store(store)
    report = refresh(store, mappings)
    assert report.rebuilt and report.incremental and report.reasons == ("records",)
    # Only what changed was written: 4 incidents (the nameless one is skipped), 3 issues,
    # the SLA, and the small tables derived again whole (sprints); the survey responses
    # are not written again, their services are set from the refreshed incidents.
    assert report.rows["incidents"] == 4 and report.rows["work_items"] == 3
    assert report.rows["slas"] == 1 and report.rows["changes"] == 0
    assert report.rows["sprints"] == len(before["sprints"])
    assert report.rows["survey_responses"] == 0 and before["survey_responses"]
    assert report.rows["services"] == 0
    full = refresh(store, mappings, path=tmp_path / "full.duckdb", force=True)
    mine, theirs = _tables(report.path), _tables(full.path)
    differ = [name for name in theirs if mine[name] != theirs[name]]
    assert differ == []
    traits = read_build_info(report.path)["id_traits"]
    assert traits == read_build_info(full.path)["id_traits"] and traits["incidents"] == [True, True]
    assert mine != before  # not vacuous: the changes reached the tables
    assert len(mine["changes"]) == len(before["changes"]) - 2
    assert len(mine["incidents"]) == len(before["incidents"]) + 1
    mine_info, full_info = read_build_info(report.path), read_build_info(full.path)
    assert mine_info["skipped"] == full_info["skipped"]
    assert mine_info["skipped"]["incident"]["missing number"] >= 1
    assert (mine_info["digest"], mine_info["mode"]) == (full_info["digest"], "incremental")
    assert not refresh(store, mappings).rebuilt  # and now it is current


def test_a_lookup_change_builds_the_whole_file(case):
    store, mappings = case
    refresh(store, mappings)
    with StateStore(store) as state:
        group = _records(state, "servicenow", "sys_user_group", 1)[0]
        state.save_page(Page("servicenow", "sys_user_group", [_edited(group, name="Renamed")]))
    report = refresh(store, mappings)
    assert report.rebuilt and not report.incremental and report.reasons == ("lookups",)
    assert read_build_info(report.path)["mode"] == "full"


def test_changing_most_of_a_stream_builds_the_whole_file(case):
    store, mappings = case
    refresh(store, mappings)
    with StateStore(store) as state:
        slas = list(state.iter_records("servicenow", "task_sla"))
        state.save_page(Page("servicenow", "task_sla",
                             [_edited(r, stage="in_progress") for r in slas[:2000]]))
    report = refresh(store, mappings)
    assert report.rebuilt and not report.incremental


def test_each_refresh_notes_the_rows_it_changed_for_the_next_computation(case):
    store, mappings = case
    first = refresh(store, mappings)
    built = read_build_info(first.path)
    assert built["generation"] == 0 and built["lineage"]
    with StateStore(store) as state:
        incidents = {r.key for r in _records(state, "servicenow", "incident", 8)}
        deleted = {r.key for r in _records(state, "servicenow", "change_request", 2)}
        sla = _records(state, "servicenow", "task_sla", 1)[0].key
        issues = {r.key for r in _records(state, "jira", "issue", 3)}
    with duckdb.connect(str(first.path), read_only=True) as conn:
        before = dict(conn.execute("SELECT raw_key, number FROM changes").fetchall())
        held = {key for (key,) in conn.execute("SELECT raw_key FROM incidents").fetchall()}
    _change_the_store(store)
    report = refresh(store, mappings)
    info = read_build_info(report.path)
    assert (info["lineage"], info["generation"]) == (built["lineage"], 1)
    with duckdb.connect(str(report.path), read_only=True) as conn:
        rows = changed_rows(conn, built["lineage"], 0, info)
        assert changed_rows(conn, built["lineage"], 1, info) == {}
        assert changed_rows(conn, "another build", 0, info) is None
        assert changed_rows(conn, built["lineage"], 2, info) is None  # from the future
    # Two edited incidents, the moved survey task, one created, one skipped (nameless).
    assert len(rows["incidents"]) == 5 and {"f" * 32, "e" * 32} <= rows["incidents"]
    assert rows["incidents"] & incidents
    assert rows["changes"] == deleted and rows["slas"] == {sla}
    assert rows["work_items"] == rows["work_item_status_changes"] == issues
    assert rows["sprints"] is None  # derived whole
    assert rows["survey_responses"] is None  # every response's service set again
    assert "problems" not in rows
    with duckdb.connect(str(report.path), read_only=True) as conn:
        # The replaced and deleted rows as they were, for where they were placed.
        previous = {t: dict(conn.execute(
            f"SELECT raw_key, generation FROM canonical_previous_{t}").fetchall())  # noqa: S608
            for t in ("incidents", "changes", "slas", "work_items", "problems")}
        gone = dict(conn.execute("SELECT raw_key, number FROM canonical_previous_changes")
                    .fetchall())
    assert previous["incidents"].keys() == rows["incidents"] & held
    assert set(previous["changes"]) == deleted and gone == {k: before[k] for k in deleted}
    assert set(previous["work_items"]) == issues and set(previous["slas"]) == {sla}
    assert previous["problems"] == {}
    assert {g for found in previous.values() for g in found.values()} == {1}
    with StateStore(store) as state:  # a lookup changed: a new full build, a new lineage
        group = _records(state, "servicenow", "sys_user_group", 1)[0]
        state.save_page(Page("servicenow", "sys_user_group", [_edited(group, name="Renamed")]))
    rebuilt = read_build_info(refresh(store, mappings).path)
    assert rebuilt["lineage"] != built["lineage"] and rebuilt["generation"] == 0
