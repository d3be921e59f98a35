"""Benchmark item 4 (issue 8): ``compute`` over a million incidents, beside plain SQL.

``run_compute_benchmark(scale_factor, out_dir)`` builds (or reuses) two state stores — the
full case (1,000,000 incidents, 200,000 changes, 300,000 Jira issues at ``scale_factor``
1.0) and one with 10x fewer records — then, each in its own subprocess, times
``fiveo_sync.compute.compute_from_store`` with the shipped mappings at a fixed ``now``
(wall time and peak RSS) over a current canonical file (its full build, the
normalisation a pull pays, is timed apart), beside the five core indicators in DuckDB over
the same typed tables (and the same five through fiveo-sync's SQL engine, cells with
their evidence: like for like) and in SQLite from the raw JSON
(:mod:`benchmarks.compute_reference`), checks that compute and the raw-JSON reference give
the same values, and times the next scheduled run with nothing changed and the one after
100 changed records (incremental refresh, then compute), both with the first run's results
as history. See ``benchmarks/compute_worker.py`` for each step.

Run alone: ``python -m benchmarks.compute_bench [scale_factor] [out_dir]``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.compute_data import DataSpec, build_dataset, scaled
from benchmarks.compute_reference import reference_indicators

REPO = Path(__file__).resolve().parents[1]


def _worker(mode: str, store: Path, mappings: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "compute_worker.py"), mode, str(store),
         str(mappings)], capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} worker failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scope_id(name: str) -> str:
    return name.lower().replace(" ", "-")


def _reference_key(indicator: str, a: str, b: str, boards: dict[str, str]) -> tuple:
    """The (scope, period) of a reference row, as ``compute`` names them."""
    if indicator == "operate.velocity":
        return boards.get(a, a), f"sprint-{b}"
    if indicator == "operate.throughput":
        year, week, _ = date.fromisoformat(b).isocalendar()
        return a.lower(), f"{year}-W{week:02d}"
    return _scope_id(a), b


def agreement(store: Path) -> dict[str, str]:
    """Per core indicator: how many (scope, period) values compute and SQL share and agree on.

    Only periods ``compute`` produced count (it computes the restatement window and the
    final periods history lacks; SQL computes every period); ``compute`` rounds values, so
    agreement is within 0.01 (0.5 for MTTR hours, rounded to one decimal).
    """
    saved = store.with_name("reference.json")
    if saved.exists():  # written by the reference worker of this case
        reference = {name: {(a, b): v for a, b, v in rows}
                     for name, rows in json.loads(saved.read_text()).items()}
    else:
        reference = reference_indicators(store)
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    boards = {}
    for (payload,) in conn.execute("SELECT payload FROM records WHERE source = 'jira' "
                                   "AND stream = 'board'"):
        board = json.loads(payload)
        boards[str(board["id"])] = board["location"]["projectKey"].lower()
    out = {}
    for indicator, values in reference.items():
        mine = {(scope, period): json.loads(payload).get("value") for scope, period, payload
                in conn.execute("SELECT scope, period, payload FROM results WHERE indicator = ? "
                                "AND breakdown = 'all'", (indicator,))}
        theirs = {_reference_key(indicator, a, b, boards): v for (a, b), v in values.items()}
        shared = [k for k in mine if k in theirs and mine[k] is not None]
        tolerance = 0.5 if indicator == "operate.mttr" else 0.01
        same = sum(1 for k in shared if abs(mine[k] - theirs[k]) <= tolerance)
        out[indicator] = f"{same}/{len(shared)}"
    conn.close()
    return out


def _case(name: str, spec: DataSpec, out_dir: Path) -> dict:
    t0 = time.perf_counter()
    store, mappings = build_dataset(spec, out_dir)
    built = time.perf_counter() - t0
    store.with_name("reference.json").unlink(missing_ok=True)
    canonical = _worker("canonical", store, mappings)
    mine = _worker("compute", store, mappings)
    typed = _worker("typed", store, mappings)
    core = _worker("core", store, mappings)
    changed = _worker("changed", store, mappings)
    ref = _worker("reference", store, mappings)
    agree = agreement(store)
    records = spec.incidents + spec.changes + spec.jira_issues
    return {
        "case": name, "records": records, "incidents": spec.incidents,
        "changes": spec.changes, "jira_issues": spec.jira_issues,
        "wall_s": mine["wall_s"], "cpu_s": mine["cpu_s"], "peak_mem_mb": mine["peak_mem_mb"],
        "results": mine["results"], "reference_s": ref["wall_s"],
        "reference_cpu_s": ref["cpu_s"],
        "reference_peak_mem_mb": ref["peak_mem_mb"],
        "ratio": round(mine["wall_s"] / ref["wall_s"], 2) if ref["wall_s"] else None,
        "cpu_ratio": round(mine["cpu_s"] / ref["cpu_s"], 2) if ref["cpu_s"] else None,
        "typed_sql_s": typed["wall_s"],
        "typed_ratio": round(mine["wall_s"] / typed["wall_s"], 1) if typed["wall_s"] else None,
        "core_s": core["wall_s"], "core_cells": core["cells"],
        "core_ratio": round(core["wall_s"] / typed["wall_s"], 1) if typed["wall_s"] else None,
        "canonical_build_s": canonical["wall_s"],
        "canonical_build_peak_mem_mb": canonical["peak_mem_mb"],
        "no_change_compute_s": changed["no_change_compute_s"],
        "after_100_changed_refresh_s": changed["refresh_s"],
        "after_100_changed_compute_s": changed["compute_s"],
        "after_100_changed_results": changed["results"],
        "us_per_record": round(mine["wall_s"] / records * 1e6, 1),
        "agreement": agree, "data_s": round(built, 1),
        "note": "agree " + ", ".join(f"{k.split('.')[1]} {v}" for k, v in agree.items()),
    }


def run_compute_benchmark(scale_factor: float, out_dir: Path) -> list[dict]:
    """Time ``compute`` and the SQL reference on the full case and on 10x fewer records.

    Args:
        scale_factor: 1.0 for the issue's case (1M incidents, 200k changes, 300k issues).
        out_dir: where the generated stores are kept (reused when already complete).

    Returns:
        One row per case: ``case, records, wall_s, peak_mem_mb, reference_s, ratio,
        us_per_record, note`` and details.
    """
    data_dir = Path(out_dir) / "compute-data"
    rows = [_case("compute 1/10", scaled(scale_factor / 10), data_dir),
            _case("compute full", scaled(scale_factor), data_dir)]
    small, full = rows
    growth = full["us_per_record"] / small["us_per_record"] if small["us_per_record"] else 0
    full["note"] += f"; cost per record x{growth:.2f} vs 1/10"
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    factor = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "benchmarks" / "out"
    for row in run_compute_benchmark(factor, target):
        print(json.dumps(row, sort_keys=True))
