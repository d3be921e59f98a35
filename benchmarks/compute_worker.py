"""One measured step, run in its own process so peak memory is its own.

``python benchmarks/compute_worker.py MODE STORE MAPPINGS`` prints one JSON line with
``wall_s``, ``cpu_s``, ``peak_mem_mb`` (this process's ``VmHWM``) and what was done:

- ``canonical``: a full build of the canonical DuckDB file beside the store (the
  normalisation ``pull`` pays once; reported apart from compute);
- ``compute``: ``compute_from_store`` with the canonical file current. The store's earlier
  results are removed first (outside the timing), so every run computes the same periods
  from scratch;
- ``typed``: the five core indicators as DuckDB SQL over the canonical tables
  (``benchmarks/canonical_build.QUERIES``) — what the data allows;
- ``core``: the same five core indicators through fiveo-sync's SQL engine
  (``sqlengine.run_indicators``: compiled queries, cells with their evidence lists), no
  history, without the shipped MTTR's breakdown: the cells ``typed`` computes, where
  ``compute`` does all 55 indicators, status, trends and saving;
- ``reference``: the five core indicators in SQLite straight from the raw JSON;
- ``changed``: on copies of the store and canonical file (holding the ``compute`` run's
  results as history and its marks), the next scheduled run 15 minutes later with nothing
  changed (``compute_from_store``, timed), then 100 changed records
  (``canonical_build._change``), the incremental refresh and ``compute_from_store`` of
  the run after, each timed.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import time
from pathlib import Path


def _peak_mb() -> float:
    from benchmarks.machine import peak_rss_mib  # after __main__ has set sys.path

    return peak_rss_mib()


def _cpu_s() -> float:
    # CPU time beside wall time: the 2-core machine is shared, CPU time is what we spent.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_compute(store_path: Path, mappings_dir: Path) -> dict:
    from benchmarks.compute_data import NOW
    from fiveo_sync.compute import compute_from_store
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.logs import configure
    from fiveo_sync.state import StateStore

    configure("json", 0)
    with sqlite3.connect(store_path) as conn:
        conn.execute("DELETE FROM results")
        conn.execute("DELETE FROM meta WHERE name = 'compute_marks'")
    mappings = load_mappings(mappings_dir)
    base = _peak_mb()
    with StateStore(store_path) as store:
        t0, c0 = time.perf_counter(), _cpu_s()
        report = compute_from_store(store, mappings, NOW, "bench")
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mem_mb": round(_peak_mb(), 1),
            "base_mem_mb": round(base, 1), "results": len(report.results),
            "counts": report.counts, "skipped": report.skipped}


def run_canonical(store_path: Path, mappings_dir: Path) -> dict:
    from fiveo_sync.canonical import refresh
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.logs import configure

    configure("json", 0)
    mappings = load_mappings(mappings_dir)
    t0, c0 = time.perf_counter(), _cpu_s()
    report = refresh(store_path, mappings, force=True)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_mem_mb": round(_peak_mb(), 1), "rows": sum(report.rows.values())}


def run_typed(store_path: Path, mappings_dir: Path) -> dict:
    import duckdb

    from benchmarks.canonical_build import QUERIES

    target = store_path.with_suffix(".duckdb")
    t0, c0 = time.perf_counter(), _cpu_s()
    with duckdb.connect(str(target), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rows = sum(len(conn.execute(sql).fetchall()) for sql in QUERIES.values())
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "peak_mem_mb": round(_peak_mb(), 1), "results": rows}


def run_core(store_path: Path, mappings_dir: Path) -> dict:
    import duckdb

    from benchmarks.canonical_build import QUERIES
    from benchmarks.compute_data import NOW
    from fiveo_sync.canonical.builder import build_info
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.engine.spec import BoundIndicator, bind_indicators
    from fiveo_sync.sqlengine import run_indicators

    mappings = load_mappings(mappings_dir)
    # The same cells as the DuckDB queries: they have no breakdown, while the shipped
    # operate.mttr also reports one per priority (7,625 cells instead of 3,970).
    core = [BoundIndicator(spec=b.spec.model_copy(update={"breakdown": None}), params=b.params)
            for b in bind_indicators(mappings.indicator_files) if b.spec.id in QUERIES]
    t0, c0 = time.perf_counter(), _cpu_s()
    with duckdb.connect(str(store_path.with_suffix(".duckdb")), read_only=True) as conn:
        ids = (build_info(conn) or {}).get("id_traits")  # as compute reads them
        cells = run_indicators(conn, core, mappings.portfolio, NOW, ids=ids).cells
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "peak_mem_mb": round(_peak_mb(), 1), "indicators": len(core),
            "cells": len(cells), "with_evidence": sum(1 for c in cells if c.evidence)}


def run_changed(store_path: Path, mappings_dir: Path) -> dict:
    import shutil
    from datetime import timedelta

    from benchmarks.canonical_build import _change
    from benchmarks.compute_data import NOW
    from fiveo_sync.canonical import refresh
    from fiveo_sync.compute import compute_from_store
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.logs import configure
    from fiveo_sync.state import StateStore

    configure("json", 0)
    mappings = load_mappings(mappings_dir)
    copy = store_path.with_name("changed-bench.sqlite")
    try:
        shutil.copy(store_path, copy)
        shutil.copy(store_path.with_suffix(".duckdb"), copy.with_suffix(".duckdb"))
        with StateStore(copy) as store:
            t0 = time.perf_counter()
            steady = compute_from_store(store, mappings, NOW + timedelta(minutes=15),
                                        "bench-no-change")
            no_change_s = time.perf_counter() - t0
        _change(copy, 100, 1)
        t0, c0 = time.perf_counter(), _cpu_s()
        refreshed = refresh(copy, mappings)
        t1 = time.perf_counter()
        with StateStore(copy) as store:
            report = compute_from_store(store, mappings, NOW + timedelta(minutes=30),
                                        "bench-changed")
        t2, cpu = time.perf_counter(), _cpu_s() - c0
        return {"refresh_s": round(t1 - t0, 3), "compute_s": round(t2 - t1, 2),
                "wall_s": round(t2 - t0, 2), "cpu_s": round(cpu, 2),
                "incremental": refreshed.incremental, "results": len(report.results),
                "no_change_compute_s": round(no_change_s, 2),
                "no_change_results": len(steady.results),
                "read_since": len(report.read_since), "reused": len(report.reused),
                "no_change_reused": len(steady.reused),
                "peak_mem_mb": round(_peak_mb(), 1)}
    finally:
        for path in (copy, copy.with_suffix(".duckdb")):
            for suffix in ("", "-wal", "-shm", ".wal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_reference(store_path: Path, mappings_dir: Path) -> dict:
    from benchmarks.compute_reference import reference_indicators

    t0, c0 = time.perf_counter(), _cpu_s()
    values = reference_indicators(store_path)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    # Kept beside the store for the agreement check, so the SQL runs once per case.
    store_path.with_name("reference.json").write_text(json.dumps(
        {name: [[a, b, v] for (a, b), v in rows.items()] for name, rows in values.items()}))
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mem_mb": round(_peak_mb(), 1),
            "results": sum(len(v) for v in values.values())}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    mode, store, mappings = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    runner = {"canonical": run_canonical, "compute": run_compute, "typed": run_typed,
              "core": run_core, "changed": run_changed, "reference": run_reference}[mode]
    print(json.dumps(runner(store, mappings), sort_keys=True))
