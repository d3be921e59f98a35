"""The commands of ``fiveo-sync``, one module each, and what they share.

Every command module defines ``configure(parser)`` (its arguments) and
``execute(args, ctx) -> int``; :mod:`fiveo_sync.cli` dispatches to them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from fiveo_sync.settings import Settings, load_settings

COMMANDS: dict[str, str] = {
    "demo": "start both sandboxes, run a full and an incremental sync, show the owner views",
    "sandbox": "run a ServiceNow or Jira sandbox (a local emulator) in the foreground",
    "validate": "check settings and every mapping file, without any network call",
    "pull": "pull changed records from ServiceNow and Jira into the state store",
    "compute": "evaluate the indicators from the state store and record the results",
    "push": "write the results back to ServiceNow and Jira (--dry-run prints the plan)",
    "run": "the scheduled job: pull, compute and push under the run lock",
    "report": "show owner views from the state store as a table, JSON or HTML",
    "doctor": "check reachability, credentials, permissions and platform settings",
    "sql": "run one read-only SQL query over the canonical tables (DuckDB)",
    "export": "write every canonical table to DIR as Parquet or CSV files",
}


def utc_now() -> datetime:
    """The wall clock, aware UTC (the one place commands read the time)."""
    return datetime.now(UTC)


@dataclass
class Context:
    """What every command receives besides its parsed arguments."""

    config_path: str | None = None
    log_format: str = "json"
    verbosity: int = 0
    log: Any = None
    out: TextIO = field(default_factory=lambda: sys.stdout)
    clock: Callable[[], datetime] = utc_now
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The settings, loaded on first use (raises MappingError with located problems)."""
        if self._settings is None:
            self._settings = load_settings(self.config_path, **self.overrides)
        return self._settings

    @property
    def mappings_dir(self) -> Path:
        """The mapping folder from the settings (default ``./mappings``)."""
        return self.settings.mappings.dir
