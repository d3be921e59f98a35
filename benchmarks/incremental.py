"""The incremental runs: what ``fiveo-sync run`` costs when nothing or little changed.

A first ``Runner.run`` fills the state store from both sandboxes (full data set, 0 ms
latency); a second run follows with nothing changed in between, then a third after 100
records changed in the sandboxes (50 incidents re-prioritised, 50 Jira issues renamed and
labelled, as users would). Requests are counted per stream (each page reports the
requests it took) and each measured run's wall time is split into pull and the rest
(canonical refresh, compute, push, dashboard).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

from connectors.base import Page
from fiveo_sync.demo import DemoOptions, build_demo_settings


class CountingConnector:
    """A connector that counts requests and wall time per stream, delegating the rest."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.source = inner.source
        self.requests: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def iter_pages(self, stream: str, bookmark: Any, *, full: bool = False) -> Iterator[Page]:
        """The inner pages, counted."""
        started = time.perf_counter()
        before = self._inner.stats.requests
        # Counted on the client, not from pages: a stream with nothing new may yield none.
        yield from self._inner.iter_pages(stream, bookmark, full=full)
        self.requests[stream] += self._inner.stats.requests - before
        self.seconds[stream] += time.perf_counter() - started


CHANGED_INCIDENTS = CHANGED_ISSUES = 50


def change_records(sn: Any, jira: Any, projects: Any) -> int:
    """Change 100 records in the sandboxes (the first incidents and synced issues by key)."""
    incidents = sorted(row["sys_id"] for row in sn.table("incident"))[:CHANGED_INCIDENTS]
    for number, sys_id in enumerate(incidents):
        sn.update("incident", sys_id, priority=str(1 + number % 4),
                  short_description=f"Re-prioritised by the benchmark ({number})")
    synced = [issue.key for issue in jira.data.issues.values()
              if issue.key.split("-")[0] in set(projects)]
    keys = sorted(synced)[:CHANGED_ISSUES]
    for number, key in enumerate(keys):
        jira.update_issue(key, summary=f"Renamed by the benchmark ({number})",
                          labels_add=("benchmark",))
    return len(incidents) + len(keys)


def _failures(*reports: Any) -> dict[str, str]:
    """What made a run partial (exit 3), so a table's exit code can be read."""
    return {name: str(error)[:200] for report in reports
            for name, error in {**report.failed_sources, **report.failed_targets}.items()}


def run_no_change(sn: Any, jira: Any, out_dir: Path) -> dict[str, Any]:
    """Run three times against running sandboxes; measure the second and the third run."""
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.platforms import build_connectors, connector_options
    from fiveo_sync.runner import Runner

    settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out_dir, deployment="cloud"))
    mappings = load_mappings(settings.mappings.dir)
    log = structlog.get_logger("benchmark")

    def counted() -> dict[str, CountingConnector]:
        built = build_connectors(settings, clock=sn.clock, options=connector_options(mappings))
        return {name: CountingConnector(c) for name, c in built.items()}

    def timed_run(advance_s: float) -> tuple[Any, float, dict[str, CountingConnector]]:
        sn.advance(advance_s)
        jira.advance(advance_s)
        connectors = counted()
        started = time.perf_counter()
        report = Runner(settings, clock=sn.clock, log=log, connectors=connectors).run()
        seconds = time.perf_counter() - started
        for connector in connectors.values():
            connector.close()
        return report, seconds, connectors

    def pull_seconds(connectors: dict[str, CountingConnector]) -> float:
        return sum(sum(c.seconds.values()) for c in connectors.values())

    first, first_s, _ = timed_run(0)
    second, total_s, connectors = timed_run(120)
    per_stream = {f"{source}.{stream}": count for source, c in connectors.items()
                  for stream, count in sorted(c.requests.items())}
    pull_s = pull_seconds(connectors)
    changed = change_records(sn, jira, connectors["jira"].projects)
    third, third_s, third_connectors = timed_run(120)
    third_pull_s = pull_seconds(third_connectors)
    return {
        "first_run_s": round(first_s, 2), "first_run_exit": first.exit_code,
        "failed": _failures(first, second, third),
        "records_pulled_first": sum(first.pulled.values()),
        "exit_code": second.exit_code, "wall_s": round(total_s, 2),
        "pull_s": round(pull_s, 2), "rest_s": round(total_s - pull_s, 2),
        "requests_total": sum(second.requests.values()),
        "pull_requests": sum(per_stream.values()),
        "max_requests_per_stream": max(per_stream.values(), default=0),
        "requests_per_stream": per_stream,
        "records_pulled": sum(second.pulled.values()),
        "after_changed": {
            "records_changed": changed, "exit_code": third.exit_code,
            "records_pulled": sum(third.pulled.values()), "wall_s": round(third_s, 2),
            "pulled": {k: v for k, v in third.pulled.items() if v},
            "pull_s": round(third_pull_s, 2), "rest_s": round(third_s - third_pull_s, 2),
            "requests_total": sum(third.requests.values()),
        },
    }
