"""The benchmark command: ``python -m benchmarks.run`` (``--quick`` for a smoke run).

Writes ``benchmarks/RESULTS.md`` (a markdown table per case, the machine noted) and
``benchmarks/results.json``. Cases:

- ``pull``: ServiceNow (100,000 incidents + 20,000 changes) and Jira Cloud (20,000 issues
  with changelogs) at each latency, fiveo-sync beside the hand-written alternative
  (pysnow offset loop; jira library search + per-issue changelogs), measured in the same run.
  Each pull runs in its own process (``benchmarks.pull_client``); the sandboxes stay here.
- ``memory``: the fiveo-sync pull's peak RSS at one fifth of the data, beside the full pull.
- ``incremental``: a no-change ``run`` against 0 ms sandboxes holding the full data set.
- ``compute``: ``benchmarks.compute_bench.run_compute_benchmark`` when present.

Not part of CI and never collected by pytest (``testpaths = ["tests"]``).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # `python benchmarks/run.py` as well as `-m benchmarks.run`
    sys.path.insert(0, str(REPO))

from benchmarks.machine import describe_machine  # noqa: E402
from benchmarks.report import render_markdown  # noqa: E402

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
SEED = 7
FULL = {"incidents": 100_000, "changes": 20_000, "jira_issues": 20_000}
QUICK = {"incidents": 10_000, "changes": 2_000, "jira_issues": 2_000}
SN_STREAMS = ["incident", "change_request"]
ALL_CASES = ("pull", "memory", "incremental", "compute")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="one tenth of the data, latencies 0 and 50 ms (smoke run)")
    parser.add_argument("--cases", default=",".join(ALL_CASES),
                        help=f"comma-separated subset of {', '.join(ALL_CASES)}")
    parser.add_argument("--platforms", default="servicenow,jira")
    parser.add_argument("--latencies", default=None, help="ms per request, e.g. 0,20,50")
    parser.add_argument("--scale", type=float, default=None,
                        help="data multiplier against the full sizes (default 1, quick 0.1)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-handwritten", action="store_true",
                        help="leave out the pysnow / jira library alternatives")
    parser.add_argument("--skip-compute", action="store_true")
    parser.add_argument("--state-dir", default=None,
                        help="where the pulls' state stores go (default: the temp folder)")
    parser.add_argument("--compute-dir", type=Path, default=HERE / "out",
                        help="where the compute case keeps its generated stores (reused)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the cases of the existing results.json not run this time")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder for RESULTS.md and results.json (default benchmarks/)")
    return parser.parse_args(argv)


def _write(results: dict[str, Any], out: Path) -> None:
    """Write both files now, so a later case that fails leaves what was measured."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (out / "RESULTS.md").write_text(render_markdown(results))


def _sizes(scale: float) -> dict[str, int]:
    return {k: max(100, int(v * scale)) for k, v in FULL.items()}


def _start_sandboxes(sizes: dict[str, int], platforms: set[str]) -> tuple[Any, Any]:
    from connectors.jira.sandbox import JiraSandbox
    from connectors.servicenow.sandbox import ServiceNowSandbox

    sn = jira = None
    if "servicenow" in platforms:
        sn = ServiceNowSandbox(seed=SEED, scale="medium", now=NOW, incidents=sizes["incidents"],
                               changes=sizes["changes"]).start()
    if "jira" in platforms:
        jira = JiraSandbox(seed=SEED, scale="medium", now=NOW, deployment="cloud",
                           jira_issues=sizes["jira_issues"]).start()
    return sn, jira


def _spec(platform: str, sandbox: Any, mode: str, concurrency: int) -> dict[str, Any]:
    if platform == "servicenow":
        from connectors.servicenow.connector import default_fields

        user, password = sandbox.credentials["integration"]
        fields = default_fields()
        return {"platform": platform, "mode": mode, "url": sandbox.url, "user": user,
                "password": password, "streams": SN_STREAMS, "concurrency": concurrency,
                "now": sandbox.clock().isoformat(),
                "fields": {t: sorted({*fields.get(t, []), "sys_id", "sys_updated_on"})
                           for t in SN_STREAMS}}
    creds = sandbox.credentials
    return {"platform": platform, "mode": mode, "url": sandbox.url, "user": creds["email"],
            "password": creds["api_token"], "streams": ["issue"], "concurrency": concurrency,
            "now": sandbox.now().isoformat(),
            "projects": sorted(p.key for p in sandbox.world.products)}


