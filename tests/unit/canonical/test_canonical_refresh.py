"""The digest decides rebuilds; a failed or killed rebuild leaves the previous file intact."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from support.canonical_stores import ISSUE

import fiveo_sync.canonical.loader as loader
from connectors.base import Page, RawRecord
from fiveo_sync.canonical import read_build_info, refresh
from fiveo_sync.canonical.display import RebuildProgress
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import StateError
from fiveo_sync.state import StateStore


def _count(path: Path, table: str = "incidents") -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def _add_incident(store_path: Path, sys_id: str, updated: str = "2025-03-09 08:00:00") -> None:
    row = {"sys_id": sys_id, "number": f"INC-{sys_id}", "state": "1", "priority": "4",
           "opened_at": updated, "sys_updated_on": updated}
    with StateStore(store_path) as store:
        store.save_page(Page("servicenow", "incident",
                             [RawRecord(sys_id, updated.replace(" ", "T") + "Z", row)]))


def test_first_refresh_builds_beside_the_store_and_an_unchanged_one_does_not(hand_case):
    mappings = load_mappings(hand_case.mappings)
    first = refresh(hand_case.store, mappings)
    assert first.rebuilt and first.reasons == ("no canonical file",)
    assert first.path == hand_case.store.parent / "state.duckdb"
    assert first.rows["incidents"] == 3 and first.rows["work_item_status_changes"] == 2
    stamp = first.path.stat().st_mtime_ns
    second = refresh(hand_case.store, mappings)
    assert not second.rebuilt and second.rows == {}
    assert first.path.stat().st_mtime_ns == stamp


def test_a_new_record_a_replaced_record_and_a_deletion_each_trigger_one_rebuild(hand_case):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    _add_incident(hand_case.store, "b1")
    report = refresh(hand_case.store, mappings)
    assert report.rebuilt and report.reasons == ("records",)
    assert _count(report.path) == 4
    assert not refresh(hand_case.store, mappings).rebuilt
    # Same key, older stamp than the stream's newest: neither count nor max moves.
    _add_incident(hand_case.store, "b1", updated="2025-03-08 08:00:00")
    assert refresh(hand_case.store, mappings).rebuilt
    with StateStore(hand_case.store) as store:
        store.save_page(Page("servicenow", "incident", deleted_keys=["b1"]))
    assert refresh(hand_case.store, mappings).rebuilt
    assert _count(hand_case.canonical) == 3


def test_lookup_and_mapping_changes_are_named_as_the_reason(hand_case):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    with StateStore(hand_case.store) as store:
        store.save_page(Page("servicenow", "sys_user_group", [RawRecord(
            "g1", "2025-03-01T00:00:00Z", {"sys_id": "g1", "name": "Payments L2"})]))
    assert refresh(hand_case.store, mappings).reasons == ("lookups",)
    portfolio = hand_case.mappings / "portfolio.yaml"
    portfolio.write_text(portfolio.read_text().replace("owner: alice.martin",
                                                       "owner: zoe.quinn"))
    changed = load_mappings(hand_case.mappings)
    assert refresh(hand_case.store, changed).reasons == ("portfolio",)
    with duckdb.connect(str(hand_case.canonical), read_only=True) as conn:
        assert conn.execute("SELECT owner FROM services WHERE id = 'payments'"
                            ).fetchone() == ("zoe.quinn",)
    # A comment is not a change.
    portfolio.write_text("# reviewed\n" + portfolio.read_text())
    assert not refresh(hand_case.store, load_mappings(hand_case.mappings)).rebuilt


def test_force_rebuilds_even_when_current(hand_case):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    report = refresh(hand_case.store, mappings, force=True)
    assert report.rebuilt and report.reasons == ("forced",)


def test_a_missing_store_is_a_state_error_not_a_new_empty_store(tmp_path, hand_case):
    with pytest.raises(StateError, match="no state store"):
        refresh(tmp_path / "absent.sqlite", load_mappings(hand_case.mappings))
    assert not (tmp_path / "absent.sqlite").exists()


@pytest.mark.parametrize("force", [True, False], ids=["full build", "incremental"])
def test_an_exception_mid_build_leaves_the_previous_file_readable(hand_case, monkeypatch,
                                                                  force):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    old_digest = read_build_info(hand_case.canonical)["digest"]
    _add_incident(hand_case.store, "b2")
    real = loader.ChunkLoader.flush
    loads = []

    def failing(self, name):
        if self.buffers[name]:
            if loads:  # an earlier chunk is loaded into the transaction: now fail
                raise OSError(28, "No space left on device")
            loads.append(name)
        real(self, name)

    monkeypatch.setattr(loader.ChunkLoader, "flush", failing)
    with pytest.raises(OSError, match="No space left"):
        refresh(hand_case.store, mappings, force=force)
    assert read_build_info(hand_case.canonical)["digest"] == old_digest
    assert _count(hand_case.canonical) == 3
    assert sorted(p.name for p in hand_case.store.parent.iterdir()
                  if ".tmp-" in p.name or ".rows" in p.name) == []
    monkeypatch.setattr(loader.ChunkLoader, "flush", real)
    report = refresh(hand_case.store, mappings, force=force)
    assert report.rebuilt and report.incremental is not force
    assert _count(hand_case.canonical) == 4


@pytest.mark.parametrize("force", [True, False], ids=["full build", "incremental"])
def test_a_build_over_the_memory_limit_names_the_setting_and_keeps_the_previous_file(
        hand_case, force):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    old_digest = read_build_info(hand_case.canonical)["digest"]
    _add_incident(hand_case.store, "b2")
    with pytest.raises(StateError) as got:
        refresh(hand_case.store, mappings, force=force, memory_mb=1)
    assert "needs more than 1 MB: raise state.analytics_memory_mb" in str(got.value)
    assert "Out of Memory" in str(got.value)
    assert read_build_info(hand_case.canonical)["digest"] == old_digest
    assert _count(hand_case.canonical) == 3
    assert sorted(p.name for p in hand_case.store.parent.iterdir()
                  if ".tmp-" in p.name or ".rows" in p.name) == []
    assert refresh(hand_case.store, mappings).rebuilt  # at the default limit
    assert _count(hand_case.canonical) == 4


_SLOW_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import fiveo_sync.canonical.loader as loader
    from fiveo_sync.canonical import refresh
    from fiveo_sync.engine.loader import load_mappings

    real = loader.ChunkLoader.flush
    def slow_flush(self, name):
        real(self, name)
        Path(sys.argv[3]).touch()   # rows are in the temporary file: now kill me
        time.sleep(60)
    loader.ChunkLoader.flush = slow_flush
    refresh(sys.argv[1], load_mappings(sys.argv[2]), force=sys.argv[4] == "full")
""")


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_sigkill_during_a_rebuild_leaves_the_previous_file_and_the_next_build_cleans_up(
        hand_case, tmp_path, mode):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    old_digest = read_build_info(hand_case.canonical)["digest"]
    _add_incident(hand_case.store, "b3")
    marker = tmp_path / "loading"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_BUILD, str(hand_case.store),
                              str(hand_case.mappings), str(marker), mode],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), "the child never reached the load"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    if mode == "full":  # the incremental one writes in place, in a DuckDB transaction
        leftovers = [p for p in hand_case.store.parent.iterdir() if ".tmp-" in p.name]
        assert leftovers, "the kill should have left the child's temporary file behind"
    assert read_build_info(hand_case.canonical)["digest"] == old_digest
    assert _count(hand_case.canonical) == 3
    report = refresh(hand_case.store, mappings)
    assert report.rebuilt and report.incremental and _count(report.path) == 4
    assert [p for p in hand_case.store.parent.iterdir()
            if ".tmp-" in p.name or ".rows" in p.name] == []


