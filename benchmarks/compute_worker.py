"""One measured computation, run in its own process so peak memory is its own.

``python benchmarks/compute_worker.py compute|reference STORE MAPPINGS`` prints one JSON line:
``wall_s``, ``peak_mem_mb`` (``ru_maxrss`` of this process) and what was computed. The
store's earlier results are removed first (outside the timing), so every run computes the
same periods from scratch.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    mappings = load_mappings(mappings_dir)
    base = _peak_mb()
    with StateStore(store_path) as store:
        t0, c0 = time.perf_counter(), _cpu_s()
        report = compute_from_store(store, mappings, NOW, "bench")
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mem_mb": round(_peak_mb(), 1),
            "base_mem_mb": round(base, 1), "results": len(report.results),
            "counts": report.counts, "skipped": report.skipped}


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
    runner = run_compute if mode == "compute" else run_reference
    print(json.dumps(runner(store, mappings), sort_keys=True))
