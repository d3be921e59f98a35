"""The typed outcome of one ``run``: what the summary line, metrics and exit code come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fiveo_sync.errors import EXIT_OK, EXIT_PARTIAL

WRITE_ACTIONS = ("created", "updated", "unchanged", "marked", "failed")


@dataclass
class RunReport:
    """Everything a finished run reports.

    Attributes:
        run_id: unique id of the run (also written to every result and record).
        started_at, finished_at: aware UTC.
        pulled: records pulled per ``source.stream``.
        deleted: records deleted per ``source.stream``.
        indicators: indicator results computed.
        compute_skipped: nothing changed since the last computation, so it was not redone.
        skipped: records skipped by normalisation, per kind and reason.
        writes: per platform target (``servicenow``, ``jira``), counts per write action.
        outputs: local files written (dashboard pages and ``results.json``).
        retries: HTTP retries per source; requests: HTTP requests per source.
        failed_sources: sources whose pull failed, with the message.
        failed_targets: targets whose push failed, with the message.
        exit_code: what the CLI exits with.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    pulled: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    indicators: int = 0
    compute_skipped: bool = False
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    outputs: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    failed_targets: dict[str, str] = field(default_factory=dict)
    exit_code: int = EXIT_OK
    dry_run: bool = False

    @property
    def duration_s(self) -> float:
        """Wall time of the run in seconds (0 while running)."""
        if self.finished_at is None:
            return 0.0
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    @property
    def status(self) -> str:
        """``ok``, ``partial`` (some target or source failed) or ``failed``."""
        if self.exit_code == EXIT_OK:
            return "ok"
        return "partial" if self.exit_code == EXIT_PARTIAL else "failed"

    def write_totals(self) -> dict[str, int]:
        """Write counts per action, summed over targets."""
        totals = dict.fromkeys(WRITE_ACTIONS, 0)
        for counts in self.writes.values():
            for action, n in counts.items():
                totals[action] = totals.get(action, 0) + n
        return totals

    def summary(self) -> dict[str, Any]:
        """The fields of the one ``run_finished`` log line (and of the metrics)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "pulled": dict(sorted(self.pulled.items())),
            "deleted": dict(sorted(self.deleted.items())),
            "records_skipped": sum(sum(r.values()) for r in self.skipped.values()),
            "indicators": self.indicators,
            "compute_skipped": self.compute_skipped,
            "writes": self.write_totals(),
            "writes_by_target": {t: dict(c) for t, c in sorted(self.writes.items())},
            "outputs": self.outputs,
            "requests": dict(sorted(self.requests.items())),
            "retries": dict(sorted(self.retries.items())),
            "failed_sources": dict(sorted(self.failed_sources.items())),
            "failed_targets": dict(sorted(self.failed_targets.items())),
            "dry_run": self.dry_run,
            "duration_s": self.duration_s,
            "exit_code": self.exit_code,
        }
