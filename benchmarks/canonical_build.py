"""Build time and peak memory of the canonical DuckDB file, and the five indicators in SQL.

On the compute benchmark's 1/10 store (``benchmarks/compute_data.py`` at scale 0.1:
100,000 incidents and task SLAs, 20,000 changes, 30,000 Jira issues with changelogs, ~255,000
stored records) this measures, each in its own process so peak RSS is its own:

- ``build``: a forced :func:`fiveo_sync.canonical.refresh` (raw JSON → the normaliser →
  typed tables), wall and CPU time, peak RSS; then the digest check of an unchanged store
  (what every ``sql``/``export`` pays when nothing changed);
- ``incremental``: on a copy of the store and of the built file, 100 and then 1,000
  changed records (60 % incidents edited, 20 % Jira issues edited, 10 % new incidents,
  10 % changes deleted) and the :func:`~fiveo_sync.canonical.refresh` that applies only
  them, beside the full build's time (ratio);
- ``query``: the five core indicators (MTTR median per service and month, causal change
  failure rate, % resolved within SLA, velocity per sprint, throughput per project and ISO
  week) as DuckDB SQL over the typed tables, for every period in the data;
- agreement: those values against the SQLite raw-JSON reference of
  ``benchmarks/compute_reference.py`` (its ``reference.json`` beside the store is reused
  when the compute benchmark left one).

Run once: ``python -m benchmarks.canonical_build [data_dir]`` (default
``benchmarks/out/compute-data``; the store is generated there when missing). Not a test.
"""

# ruff: noqa: S608 - constant SQL, no outside input
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Keyed exactly like compute_reference.py, so the values can be compared one by one.
QUERIES = {
    "operate.mttr": """
        SELECT v.name, strftime(i.resolved_at, '%Y-%m'),
               quantile_cont(epoch(i.resolved_at - i.opened_at) / 3600, 0.5)
        FROM incidents i JOIN services v ON v.id = i.service
        WHERE i.state <> 'canceled' AND i.opened_at IS NOT NULL AND i.resolved_at IS NOT NULL
        GROUP BY ALL""",
    "observe.change_failure_rate": """
        WITH caused AS (SELECT DISTINCT caused_by AS id FROM incidents
                        WHERE caused_by IS NOT NULL AND state <> 'canceled')
        SELECT v.name, strftime(c.closed_at, '%Y-%m'),
               100.0 * count(*) FILTER (WHERE c.id IN (SELECT id FROM caused)) / count(*)
        FROM changes c JOIN services v ON v.id = c.service
        WHERE c.state = 'closed' AND c.closed_at IS NOT NULL GROUP BY ALL""",
    "operate.resolved_within_sla": """
        SELECT v.name, strftime(s.end_time, '%Y-%m'),
               100.0 * count(*) FILTER (WHERE NOT s.has_breached) / count(*)
        FROM slas s JOIN incidents i ON i.id = s.task JOIN services v ON v.id = i.service
        WHERE s.kind = 'resolution' AND s.stage = 'completed' AND s.end_time IS NOT NULL
          AND i.state <> 'canceled' GROUP BY ALL""",
    "operate.velocity": """
        SELECT sp.board, it.sprint,
               coalesce(sum(it.story_points) FILTER (WHERE it.status_category = 'done'), 0)
        FROM sprint_scope_items it JOIN sprints sp ON sp.id = it.sprint
        WHERE it.moment = 'close' GROUP BY ALL""",
    "operate.throughput": """
        SELECT project, strftime(date_trunc('week', done_at), '%Y-%m-%d'), count(*)
        FROM work_items WHERE status_category = 'done' AND NOT is_subtask
          AND done_at IS NOT NULL GROUP BY ALL""",
}


def _usage() -> tuple[float, float]:
    from benchmarks.machine import peak_rss_mib  # after __main__ has set sys.path

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, peak_rss_mib()


def run_build(store: Path, mappings: Path, target: Path) -> dict:
    """A forced rebuild, then the check of an unchanged store (in this process)."""
    from fiveo_sync.canonical import refresh
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.logs import configure

    configure("json", 0)
    loaded = load_mappings(mappings)
    _, base = _usage()
    t0, c0 = time.perf_counter(), _usage()[0]
    report = refresh(store, loaded, path=target, force=True)
    wall, (cpu, peak) = time.perf_counter() - t0, _usage()
    t1 = time.perf_counter()
    again = refresh(store, loaded, path=target)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu - c0, 2), "peak_mem_mb": round(peak, 1),
            "base_mem_mb": round(base, 1), "rows": report.rows,
            "file_mb": round(target.stat().st_size / 2**20, 1),
            "check_s": round(time.perf_counter() - t1, 3), "rebuilt_again": again.rebuilt}


