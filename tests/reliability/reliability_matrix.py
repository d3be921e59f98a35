"""The fault matrix: its cells and how one cell runs (its table: ``support/fault_matrix.py``).

A cell is one run of the whole job over both sandboxes with one kind of fault injected on
one platform. What a cell produced (logs, plan, dashboard, store) is kept under the
session's artifact folder for the secrets scan.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fiveo_sync import logs
from fiveo_sync.report_model import RunReport
from fiveo_sync.runner import Runner, RunOptions
from fiveo_sync.state import StateStore

from .reliability_world import Platforms, end_state

FAULT_RATE = 0.2
KINDS = ("429", "500", "503", "slow", "drop", "truncate")
PLATFORMS = ("servicenow", "jira")
STORM = 4  # consecutive 429s
STORM_RETRY_AFTER_S = 1


@dataclass(frozen=True)
class Cell:
    """One cell: a fault ``kind`` on ``platform`` (``oauth``: ServiceNow in OAuth mode)."""

    kind: str
    platform: str

    @property
    def name(self) -> str:
        """E.g. ``500@servicenow``."""
        return f"{self.kind}@{self.platform}"

    @property
    def oauth(self) -> bool:
        """Whether ServiceNow authenticates with OAuth in this cell."""
        return self.kind == "oauth_expiry"


CELLS = ([Cell(kind, platform) for kind in KINDS for platform in PLATFORMS]
         + [Cell("oauth_expiry", "servicenow")]
         + [Cell("429_storm", platform) for platform in PLATFORMS])


# Every secret the matrix's platforms accepted or issued, by name (for the secrets scan).
SECRETS: dict[str, str] = {}


class Injector:
    """Turns a cell into sandbox knobs, and counts what it injected."""

    def __init__(self, cell: Cell, platforms: Platforms) -> None:
        self.cell = cell
        self.platforms = platforms
        self.expired = 0

    def arm(self) -> None:
        """Set the faults of the cell on its platform."""
        sn, jira, kind = self.platforms.sn, self.platforms.jira, self.cell.kind
        # ServiceNow's slow answers would otherwise take 2 s; 0.17 s is still past the
        # client's 0.15 s timeout (Jira's own slow answers take 0.2 s). The instance works
        # on a slow request after the wait, so a POST that timed out lands then: the
        # writer's lookup one timeout later (0.3 s) must find it, never send it again.
        sn.faults.slow_s = 0.17
        if kind in KINDS:
            (sn if self.cell.platform == "servicenow" else jira).set_faults(FAULT_RATE, [kind])
        elif kind == "429_storm":
            target = sn if self.cell.platform == "servicenow" else jira
            retry_after = (STORM_RETRY_AFTER_S if self.cell.platform == "servicenow"
                           else str(STORM_RETRY_AFTER_S))
            target.fail_next(429, times=STORM, retry_after=retry_after)
        elif kind == "oauth_expiry":
            # Every fifth list page expires all access tokens: the next request is a 401
            # the client must recover from by getting a new token (20 % of list pages).
            def expire(_table: str, _req: Any) -> None:
                self.expired += 1
                if self.expired % 5 == 0:
                    sn.auth.expire_all()

            sn.on_list(expire)

    def disarm(self) -> None:
        """No more faults (the end state is read through the same sandboxes)."""
        self.platforms.sn.set_faults(0.0)
        self.platforms.jira.set_faults(0.0)
        self.platforms.sn.on_list(None)

    def injected(self) -> str:
        """What was injected, for the matrix."""
        if self.cell.kind == "oauth_expiry":
            return f"{self.expired // 5} expiries"
        if self.cell.kind == "429_storm":
            return f"{STORM}x429 Retry-After {STORM_RETRY_AFTER_S}s"
        if self.cell.platform == "servicenow":
            return f"{self.platforms.sn.faults.injected.get(self.cell.kind, 0)} faults"
        return f"random {FAULT_RATE:.0%}"


@dataclass
class CellRun:
    """What one cell produced."""

    report: RunReport
    state: dict[str, Any]
    injector: Injector


def run_cell(cell: Cell, platforms: Platforms, artifacts: Path,
             before: Callable[[Platforms], None] | None = None) -> CellRun:
    """Run the job once under the cell's faults; keep what it produced under ``artifacts``.

    Logs go to a buffer in JSON for some cells and console format for the others (both
    renderers are then scanned). The ``oauth_expiry`` cell also runs a dry run first and
    saves the write plan it would print (JSON and table).
    """
    folder = artifacts / cell.name
    folder.mkdir(parents=True, exist_ok=True)
    fmt = "console" if cell.oauth or CELLS.index(cell) % 2 else "json"
    buffer = io.StringIO()
    logs.configure(fmt, verbosity=2, stream=buffer)
    log = logs.get_logger("fiveo_sync.reliability")
    injector = Injector(cell, platforms)
    injector.arm()
    try:
        runner = Runner(platforms.settings, clock=platforms.clock, log=log)
        if cell.oauth:
            dry = runner.run(RunOptions(dry_run=True))
            (folder / "dry_run_summary.json").write_text(repr(dry.summary()))
            _save_plan(platforms, folder, log)
        if before is not None:
            before(platforms)
        report = runner.run()
    finally:
        injector.disarm()
        (folder / f"log.{fmt}").write_text(buffer.getvalue())
        logs.configure("json", stream=io.StringIO())
    SECRETS.update(platforms.secrets)
    state = end_state(platforms)
    _save_outputs(platforms, folder, state)
    return CellRun(report, state, injector)


def _save_plan(platforms: Platforms, folder: Path, log: Any) -> None:
    from fiveo_sync.commands.push import push_all
    from fiveo_sync.writers.plan import render_table

    with StateStore(platforms.settings.state.path) as store:
        pushed = push_all(platforms.settings, store, None, dry_run=True,
                          clock=platforms.clock, log=log)
    (folder / "plan.json").write_text(pushed.plan.to_json())
    (folder / "plan.txt").write_text(render_table(pushed.plan))


def _save_outputs(platforms: Platforms, folder: Path, state: dict[str, Any]) -> None:
    """The dashboard, results.json, the state store's bytes and what was written back."""
    out = platforms.settings.report.dir
    if out is not None and out.exists():
        for path in out.rglob("*"):
            if path.is_file() and path.suffix in (".html", ".json", ".txt", ".prom"):
                target = folder / "outputs" / path.relative_to(out)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    state_path = Path(platforms.settings.state.path)
    for suffix in ("", "-wal"):
        source = Path(f"{state_path}{suffix}")
        if source.exists():
            shutil.copyfile(source, folder / f"state.sqlite{suffix}")
    import json

    rows = platforms.sn.table("u_fiveo_indicator")
    (folder / "servicenow_records.json").write_text(json.dumps(rows))
    (folder / "jira_properties.json").write_text(json.dumps(
        {f"{k[0]}:{k[1]}": v for k, v in platforms.jira.properties.items()}))
    (folder / "jira_written.json").write_text(json.dumps(state["jira"]))