def _bytes_sent(platform: str, sandbox: Any) -> int:
    return sandbox._server.bytes_sent if platform == "servicenow" else sandbox.bytes_sent


def _requests_seen(platform: str, sandbox: Any) -> int:
    """Requests the sandbox answered (counted the same way for every client)."""
    if platform == "servicenow":
        return len(sandbox.log)
    return sum(sandbox.counters.values())


def _measure(platform: str, sandbox: Any, mode: str, concurrency: int,
             state_dir: str | None) -> dict[str, Any]:
    """One pull in a child process; wire bytes from the sandbox, the rest from the child."""
    before, answered = _bytes_sent(platform, sandbox), _requests_seen(platform, sandbox)
    spec = {**_spec(platform, sandbox, mode, concurrency), "state_dir": state_dir}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.pull_client", json.dumps(spec)],
        cwd=REPO, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{platform} {mode} pull failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["bytes"] = _bytes_sent(platform, sandbox) - before
    result["client_requests"] = result["requests"]
    result["requests"] = _requests_seen(platform, sandbox) - answered
    return result


def run_pull_cases(sandboxes: dict[str, Any], latencies: list[int], concurrency: int,
                   handwritten: bool, state_dir: str | None) -> list[dict[str, Any]]:
    """Every platform at every latency, fiveo-sync then the alternative."""
    rows = []
    for platform, sandbox in sandboxes.items():
        for latency in latencies:
            sandbox.latency_ms = latency
            fiveo = _measure(platform, sandbox, "fiveo", concurrency, state_dir)
            row = _pull_row(platform, latency, "fiveo-sync", fiveo, concurrency)
            print(_progress(row), flush=True)
            rows.append(row)
            if handwritten:
                alt = _measure(platform, sandbox, "handwritten", concurrency, state_dir)
                alt_row = _pull_row(platform, latency, _ALTERNATIVE[platform], alt, 1)
                row["speedup_vs_handwritten"] = round(alt["seconds"] / fiveo["seconds"], 2)
                print(_progress(alt_row), flush=True)
                rows.append(alt_row)
        sandbox.latency_ms = 0
    _add_latency_cost(rows)
    return rows


def _add_latency_cost(rows: list[dict[str, Any]]) -> None:
    """What latency added: wall time minus the same client's wall time at 0 ms."""
    base = {(r["platform"], r["impl"]): r["seconds"] for r in rows if r["latency_ms"] == 0}
    for row in rows:
        zero = base.get((row["platform"], row["impl"]))
        if zero is not None and row["latency_ms"]:
            row["latency_cost_s"] = round(row["seconds"] - zero, 2)


_ALTERNATIVE = {"servicenow": "pysnow offset loop",
                "jira": "jira lib search + per-issue changelog"}


def _pull_row(platform: str, latency: int, impl: str, m: dict[str, Any],
              concurrency: int) -> dict[str, Any]:
    ideal = m["requests"] * latency / 1000 / concurrency
    return {
        "platform": platform, "latency_ms": latency, "impl": impl,
        "records": m["stored"], "seconds": m["seconds"], "requests": m["requests"],
        "bytes": m["bytes"],
        "requests_per_1k": round(m["requests"] * 1000 / max(1, m["stored"]), 2),
        "peak_rss_mib": m["peak_rss_mib"], "concurrency": concurrency,
        "store_s": m.get("store_s"),
        "ideal_s": round(ideal, 2),
        "vs_ideal": round(m["seconds"] / ideal, 2) if ideal else None,
    }


def _progress(row: dict[str, Any]) -> str:
    return (f"  {row['platform']:<10} {row['latency_ms']:>3} ms  {row['impl']:<38} "
            f"{row['seconds']:>8.2f} s  {row['requests']:>6} req  "
            f"{row['peak_rss_mib']:>6.1f} MiB")


