"""The incremental no-change run: what ``fiveo-sync run`` costs when nothing changed.

A first ``Runner.run`` fills the state store from both sandboxes (full data set, 0 ms
latency); a second run follows with nothing changed in between. Requests are counted per
stream (each page reports the requests it took) and the second run's wall time is split
into pull and the rest (compute, push, dashboard).
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


def run_no_change(sn: Any, jira: Any, out_dir: Path) -> dict[str, Any]:
    """Run twice against running sandboxes; measure the second run."""
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.platforms import build_connectors, connector_options
    from fiveo_sync.runner import Runner

    settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out_dir, deployment="cloud"))
    mappings = load_mappings(settings.mappings.dir)
    log = structlog.get_logger("benchmark")

    def counted() -> dict[str, CountingConnector]:
        built = build_connectors(settings, clock=sn.clock, options=connector_options(mappings))
        return {name: CountingConnector(c) for name, c in built.items()}

    first_connectors = counted()
    started = time.perf_counter()
    first = Runner(settings, clock=sn.clock, log=log, connectors=first_connectors).run()
    first_s = time.perf_counter() - started
    for connector in first_connectors.values():
        connector.close()

    sn.advance(120)
    jira.advance(120)
    connectors = counted()
    started = time.perf_counter()
    second = Runner(settings, clock=sn.clock, log=log, connectors=connectors).run()
    total_s = time.perf_counter() - started
    for connector in connectors.values():
        connector.close()
    per_stream = {f"{source}.{stream}": count for source, c in connectors.items()
                  for stream, count in sorted(c.requests.items())}
    pull_s = sum(sum(c.seconds.values()) for c in connectors.values())
    return {
        "first_run_s": round(first_s, 2), "first_run_exit": first.exit_code,
        "records_pulled_first": sum(first.pulled.values()),
        "exit_code": second.exit_code, "wall_s": round(total_s, 2),
        "pull_s": round(pull_s, 2), "rest_s": round(total_s - pull_s, 2),
        "requests_total": sum(second.requests.values()),
        "pull_requests": sum(per_stream.values()),
        "max_requests_per_stream": max(per_stream.values(), default=0),
        "requests_per_stream": per_stream,
        "records_pulled": sum(second.pulled.values()),
    }
