"""The scheduled job: lock → pull → compute → push → one summary line.

Mapping files are validated before anything touches the network (a broken file is exit 78
with every problem listed). A source that fails to pull does not stop the run: what the
store holds is still computed and pushed, and the run ends partial (exit 3) naming it; only
when every source fails does the run stop with that source's error (69 unreachable, 77
credentials). Likewise a failing push target does not stop the others.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector
from fiveo_sync import __version__
from fiveo_sync.errors import EXIT_OK, EXIT_PARTIAL, FiveoSyncError
from fiveo_sync.progress import Progress
from fiveo_sync.pull import pull_all
from fiveo_sync.report_model import RunReport
from fiveo_sync.settings import Settings
from fiveo_sync.state import RunLock, StateStore


@dataclass
class RunOptions:
    """How one run behaves (from the command line)."""

    dry_run: bool = False
    full: bool = False
    sources: tuple[str, ...] = ()
    shard: tuple[int, int] | None = None
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))


class Runner:
    """Runs the whole job against the configured platforms.

    Args:
        settings: loaded settings.
        clock: aware-UTC now (injected; the demo and tests pass their own).
        log: a structlog logger.
        connectors: prebuilt connectors by source (tests inject doubles); built from the
            settings when None.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime], log: Any,
                 connectors: Mapping[str, Connector] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.log = log
        self._connectors = connectors
        self._full_portfolio: Any = None

    def run(self, options: RunOptions | None = None) -> RunReport:
        """Do one run and return its report (the caller maps ``exit_code``)."""
        options = options or RunOptions()
        mappings = self._load_mappings(options)
        state_path = self._state_path(options)
        if not self.settings.http.verify:
            self.log.warning("tls_verification_disabled",
                             hint="http.verify is false: certificates are not checked")
        report = RunReport(run_id=uuid.uuid4().hex[:12], started_at=self.clock(),
                           dry_run=options.dry_run)
        with RunLock(state_path), StateStore(state_path) as store:
            store.start_run(report.run_id, _iso(report.started_at))
            try:
                self._run_steps(store, mappings, options, report)
            finally:
                report.finished_at = self.clock()
                store.finish_run(report.run_id, _iso(report.finished_at), report.status,
                                 report.summary(), report.exit_code)
                self.log.info("run_finished", **report.summary())
                self._publish(report, options)
        return report

    # -- steps -------------------------------------------------------------------------

    def _run_steps(self, store: StateStore, mappings: Any, options: RunOptions,
                   report: RunReport) -> None:
        connectors = self._build_connectors(mappings, options)
        try:
            self._pull(store, connectors, options, report)
            results = self._compute(store, mappings, options, report)
            self._push(store, mappings, results, connectors, options, report)
        except FiveoSyncError as exc:
            report.exit_code = exc.exit_code
            raise
        finally:
            for source, connector in connectors.items():
                stats = getattr(connector, "stats", None)
                if stats is not None:
                    snapshot = stats.snapshot()
                    report.requests[source] = snapshot["requests"]
                    report.retries[source] = snapshot["retries"]
                if self._connectors is None:
                    connector.close()
        failed = report.failed_sources or report.failed_targets
        report.exit_code = EXIT_PARTIAL if failed else EXIT_OK

    def _pull(self, store: StateStore, connectors: Mapping[str, Connector],
              options: RunOptions, report: RunReport) -> None:
        pulled = pull_all(store, connectors, log=self.log, full=options.full,
                          progress=options.progress)
        for summary in pulled.streams:
            name = f"{summary.source}.{summary.stream}"
            report.pulled[name] = summary.records
            report.deleted[name] = summary.deleted
        report.failed_sources = {s: str(e) for s, e in pulled.failures.items()}
        if connectors and len(pulled.failures) == len(connectors):
            # Nothing could be read: stop with the platform's own error (69, 77, …).
            raise next(iter(pulled.failures.values()))

    def _compute(self, store: StateStore, mappings: Any, options: RunOptions,
                 report: RunReport) -> list[Any]:
        from fiveo_sync.compute import compute_from_store

        now = self.clock()
        fingerprint = compute_fingerprint(mappings, now)
        unchanged = (not options.full and not any(report.pulled.values())
                     and not any(report.deleted.values())
                     and store.get_meta(_FINGERPRINT) == fingerprint)
        if unchanged:
            # Same records, same mappings, same quarter hour: the stored results are what a
            # computation would give. Push still reconciles the platforms with them.
            report.compute_skipped = True
            self.log.info("compute_skipped", reason="no record or mapping changed")
            return []
        computed = compute_from_store(store, mappings, now, report.run_id,
                                      self.settings.state.analytics_memory_mb)
        store.set_meta(_FINGERPRINT, fingerprint)
        report.indicators = len(computed.results)
        report.skipped = {k: dict(v) for k, v in computed.skipped.items()}
        self.log.info("indicators_computed", results=len(computed.results),
                      records_skipped=sum(sum(v.values()) for v in computed.skipped.values()))
        return list(computed.results)

    def _push(self, store: StateStore, mappings: Any, results: list[Any],
              connectors: Mapping[str, Connector], options: RunOptions,
              report: RunReport) -> None:
        from fiveo_sync.commands.push import push_all

        pushed = push_all(self.settings, store, results, dry_run=options.dry_run,
                          clock=self.clock, connectors=connectors, mappings=mappings,
                          log=self.log, run_id=report.run_id,
                          owns_scope=self._shard_owner(options))
        for write_report in pushed.reports:
            counts = {action: write_report.count(action)
                      for action in ("created", "updated", "unchanged", "marked", "failed")}
            report.writes[write_report.target] = counts
        report.failed_targets.update(pushed.failed_targets)
        dashboard = self.settings.report.dir
        if dashboard is not None and not options.dry_run and not (
                report.compute_skipped and (dashboard / "index.html").exists()):
            self._write_dashboard(store, mappings, report)

    def _write_dashboard(self, store: StateStore, mappings: Any, report: RunReport) -> None:
        from fiveo_sync.outputs import write_outputs

        try:
            written = write_outputs(store, mappings, self.settings.report.dir,
                                    generated_at=self.clock(), settings=self.settings)
        except OSError as exc:
            report.failed_targets["html"] = f"cannot write the dashboard: {exc.strerror}"
            self.log.error("dashboard_failed", error=str(exc))
            return
        report.outputs = len(written)
        self.log.info("dashboard_written", files=len(written), dir=str(self.settings.report.dir))

    # -- helpers -----------------------------------------------------------------------

    def _load_mappings(self, options: RunOptions) -> Any:
        from fiveo_sync.engine.loader import load_mappings

        mappings = load_mappings(self.settings.mappings.dir)
        self._full_portfolio = mappings.portfolio
        if options.shard is not None:
            from fiveo_sync.shard import shard_portfolio

            portfolio = shard_portfolio(mappings.portfolio, *options.shard)
            mappings = replace(mappings, portfolio=portfolio)
        return mappings

    def _shard_owner(self, options: RunOptions) -> Callable[[str, str], bool] | None:
        """For a sharded run: which platform records this shard may update or retire."""
        if options.shard is None:
            return None
        from fiveo_sync.shard import build_scope_owner

        index, count = options.shard
        owner = build_scope_owner(self._full_portfolio, count)
        return lambda scope_type, scope: owner(scope_type, scope) == index

    def _state_path(self, options: RunOptions) -> Path:
        if options.shard is None:
            return self.settings.state.path
        from fiveo_sync.shard import shard_state_path

        return shard_state_path(self.settings.state.path, *options.shard)

    def _build_connectors(self, mappings: Any, options: RunOptions) -> Mapping[str, Connector]:
        if self._connectors is not None:
            return self._connectors
        from fiveo_sync.platforms import build_connectors, connector_options

        return build_connectors(self.settings, clock=self.clock, only=options.sources or None,
                                options=connector_options(mappings))

    def _publish(self, report: RunReport, options: RunOptions) -> None:
        metrics = self.settings.metrics
        if metrics.textfile is None and metrics.pushgateway_url is None:
            return
        from fiveo_sync.metrics import publish_metrics

        publish_metrics(report, metrics, self.log, shard=options.shard)


_FINGERPRINT = "compute_fingerprint"


def compute_fingerprint(mappings: Any, now: datetime) -> str:
    """What a computation's results depend on besides the stored records.

    The mapping specs (comments do not count) and ``now`` to the quarter hour: periods
    and snapshot ages move with the clock (quarter hours cover every reporting time zone's
    day boundary), so a later run in another quarter hour always recomputes.
    """
    moment = now.astimezone(UTC)
    moment = moment.replace(minute=moment.minute - moment.minute % 15, second=0,
                            microsecond=0)
    parts = [__version__, moment.isoformat(), mappings.portfolio.model_dump_json(),
             mappings.sources.model_dump_json(),
             *(spec.model_dump_json() for spec in mappings.indicator_files)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