def run_memory_case(sizes: dict[str, int], platforms: set[str], concurrency: int,
                    state_dir: str | None) -> list[dict[str, Any]]:
    """The fiveo-sync pull at one fifth of the data (compare its peak RSS with the full)."""
    small = {k: max(100, v // 5) for k, v in sizes.items()}
    sn, jira = _start_sandboxes(small, platforms)
    rows = []
    try:
        for platform, sandbox in (("servicenow", sn), ("jira", jira)):
            if sandbox is None:
                continue
            m = _measure(platform, sandbox, "fiveo", concurrency, state_dir)
            rows.append({"platform": platform, "records": m["stored"],
                         "peak_rss_mib": m["peak_rss_mib"], "seconds": m["seconds"]})
    finally:
        for sandbox in (sn, jira):
            if sandbox is not None:
                sandbox.stop()
    return rows


def run_compute_case(scale: float, out: Path) -> list[dict[str, Any]] | None:
    """The compute benchmark of ``benchmarks/compute_bench.py`` (another engineer's)."""
    try:
        from benchmarks.compute_bench import run_compute_benchmark
    except ImportError:
        return None
    return run_compute_benchmark(scale, out)


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases and write RESULTS.md and results.json."""
    args = _parse(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    platforms = {p.strip() for p in args.platforms.split(",") if p.strip()}
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    default_latencies = "0,50" if args.quick else "0,20,50"
    latencies = [int(x) for x in (args.latencies or default_latencies).split(",")]
    sizes = _sizes(scale)
    results: dict[str, Any] = {}
    previous = args.out / "results.json"
    if args.merge and previous.exists():
        results = json.loads(previous.read_text())
        results.setdefault("merged_runs", []).append(
            {"cases": sorted(cases), "machine": describe_machine()})
    else:
        results["machine"] = describe_machine()
    results.update({"sizes": sizes, "scale": scale, "concurrency": args.concurrency,
                    "latencies_ms": latencies})
    print(f"fiveo-sync benchmarks: {sizes}, latencies {latencies} ms", flush=True)
    started = time.perf_counter()
    sn = jira = None
    if cases & {"pull", "incremental"}:
        wanted = platforms if "incremental" not in cases else {"servicenow", "jira"}
        sn, jira = _start_sandboxes(sizes, wanted)
    try:
        if "pull" in cases:
            sandboxes = {p: s for p, s in (("servicenow", sn), ("jira", jira))
                         if s is not None and p in platforms}
            results["pull"] = run_pull_cases(sandboxes, latencies, args.concurrency,
                                             not args.skip_handwritten, args.state_dir)
            _write(results, args.out)
        if "incremental" in cases:
            from benchmarks.incremental import run_no_change

            with tempfile.TemporaryDirectory() as folder:
                results["incremental"] = run_no_change(sn, jira, Path(folder))
            print(f"  incremental: {results['incremental']}", flush=True)
            _write(results, args.out)
    finally:
        for sandbox in (sn, jira):
            if sandbox is not None:
                sandbox.stop()
    if "memory" in cases:
        results["memory"] = run_memory_case(sizes, platforms, args.concurrency, args.state_dir)
        print(f"  memory: {results['memory']}", flush=True)
        _write(results, args.out)
    if "compute" in cases and not args.skip_compute:
        try:
            results["compute"] = run_compute_case(scale, args.compute_dir)
        except Exception as exc:  # noqa: BLE001 - another engineer's case; keep the rest
            results["compute_error"] = f"{type(exc).__name__}: {exc}"[:500]
        print(f"  compute: {results['compute']}", flush=True)
    took = round(time.perf_counter() - started, 1)
    if results.get("merged_runs"):  # total_s stays the first run's (the machine line's)
        results["merged_runs"][-1]["total_s"] = took
    else:
        results["total_s"] = took
    _write(results, args.out)
    print(f"wrote {args.out / 'RESULTS.md'} and results.json in {took} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
