"""The SQL engine (``fiveo_sync.sqlengine``) against the Python engine, same store, same run.

On the compute benchmark's 1/10 store (``benchmarks/compute_data.py`` at scale 0.1: 100,000
incidents and task SLAs, 20,000 changes, 30,000 Jira issues), with the shipped mappings at
the data's ``now`` and an empty history (every period computed), this measures in one
process:

- ``canonical_build``: the canonical DuckDB file built from the raw store (reused when its
  digest is current; issue #12 moves this to pull time, so it is reported apart);
- ``python_normalise``: raw JSON → ``CanonicalData`` (what ``compute`` pays on every run
  today), and ``python_compute``: ``engine.compute`` of the indicators the compiler
  supports;
- ``sql``: :func:`fiveo_sync.sqlengine.run_indicators` of the same indicators over the
  canonical tables (compile + DuckDB), with the slowest queries;
- agreement: every (indicator, scope, breakdown, period) value/n/excluded of both engines
  (values to 1e-9).

Run once: ``python -m benchmarks.sql_engine [data_dir]`` (default
``$TMPDIR/fiveo-sync-compute-data``, generated there when missing; never inside the repo).
Not a test.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    from benchmarks.machine import peak_rss_mib

    return peak_rss_mib()


def _timed(func, *args):
    started = time.perf_counter()
    value = func(*args)
    return value, round(time.perf_counter() - started, 3)


def _normalise(store_path: Path, mappings):
    from fiveo_sync.engine.normalise import normalise
    from fiveo_sync.state import StateStore

    with StateStore(store_path) as store:
        raw = {(source, stream): store.iter_payloads(source, stream)
               for source, stream in store.streams()}
        return normalise(mappings.sources, mappings.portfolio, raw)


def _agreement(python: dict, cells: list) -> dict:
    mine = {c.key: (c.value, c.n, c.excluded) for c in cells}
    differ = 0
    for key, (value, n, excluded) in python.items():
        other = mine.get(key)
        same_value = other is not None and (
            (value is None and other[0] is None) or
            (value is not None and other[0] is not None and
             math.isclose(value, other[0], rel_tol=1e-9, abs_tol=1e-9)))
        if not (same_value and other[1:] == (n, excluded)):
            differ += 1
    return {"cells": len(python), "sql_cells": len(mine), "differ": differ,
            "same_keys": mine.keys() == python.keys()}


def main(data_dir: Path) -> dict:
    """Generate (or reuse) the 1/10 store, run both engines, return the figures."""
    import duckdb

    from benchmarks.compute_data import NOW, build_dataset, scaled
    from benchmarks.machine import describe_machine
    from fiveo_sync.canonical import refresh
    from fiveo_sync.engine.engine import compute
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.engine.scope import build_scopes
    from fiveo_sync.engine.spec import bind_indicators
    from fiveo_sync.logs import configure
    from fiveo_sync.sqlengine import NotCompiled, compile_indicator, run_compiled

    configure("json", 0)
    machine = describe_machine()
    store, mappings_dir = build_dataset(scaled(0.1), data_dir)
    mappings = load_mappings(mappings_dir)
    target = store.with_name("sql-engine.duckdb")
    build, build_s = _timed(lambda: refresh(store, mappings, path=target))
    bound = bind_indicators(mappings.indicator_files)
    scopes = build_scopes(mappings.portfolio)
    compiled, skipped = [], {}
    for item in bound:
        try:
            compiled.append(compile_indicator(item.spec, item.params, scopes[item.spec.view],
                                              NOW))
        except NotCompiled as exc:
            skipped[item.spec.id] = exc.reason
    supported = [item for item in bound if item.spec.id not in skipped]

    data, normalise_s = _timed(_normalise, store, mappings)
    results, python_s = _timed(compute, supported, data, mappings.portfolio, NOW)
    python = {(r.indicator, r.scope, r.breakdown, r.period): (r.value, r.n, r.excluded)
              for r in results}
    del data, results

    cells, per_query = [], {}
    started = time.perf_counter()
    with duckdb.connect(str(target), read_only=True) as conn:
        for query in compiled:
            t0 = time.perf_counter()
            cells.extend(run_compiled(conn, query))
            per_query[query.indicator] = round(time.perf_counter() - t0, 3)
    sql_s = round(time.perf_counter() - started, 3)
    slowest = dict(sorted(per_query.items(), key=lambda kv: -kv[1])[:5])
    return {
        "machine": machine,
        "indicators": {"compiled": len(compiled), "not_compiled": skipped},
        "canonical_build": {"rebuilt": build.rebuilt, "seconds": build_s},
        "python_normalise_s": normalise_s, "python_compute_s": python_s,
        "sql_s": sql_s, "sql_slowest_s": slowest,
        "ratio_compute_over_sql": round(python_s / sql_s, 1),
        "ratio_normalise_and_compute_over_sql": round((normalise_s + python_s) / sql_s, 1),
        "peak_mem_mb": _peak_mb(),
        "agreement": _agreement(python, cells),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(tempfile.gettempdir()) / "fiveo-sync-compute-data"
    if folder.resolve().is_relative_to(REPO):
        raise SystemExit("build the benchmark store outside the repository")
    print(json.dumps(main(folder), indent=2, sort_keys=True))
