"""The SQL engine against the Python engine on the compute benchmark's 1/10 store.

Issue 12 asks, before the Python engine is deleted, that both give the same results on the
demo data (``tests/integration/canonical/test_compute_engines_agree.py``) and on this
case: 100,000 incidents and task SLAs, 20,000 changes, 30,000 Jira issues. Too slow for
the test suite, so it is a script:

1. on a copy of the store (results and compute marks emptied), the canonical tables are
   built, then ``compute_from_store`` runs the compiled indicators in SQL and the rest in
   the Python engine;
2. the Python engine alone over the raw records through the normaliser, with the same
   clock and an empty history (how ``compute`` worked before the SQL engine);
3. both result lists serialised as the store saves them (``IndicatorResult.to_dict``),
   compared one by one and as JSON text.

Prints what differs (at most 20 results) and the timings, and exits 1 when anything
differs. Run: ``python -m benchmarks.engines_agree [data_dir]`` (default
``benchmarks/out/compute-data``; the store is generated there when missing). Not a test.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.compute_data import NOW, build_dataset, scaled
from fiveo_sync.canonical import refresh
from fiveo_sync.compute import compute_from_store
from fiveo_sync.engine.engine import compute
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.logs import configure
from fiveo_sync.state import StateStore

HERE = Path(__file__).resolve().parent


def _python_engine(store: StateStore, mappings) -> list:
    raw = {(source, stream): store.iter_payloads(source, stream)
           for source, stream in store.streams()}
    data = normalise(mappings.sources, mappings.portfolio, raw)
    return compute(mappings.indicator_files, data, mappings.portfolio, NOW, [])


def _timed(work):
    started = time.perf_counter()
    value = work()
    return value, round(time.perf_counter() - started, 2)


def main(argv: list[str]) -> int:
    data_dir = Path(argv[0]) if argv else HERE / "out" / "compute-data"
    source, mappings_dir = build_dataset(scaled(0.1), data_dir)
    configure("json", 0)
    mappings = load_mappings(mappings_dir)
    with tempfile.TemporaryDirectory() as scratch:
        store_path = Path(scratch) / "state.sqlite"
        with sqlite3.connect(source) as conn:  # a consistent copy, WAL included
            conn.execute("VACUUM INTO ?", (str(store_path),))
        with sqlite3.connect(store_path) as conn:
            conn.execute("DELETE FROM results")
            conn.execute("DELETE FROM meta WHERE name = 'compute_marks'")
        _, build_s = _timed(lambda: refresh(store_path, mappings))
        with StateStore(store_path) as store:
            report, sql_s = _timed(lambda: compute_from_store(store, mappings, NOW, "new"))
            old, python_s = _timed(lambda: _python_engine(store, mappings))
    new = report.results
    differing = [(a.indicator, a.scope, a.breakdown, a.period)
                 for a, b in zip(old, new, strict=False) if a.to_dict() != b.to_dict()]
    same_text = (json.dumps([r.to_dict() for r in old]) ==
                 json.dumps([r.to_dict() for r in new]))
    agree = len(old) == len(new) and not differing and same_text
    print(json.dumps({
        "case": "compute 1/10", "results": [len(old), len(new)],
        "with_value": sum(1 for r in new if r.value is not None),
        "with_evidence": sum(1 for r in new if r.evidence),
        "indicators": len({r.indicator for r in new}),
        "in_python": sorted(report.in_python),
        "canonical_build_s": build_s, "sql_engine_s": sql_s, "python_engine_s": python_s,
        "differing": len(differing), "identical_json": same_text, "agree": agree,
    }, indent=1))
    for key in differing[:20]:
        print("differs:", key)
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