class FakeProgress:
    def __init__(self):
        self.last: dict[str, int] = {}
        self.finished = False

    def update(self, label, records, *, force=False):
        self.last[label] = records

    def done(self):
        self.finished = True


def test_a_rebuild_reports_records_read_and_rows_written(hand_case):
    progress = FakeProgress()
    report = refresh(hand_case.store, load_mappings(hand_case.mappings), progress=progress)
    with StateStore(hand_case.store) as store:
        stored = sum(store.count_records(source, stream) for source, stream in store.streams())
    assert progress.last == {"canonical rebuild, reading": stored,
                             "canonical rebuild, writing": sum(report.rows.values())}
    assert progress.finished


def test_a_damaged_canonical_file_is_rebuilt_not_fatal(hand_case):
    hand_case.canonical.write_bytes(b"not a duckdb file" * 100)
    report = refresh(hand_case.store, load_mappings(hand_case.mappings))
    assert report.rebuilt and report.reasons == ("no canonical file",)
    assert _count(report.path) == 3


def test_two_raw_records_with_one_issue_key_keep_their_own_raw_keys(hand_case):
    with StateStore(hand_case.store) as store:  # the same issue stored again under a new id
        store.save_page(Page("jira", "issue", [RawRecord("20007", "2025-03-06T10:00:00Z",
                                                         {**ISSUE, "id": "20007"})]))
    report = refresh(hand_case.store, load_mappings(hand_case.mappings))
    with duckdb.connect(str(report.path), read_only=True) as conn:
        rows = conn.execute("SELECT raw_key, key FROM work_items ORDER BY raw_key").fetchall()
        changes = conn.execute("SELECT raw_key, count(*) FROM work_item_status_changes "
                               "GROUP BY raw_key ORDER BY raw_key").fetchall()
    assert rows == [("10007", "PAY-7"), ("20007", "PAY-7")]
    assert changes == [("10007", 2), ("20007", 2)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_rebuild_line_is_drawn_on_a_terminal_and_removed(hand_case):
    screen = _Terminal()
    progress = RebuildProgress(screen, enabled=True)
    refresh(hand_case.store, load_mappings(hand_case.mappings), progress=progress)
    assert "canonical rebuild, writing: 29 records" in screen.getvalue()
    assert progress._status is None
    assert not RebuildProgress(io.StringIO()).enabled  # not a terminal: nothing drawn