def _change(store: Path, count: int, round_no: int) -> None:
    """Change ``count`` records the ways a pull does (see the module docstring)."""
    import copy

    from connectors.base import Page, RawRecord
    from fiveo_sync.state import StateStore

    stamp = f"2030-01-0{round_no}T00:00:00Z"
    with StateStore(store) as state:
        edits, new, issues, gone = (int(count * 0.6), int(count * 0.1), int(count * 0.2),
                                    count - int(count * 0.6) - int(count * 0.1) -
                                    int(count * 0.2))
        # Other records each round (a small smoke-test store: the first ones every time).
        skip = round_no * 5_000 if state.count_records("servicenow", "incident") > 20_000 else 0
        incidents = []
        for n, record in enumerate(state.iter_records("servicenow", "incident")):
            if n >= skip:
                incidents.append(record)
            if len(incidents) == edits:
                break
        pages = [RawRecord(r.key, stamp, {**r.payload, "short_description": "edited"})
                 for r in incidents]
        for n in range(new):
            payload = copy.deepcopy(incidents[n].payload)
            payload.update(sys_id=f"bench{round_no}{n:027d}", number=f"INCB{round_no}{n:06d}")
            pages.append(RawRecord(payload["sys_id"], stamp, payload))
        state.save_page(Page("servicenow", "incident", pages))
        edited = []
        for n, record in enumerate(state.iter_records("jira", "issue")):
            if n >= skip:
                payload = copy.deepcopy(record.payload)
                payload["fields"]["labels"] = ["edited"]
                edited.append(RawRecord(record.key, stamp, payload))
            if len(edited) == issues:
                break
        state.save_page(Page("jira", "issue", edited))
        keys = [r.key for n, r in zip(range(skip + gone), state.iter_records(
            "servicenow", "change_request"), strict=False) if n >= skip]
        state.save_page(Page("servicenow", "change_request", deleted_keys=keys))


def run_incremental(store: Path, mappings: Path, target: Path) -> dict:
    """Copies of the store and file; 100 then 1,000 changed records, each refresh timed."""
    import shutil

    from fiveo_sync.canonical import refresh
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.logs import configure

    configure("json", 0)
    loaded = load_mappings(mappings)
    copy_store = store.with_name("incremental-bench.sqlite")
    copy_file = store.with_name("incremental-bench.duckdb")
    try:
        shutil.copy(store, copy_store)
        shutil.copy(target, copy_file)
        out = {}
        for round_no, count in enumerate((100, 1_000), 1):
            _change(copy_store, count, round_no)
            t0, c0 = time.perf_counter(), _usage()[0]
            report = refresh(copy_store, loaded, path=copy_file)
            out[str(count)] = {"wall_s": round(time.perf_counter() - t0, 3),
                               "cpu_s": round(_usage()[0] - c0, 3),
                               "incremental": report.incremental,
                               "rows": {k: v for k, v in report.rows.items() if v}}
        out["peak_mem_mb"] = round(_usage()[1], 1)
        return out
    finally:
        for path in (copy_store, copy_file):
            for suffix in ("", "-wal", "-shm", ".wal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_query(target: Path) -> dict:
    """The five indicators over the typed tables (in this process)."""
    import duckdb

    t0, c0 = time.perf_counter(), _usage()[0]
    with duckdb.connect(str(target), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        values = {name: [[str(a), str(b), float(v)] for a, b, v in conn.execute(sql).fetchall()]
                  for name, sql in QUERIES.items()}
    wall, (cpu, peak) = time.perf_counter() - t0, _usage()
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu - c0, 3), "peak_mem_mb": round(peak, 1),
            "values": values}


def _worker(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True, cwd=REPO).stdout
    return json.loads(out.strip().splitlines()[-1])


def _agreement(values: dict, store: Path) -> dict[str, str]:
    cached = store.with_name("reference.json")
    if cached.exists():
        reference = json.loads(cached.read_text())
    else:
        from benchmarks.compute_reference import reference_indicators
        reference = {name: [[a, b, v] for (a, b), v in rows.items()]
                     for name, rows in reference_indicators(store).items()}
    out = {}
    for name, rows in values.items():
        ref = {(a, b): v for a, b, v in reference[name]}
        mine = {(a, b): v for a, b, v in rows}
        same = sum(1 for k, v in mine.items() if k in ref and abs(ref[k] - v) < 1e-6)
        out[name] = f"{same}/{len(ref)}" + ("" if mine.keys() == ref.keys() else " (keys differ)")
    return out


def main(data_dir: Path) -> dict:
    """Generate (or reuse) the 1/10 store, measure, and return the figures."""
    from benchmarks.compute_data import build_dataset, scaled
    from benchmarks.machine import describe_machine

    store, mappings = build_dataset(scaled(0.1), data_dir)
    target = store.with_name("canonical-bench.duckdb")
    build = _worker("build", str(store), str(mappings), str(target))
    incremental = _worker("incremental", str(store), str(mappings), str(target))
    for count in ("100", "1000"):
        incremental[count]["full_build_over_incremental"] = round(
            build["wall_s"] / incremental[count]["wall_s"], 1)
    query = _worker("query", str(target))
    agree = _agreement(query.pop("values"), store)
    return {"machine": describe_machine(), "records_stored": sum(
        json.loads(store.with_name("counts.json").read_text()).values()),
        "build": build, "incremental": incremental, "query": query,
        "agreement_with_sqlite_reference": agree}


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    if len(sys.argv) > 1 and sys.argv[1] == "build":
        print(json.dumps(run_build(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "incremental":
        print(json.dumps(run_incremental(Path(sys.argv[2]), Path(sys.argv[3]),
                                         Path(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "query":
        print(json.dumps(run_query(Path(sys.argv[2]))))
    else:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "benchmarks" / "out" / \
            "compute-data"
        print(json.dumps(main(folder), indent=2, sort_keys=True))
