"""Rendering benchmark results as the markdown of ``benchmarks/RESULTS.md``."""

from __future__ import annotations

from typing import Any

METHOD = """\
How to read this:
- Sandboxes run in the benchmark process on loopback; each pull runs in its own child
  process (`benchmarks/pull_client.py`), so client and server do not share a GIL.
  `latency` is added by the sandbox to every request (`latency_ms`).
- `bytes` are response bodies on the wire (gzip when the client accepts it; every client
  here does, including pysnow and the jira library through requests).
- `ideal` = requests × latency ÷ concurrency (fiveo-sync: `http.concurrency`; the
  hand-written loops are sequential, concurrency 1). `×ideal` = measured ÷ ideal.
- `store s` = time the client spent committing pages to its state store (SQLite), the
  local work a pull cannot overlap with itself.
- `latency cost s` = wall time minus the same client's wall time at 0 ms: what the
  latency added (compare with `ideal s`; noisy on a shared machine).
- `speedup` = hand-written wall time ÷ fiveo-sync wall time at the same latency, same run.
- Both sides store every record into a fiveo-sync state store (the same work per record).
- Hand-written ServiceNow: pysnow `Resource.get(query, limit=1000, offset=…, fields=…)`
  in a `sysparm_offset` loop, careful settings (no count, no Link header).
  Hand-written Jira: `JIRA.enhanced_search_issues(jql, maxResults=False,
  expand="changelog")` then `GET /issue/{id}/changelog` for each truncated changelog.
- The machine is shared (2 cores, other engineers' test runs): absolute times are noisy;
  ratios measured in one run are the figures to compare.
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for _, title in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(key)) for key, _ in columns) + " |")
    return lines


COMPUTE_COLUMNS = [
    ("case", "case"), ("records", "records"), ("results", "results"),
    ("wall_s", "first compute s"), ("cpu_s", "CPU s"), ("peak_mem_mb", "peak RSS MiB"),
    ("typed_sql_s", "5 core in DuckDB s"), ("typed_ratio", "×DuckDB"),
    ("core_s", "5 core via fiveo-sync SQL s"), ("core_ratio", "5 core ×DuckDB"),
    ("reference_s", "5 core in SQLite JSON s"), ("ratio", "×SQLite"),
    ("canonical_build_s", "canonical build s"),
    ("canonical_build_peak_mem_mb", "build peak MiB"),
    ("no_change_compute_s", "no-change compute s"),
    ("after_100_changed_refresh_s", "100 changed: refresh s"),
    ("after_100_changed_compute_s", "100 changed: compute s"),
    ("us_per_record", "µs/record"), ("note", "agreement")]

PULL_COLUMNS = [("platform", "platform"), ("latency_ms", "latency ms"), ("impl", "client"),
                ("records", "records"), ("seconds", "wall s"), ("requests", "requests"),
                ("bytes", "bytes"), ("requests_per_1k", "req/1k rec"),
                ("peak_rss_mib", "peak RSS MiB"), ("store_s", "store s"),
                ("ideal_s", "ideal s"), ("latency_cost_s", "latency cost s"),
                ("vs_ideal", "×ideal"), ("speedup_vs_handwritten", "speedup")]


def _targets(results: dict[str, Any]) -> list[str]:
    lines = []
    pulls = [r for r in results.get("pull") or [] if r["impl"] == "fiveo-sync"]
    top = max((r["latency_ms"] for r in pulls), default=None)
    for row in pulls:
        if row["latency_ms"] != top or not top:
            continue
        ideal_ok = row["vs_ideal"] is not None and row["vs_ideal"] <= 1.3
        lines.append(f"- {row['platform']} pull at {top} ms within 1.3× the ideal bound: "
                     f"{'met' if ideal_ok else 'NOT met'} ({_fmt(row['vs_ideal'])}×, "
                     f"{_fmt(row['seconds'])} s against {_fmt(row['ideal_s'])} s).")
        speedup = row.get("speedup_vs_handwritten")
        if speedup is not None:
            lines.append(f"- {row['platform']} pull at {top} ms ≥ 5× faster than the "
                         f"hand-written alternative: {'met' if speedup >= 5 else 'NOT met'} "
                         f"({_fmt(speedup)}×).")
    for row in pulls:
        speedup = row.get("speedup_vs_handwritten")
        if row["latency_ms"] == 0 and row["platform"] == "servicenow" and speedup:
            per_record = row["store_s"] / max(1, row["records"]) * 1e6
            lines.append(f"- servicenow pull at 0 ms no slower per record than the pysnow "
                         f"offset loop: {'met' if speedup >= 1 else 'NOT met'} "
                         f"({_fmt(speedup)}×; store {per_record:,.1f} µs per record).")
    inc = results.get("incremental")
    if inc:
        ok_requests = inc["max_requests_per_stream"] <= 2
        ok_time = inc["wall_s"] < 2
        lines.append(f"- no-change run ≤ 2 requests per stream: "
                     f"{'met' if ok_requests else 'NOT met'} "
                     f"(max {inc['max_requests_per_stream']}).")
        lines.append(f"- no-change run under 2 s: {'met' if ok_time else 'NOT met'} "
                     f"({_fmt(inc['wall_s'])} s: pull {_fmt(inc['pull_s'])} s, compute + push "
                     f"+ dashboard {_fmt(inc['rest_s'])} s).")
    changed = (inc or {}).get("after_changed")
    if changed:
        lines.append(f"- run after {changed['records_changed']} changed records under 3 s: "
                     f"{'met' if changed['wall_s'] < 3 else 'NOT met'} "
                     f"({_fmt(changed['wall_s'])} s: pull {_fmt(changed['pull_s'])} s of "
                     f"{_fmt(changed['records_pulled'])} records, the rest "
                     f"{_fmt(changed['rest_s'])} s; at the sandboxes' data size, not 1M).")
    memory = {r["platform"]: r for r in results.get("memory") or []}
    for row in pulls:
        small = memory.get(row["platform"])
        if small and row["latency_ms"] == 0:
            factor = row["records"] / max(1, small["records"])
            lines.append(f"- {row['platform']} pull memory: {_fmt(row['peak_rss_mib'])} MiB "
                         f"peak RSS for {_fmt(row['records'])} records, "
                         f"{_fmt(small['peak_rss_mib'])} MiB for {_fmt(small['records'])} "
                         f"(×{_fmt(factor)} records).")
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    """The whole RESULTS.md text."""
    machine = results["machine"]
    out = ["# fiveo-sync benchmarks", "",
           "Generated by `python -m benchmarks.run` — do not edit the tables by hand.", "",
           f"Machine: {machine['nproc']} CPUs (`nproc`), {machine['cpu']}, "
           f"{machine['memory_gib']} GiB RAM, Python {machine['python']}, "
           f"{machine['platform']}; load at start {machine['load_at_start']}; "
           f"{machine['date']}"
           + (f"; whole run {results['total_s']} s" if results.get("total_s") else "") + ".", "",
           *[f"Re-run later and merged: {', '.join(m['cases'])} on {m['machine']['date']} "
             f"(load {m['machine']['load_at_start']}"
             + (f"; {m['total_s']} s" if m.get("total_s") is not None else "") + ")."
             for m in results.get("merged_runs", [])],
           "",
           f"Data: {results['sizes']} (scale {results['scale']}); concurrency "
           f"{results['concurrency']}.", "", "## Targets", ""]
    out += _targets(results) or ["- (no target cases in this run)"]
    if results.get("pull"):
        out += ["", "## Pull", ""] + _table(results["pull"], PULL_COLUMNS)
    if results.get("memory"):
        out += ["", "## Pull memory at one fifth of the data (fiveo-sync, 0 ms)", ""]
        out += _table(results["memory"], [("platform", "platform"), ("records", "records"),
                                          ("peak_rss_mib", "peak RSS MiB"),
                                          ("seconds", "wall s")])
    inc = results.get("incremental")
    if inc:
        out += ["", "## Incremental no-change run (Runner, 0 ms, full data set)", ""]
        simple = {k: v for k, v in inc.items()
                  if k not in ("requests_per_stream", "after_changed", "failed")}
        out += _table([simple], [(k, k) for k in simple])
        out += ["", "Requests per stream: " + ", ".join(
            f"`{k}` {v}" for k, v in inc["requests_per_stream"].items())]
        if inc.get("failed"):
            out += ["", "Failed in these runs: " + "; ".join(
                f"`{k}`: {v}" for k, v in inc["failed"].items())]
        if inc.get("after_changed"):
            changed = inc["after_changed"]
            out += ["", "## Incremental run after 100 changed records (Runner, 0 ms, same "
                    "sandboxes)", ""]
            out += _table([changed], [(k, k) for k in changed])
    if results.get("compute"):
        rows = results["compute"]
        out += ["", "## Compute (benchmarks/compute_bench.py)", ""]
        known = [c for c in COMPUTE_COLUMNS if c[0] in rows[0]]
        out += _table(rows, known or [(k, k) for k in rows[0]])
    elif results.get("compute_error"):
        out += ["", "## Compute", "", f"The compute case failed: `{results['compute_error']}`"]
    elif "compute" in results:
        out += ["", "## Compute", "", "`benchmarks/compute_bench.py` not present in this run."]
    out += ["", "## Method", "", METHOD]
    return "\n".join(out) + "\n"
