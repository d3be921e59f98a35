"""An incremental ``compute`` gives byte for byte what a computation from scratch gives.

The demo organisation is pulled from both sandboxes. Each run of ``compute_from_store``
on the store (canonical file refreshed incrementally, queries bounded by what changed,
results of unchanged scopes read back) is checked against a computation from scratch: the
same store copied with the same history but without the last computation's marks, its
canonical file built anew from the raw records, every query over every row. Their
results, serialised as the store saves them, must be identical: on a first run; on a run
nine days later with the first run's results as history (finished periods are then not
recomputed, trends and baselines come from history); fifteen minutes later, when the
record indicators' results are the last run's, read back; after a few records changed;
and after an incident moved to another service and another was deleted.

Before the Python engine was deleted these runs were compared with it instead (and
agreed byte for byte, demo and the benchmark's 1/10 case: ``benchmarks/COMPUTE.md``).
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.base import Page, RawRecord
from fiveo_sync.canonical import canonical_path
from fiveo_sync.compute import MARKS_KEY, compute_from_store, load_series
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.spec import bind_indicators
from fiveo_sync.improvement_ledger import LEDGER_KEY
from fiveo_sync.sqlengine import run_indicators
from fiveo_sync.state import StateStore

NOW = datetime(2025, 4, 3, 5, 37, tzinfo=UTC)
def _from_scratch(store: StateStore, mappings, now):
    """The results of a computation from scratch at ``now`` over a copy of ``store``."""
    folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=store.path.parent))
    with sqlite3.connect(folder / "state.sqlite") as target:
        store._conn.backup(target)  # noqa: SLF001 - a consistent copy of the open store
    with StateStore(folder / "state.sqlite") as copy:
        copy.set_meta(MARKS_KEY, {})
        results = compute_from_store(copy, mappings, now, "scratch").results
    shutil.rmtree(folder)
    return results


def _text(results) -> str:
    return json.dumps([r.to_dict() for r in results], indent=1)


@pytest.fixture
def case(sandbox_case, tmp_path):
    store = tmp_path / "state.sqlite"
    shutil.copy(sandbox_case.store, store)
    return store, load_mappings(sandbox_case.mappings)


def _assert_same(old, new):
    assert len(new) == len(old)
    mismatched = [(a.indicator, a.scope, a.breakdown, a.period)
                  for a, b in zip(old, new, strict=True) if a.to_dict() != b.to_dict()]
    assert mismatched == []
    assert _text(new) == _text(old)


def test_incremental_computations_equal_computations_from_scratch_on_the_demo(case):
    path, mappings = case
    with StateStore(path) as store:
        report = compute_from_store(store, mappings, NOW, "run-1")
        new = report.results
        assert len({r.indicator for r in new}) == 55  # every shipped indicator
        # Not vacuous: many results with values, evidence and every O.
        assert sum(1 for r in new if r.value is not None) > 800
        assert sum(1 for r in new if r.evidence) > 500
        assert {r.o for r in new} == {"organise", "orient", "operate", "observe", "optimise"}

        later = NOW + timedelta(days=9)
        old = _from_scratch(store, mappings, later)
        second = compute_from_store(store, mappings, later, "run-2")
        _assert_same(old, second.results)
        assert any(r.trend not in (None, "none") for r in second.results)
        # Nothing changed since run 1: record queries read only from the window on.
        assert {"operate.mttr", "operate.throughput"} <= second.read_since.keys()
        # The window moved on in nine days; a snapshot's period (the month) did not.
        assert "operate.mttr" not in second.reused
        assert "optimise.known_error_ratio" in second.reused
        assert "observe.open_incident_age" not in second.reused  # an age to now

        # Fifteen minutes on, still nothing changed: the record queries are not run, their
        # window results are run 2's, read back; the rest is computed as before.
        steady = later + timedelta(minutes=15)
        old = _from_scratch(store, mappings, steady)
        rerun = compute_from_store(store, mappings, steady, "run-2b")
        _assert_same(old, rerun.results)
        assert {"operate.mttr", "operate.throughput", "observe.change_failure_rate"} <= \
            set(rerun.reused)
        assert rerun.read_since == {}

        incidents = [r for _, r in zip(range(3), store.iter_records("servicenow", "incident"),
                                       strict=False)]
        edited = []
        for number, record in enumerate(incidents):
            payload = copy.deepcopy(record.payload)
            payload.update(priority="1", sys_updated_on="2025-04-02 08:00:00")
            if number == 0:  # resolved in a month no result exists for: computed first now
                payload.update(opened_at="2023-01-15 08:00:00",
                               resolved_at="2023-01-15 10:00:00",
                               closed_at="2023-01-16 10:00:00")
            edited.append(RawRecord(record.key, "2025-04-02T08:00:00Z", payload))
        store.save_page(Page("servicenow", "incident", edited))
        old = _from_scratch(store, mappings, steady)
        third = compute_from_store(store, mappings, steady, "run-3")
        _assert_same(old, third.results)
        # Incidents changed: what reads them is computed, what reads only Jira is reused.
        assert "operate.mttr" not in third.reused
        assert "operate.throughput" in third.reused
        assert third.read_since["operate.mttr"] <= datetime(2023, 1, 15, 10, tzinfo=UTC)
        assert any(r.indicator == "operate.mttr" and r.period == "2023-01"
                   for r in third.results)

        # An incident resolved in the window moves to another service and one of the first
        # service's is deleted: only those two services' cells are computed, from where
        # the rows are and where they were; every other scope's results are read back.
        moved, deleted, old_scope, new_scope = _in_window_pair(path, steady)
        record = next(r for r in store.iter_records("servicenow", "incident") if r.key == moved)
        other = next(r for r in store.iter_records("servicenow", "incident")
                     if _service_of(path, r.key) == new_scope)
        payload = {**record.payload, "business_service": other.payload["business_service"],
                   "assignment_group": other.payload["assignment_group"],
                   "sys_updated_on": "2025-04-12 06:00:00"}
        store.save_page(Page("servicenow", "incident",
                             [RawRecord(moved, "2025-04-12T06:00:00Z", payload)],
                             deleted_keys=[deleted]))
        fourth_at = steady + timedelta(minutes=15)
        old = _from_scratch(store, mappings, fourth_at)
        fourth = compute_from_store(store, mappings, fourth_at, "run-4")
        _assert_same(old, fourth.results)
        assert fourth.touched["operate.mttr"] == {old_scope, new_scope}
        # The SLAs of the two incidents move with them (their service is the incident's).
        assert fourth.touched["operate.resolved_within_sla"] == {old_scope, new_scope}
        assert "operate.throughput" in fourth.reused
        # Repeats are split too: the two services and those of the repeats they decide.
        assert fourth.touched["optimise.repeat_incidents"] >= {old_scope, new_scope}
        assert sum(1 for r in fourth.results if r.indicator == "operate.mttr"
                   and r.scope not in {old_scope, new_scope}) > 30  # read back
        saved = store._conn.execute(  # noqa: SLF001 - what run 4 wrote
            "SELECT DISTINCT scope FROM results WHERE indicator = 'operate.mttr' AND "
            "run_id = 'run-4'").fetchall()
        assert {scope for (scope,) in saved} == {old_scope, new_scope}
        # The two scopes' window holds only run 4's results (a cell gone is gone).
        window = store.get_meta(MARKS_KEY)["reuse"]["operate.mttr"]["window"]
        runs = store._conn.execute(  # noqa: SLF001
            f"SELECT DISTINCT run_id FROM results WHERE indicator = 'operate.mttr' AND "  # noqa: S608
            f"scope IN (?, ?) AND period IN ({', '.join('?' * len(window))})",
            [old_scope, new_scope, *window]).fetchall()
        assert runs == [("run-4",)]


def _in_window_pair(path, now):
    """Two incidents of one service resolved in the window (with a resolution SLA completed
    there), and another service."""
    with duckdb.connect(str(canonical_path(path)), read_only=True) as conn:
        rows = conn.execute(
            "SELECT DISTINCT i.raw_key, i.service FROM incidents i JOIN slas s ON "
            "s.task = i.id WHERE i.resolved_at >= $start AND i.resolved_at < $end AND "
            "s.kind = 'resolution' AND s.stage = 'completed' AND s.end_time >= $start AND "
            "i.service IS NOT NULL ORDER BY 1",
            {"start": now - timedelta(days=30), "end": now - timedelta(days=1)}).fetchall()
    by_service: dict[str, list[str]] = {}
    for key, service in rows:
        by_service.setdefault(service, []).append(key)
    first = next(s for s, keys in sorted(by_service.items()) if len(keys) >= 2)
    second = next(s for s in sorted(by_service) if s != first)
    return by_service[first][0], by_service[first][1], first, second


def _service_of(path, key):
    with duckdb.connect(str(canonical_path(path)), read_only=True) as conn:
        found = conn.execute("SELECT service FROM incidents WHERE raw_key = ?", [key]).fetchone()
    return found[0] if found else None


def test_results_a_later_computation_replaced_are_not_reused(case):
    # Run 3 saves its results, then dies before its marks: the store keeps run 1's marks,
    # which point at results run 3 replaced. Run 4 must compute them again.
    path, mappings = case
    with StateStore(path) as store:
        compute_from_store(store, mappings, NOW, "run-1")
        marks = store.get_meta(MARKS_KEY)
        assert set(marks["reuse"]["operate.mttr"]["runs"]) == {"run-1"}
        store.set_meta(MARKS_KEY, {})
        compute_from_store(store, mappings, NOW + timedelta(minutes=15), "run-3")
        store.set_meta(MARKS_KEY, marks)
        later = NOW + timedelta(minutes=30)
        old = _from_scratch(store, mappings, later)
        fourth = compute_from_store(store, mappings, later, "run-4")
        _assert_same(old, fourth.results)
        assert fourth.reused == ()


def test_with_history_the_sql_leaves_out_final_periods_already_held(case):
    path, mappings = case
    later = NOW + timedelta(days=9)
    with StateStore(path) as store:
        compute_from_store(store, mappings, NOW, "run-1")
        book = load_series(store)
    bound = [b for b in bind_indicators(mappings.indicator_files) if not b.spec.is_derived]
    with duckdb.connect(str(canonical_path(path)), read_only=True) as conn:
        every = {c.key: c for c in run_indicators(conn, bound, mappings.portfolio, later).cells}
        cut = {c.key: c for c in run_indicators(conn, bound, mappings.portfolio, later,
                                                book.periods_done).cells}
    left_out = every.keys() - cut.keys()
    assert cut.keys() < every.keys()
    # Month, week and sprint cells all go (held final periods of record and sprint queries).
    assert {"month", "week", "sprint"} <= {_kind(period) for _, _, _, period in left_out}
    held = {(ind, scope, period) for ind, scope, _, period in left_out}
    assert all(period in {p for s, p in book.periods_done(ind, _scope_type(ind, bound))
                          if s == scope} for ind, scope, period in held)
    # What is computed is computed the same.
    assert all(cell == every[key] and cell.evidence == every[key].evidence
               and cell.flags == every[key].flags for key, cell in cut.items())


def _kind(period: str) -> str:
    return "sprint" if period.startswith("sprint-") else "week" if "-W" in period else "month"


def _scope_type(indicator: str, bound) -> str:
    view = next(b.spec.view for b in bound if b.spec.id == indicator)
    return "product" if view == "product" else "service"


def test_improvement_items_are_read_anew_every_run(case):
    # The ledger lives in the store's meta, outside the canonical change log: a run after
    # it changed, with no record changed, still computes the improvement indicators from
    # the items as they are now, as a computation from scratch does.
    path, mappings = case
    improvement = {"optimise.improvements_opened", "optimise.improvements_closed",
                   "optimise.target_restore_time"}
    with StateStore(path) as store:
        compute_from_store(store, mappings, NOW, "run-1")
        store.set_meta(LEDGER_KEY, {
            "payments:operate.mttr:all:1": {
                "indicator": "operate.mttr", "scope_type": "service", "scope": "payments",
                "breakdown": "all", "state": "resolved", "opened_at": "2025-01-06T09:00:00Z",
                "resolved_at": "2025-03-02T10:00:00Z"},
            "payments-web:operate.velocity:all:1": {
                "indicator": "operate.velocity", "scope_type": "product",
                "scope": "payments-web", "breakdown": "all", "state": "open",
                "opened_at": "2025-04-01T09:00:00Z"},
        })
        later = NOW + timedelta(minutes=15)
        old = _from_scratch(store, mappings, later)
        second = compute_from_store(store, mappings, later, "run-2")
        _assert_same(old, second.results)
        assert not improvement & set(second.reused)
        counted = {(r.indicator, r.scope, r.period): r.value for r in second.results
                   if r.indicator in improvement and r.value}
        # The combined scope holds its service's items and its products'.
        assert counted[("optimise.improvements_opened", "payments", "2025-Q1")] == 1.0
        assert counted[("optimise.improvements_opened", "payments", "2025-Q2")] == 1.0
        assert counted[("optimise.improvements_closed", "payments", "2025-Q1")] == 1.0
        assert counted[("optimise.target_restore_time", "payments", "2025-Q1")] == \
            (datetime(2025, 3, 2, 10, tzinfo=UTC) - datetime(2025, 1, 6, 9, tzinfo=UTC)) / \
            timedelta(days=1)
