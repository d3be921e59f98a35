"""Progress on a terminal: a live view of a run on stderr, then a short summary.

The display shows each stream as it is pulled (records and pages), then computing, then
pushing per target, and disappears when the run ends; :func:`print_summary` leaves a few
lines behind. It follows the run through the log's events (:func:`fiveo_sync.logs.listen`:
``stream_pulled``, ``indicators_computed``, ``plan_built``, ``plan_executed`` …) plus the
per-page :meth:`Progress.update` calls of the pull, so the runner needs no display code.

It is drawn only when stderr is a terminal that no log line is written to (cron,
Kubernetes and ``--log-format json`` get the JSON log instead). Colour follows ``NO_COLOR``
(rich honours it). Warnings shown meanwhile as notice lines (:mod:`fiveo_sync.logs`) go
above the display, through rich's redirection of stderr.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from fiveo_sync import logs

_PHASES = {"pull": "pulling", "compute": "computing indicators", "push": "pushing",
           "done": "finishing"}


@dataclass
class _Stream:
    records: int = 0
    pages: int = 0
    done: bool = False
    failed: bool = False


class Progress:
    """The live display of one or more runs (a no-op when disabled).

    Use it as a context manager around the run (``with progress: runner.run(...)``); used
    without one (``fiveo-sync pull``), it starts on the first page and ends when the last
    source is done.

    Args:
        stream: the terminal (stderr by default).
        enabled: force on or off; by default on when ``stream`` is a terminal and the log
            is not written to it.
        sources: how many sources the run pulls (so that computing shows when the last
            one is done); unknown when 0.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 sources: int = 0) -> None:
        self._stream = stream or sys.stderr
        if enabled is None:
            enabled = (bool(getattr(self._stream, "isatty", lambda: False)())
                       and not logs.active().on_terminal)
        self.enabled = enabled
        self._sources = sources
        self._live: Any = None
        self._spinner: Any = None
        self._final = False
        self._listening: Any = None
        self._entered = False
        self.warnings: list[str] = []
        self._reset()

    # -- what the pull calls -------------------------------------------------------------

    def update(self, label: str, records: int) -> None:
        """One more page of ``label`` (``source stream``) was stored: ``records`` so far."""
        if not self.enabled:
            return
        self._start()
        entry = self._streams.setdefault(label, _Stream())
        entry.records, entry.pages = records, entry.pages + 1
        self._phase, self._current = "pull", label

    def done(self) -> None:
        """A source finished pulling."""
        if not self.enabled:
            return
        self._sources_done += 1
        if self._sources and self._sources_done >= self._sources:
            self._phase = "compute"
        if not self._entered and (not self._sources or self._sources_done >= self._sources):
            self._stop()

    # -- lifetime ------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        self._entered = True
        self._reset()
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        self._entered = False

    def _reset(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._targets: dict[str, str] = {}
        self._phase, self._current = "pull", ""
        self._sources_done = 0
        self._started = time.monotonic()

    def _start(self) -> None:
        if not self.enabled or self._live is not None:
            return
        from rich.live import Live

        if not self._entered:
            # ``fiveo-sync pull``: one table per source, left on the terminal as its summary.
            self._reset()
        self._final = False
        self._live = Live(console=self.console, get_renderable=self._render,
                          transient=self._entered,
                          refresh_per_second=8, redirect_stdout=False, redirect_stderr=True)
        self._listening = logs.listen(self._on_event)
        self._listening.__enter__()
        self._live.start()

    def _stop(self) -> None:
        if self._live is None:
            return
        if not self._entered:
            self._final = True  # the last frame stays: streams and counts, no spinner
            self._live.refresh()
        self._live.stop()
        self._live = None
        self._listening.__exit__(None, None, None)
        self._listening = None

    @property
    def console(self) -> Any:
        """The rich console drawing on the terminal (created on first use)."""
        if getattr(self, "_console", None) is None:
            from rich.console import Console

            self._console = Console(file=self._stream, highlight=False)
        return self._console

    # -- what the log tells ----------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if event.get("level") in ("warning", "error", "critical"):
            self.warnings.append(str(name))
        if name == "stream_pulled" and "source" in event:
            label = f"{event['source']} {event.get('stream')}"
            entry = self._streams.setdefault(label, _Stream())
            entry.records = int(event.get("records") or 0)
            entry.pages = int(event.get("pages") or entry.pages)
            entry.done = True
            if label == self._current:
                self._current = ""
        elif name == "source_failed":
            for label, entry in self._streams.items():
                if label.startswith(f"{event.get('source')} ") and not entry.done:
                    entry.failed = True
        elif name in ("indicators_computed", "compute_skipped"):
            self._phase = "push"
        elif name in ("current_records_fetched", "current_scorecards_fetched", "plan_built"):
            self._phase = "push"
            target = str(event.get("platform") or event.get("target") or "")
            self._targets.setdefault(target, "reading what is there")
            if name == "plan_built":
                self._targets[target] = "writing"
        elif name == "plan_executed":
            target = str(event.get("platform") or "")
            self._targets[target] = _counts_text(event)
        elif name == "dashboard_written":
            self._phase = "done"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> Any:
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.table import Table

        tick = "✓" if self.console.encoding.lower().startswith("utf") else "*"
        table = Table.grid(padding=(0, 2))
        for label, entry in list(self._streams.items()):
            mark = "x" if entry.failed else tick if entry.done else "…"
            pages = f"{entry.pages} page" + ("" if entry.pages == 1 else "s")
            table.add_row(mark, label, f"{entry.records:>9,} records", pages)
        for target, state in list(self._targets.items()):
            table.add_row(tick if state[:1].isdigit() else "…", f"push {target}", state, "")
        phase = _PHASES[self._phase]
        if self._phase == "pull" and self._current:
            phase = f"pulling {self._current}"
        elapsed = time.monotonic() - self._started
        if self._spinner is None:  # one spinner, so that it turns from frame to frame
            self._spinner = Spinner("dots")
        self._spinner.update(text=f"{phase} ({elapsed:.0f} s)")
        return table if self._final else Group(table, self._spinner)


def _counts_text(event: dict[str, Any]) -> str:
    parts = [f"{int(event.get(k) or 0)} {k}" for k in ("created", "updated", "unchanged",
                                                        "marked", "failed")
             if k in event]
    return ", ".join(parts)


def print_summary(progress: Progress, report: Any, *, dashboard: Path | None = None,
                  log_file: Path | None = None) -> None:
    """A few lines on the terminal after a run: outcome, pulled, computed, written, where.

    Args:
        progress: the display of the run (its console and the warnings it saw).
        report: the run's :class:`~fiveo_sync.report_model.RunReport`.
        dashboard: the dashboard folder, when one was written.
        log_file: the log file, when the log went to one.
    """
    if not progress.enabled:
        return
    from rich.text import Text

    console = progress.console

    def say(text: Any, *, markup: bool = False) -> None:
        console.print(text, markup=markup, soft_wrap=True)  # paths stay whole for copying

    summary = report.summary()
    style = {"ok": "green", "partial": "yellow"}.get(summary["status"], "red")
    title = "dry run" if summary["dry_run"] else "run"
    say(f"[bold {style}]fiveo-sync {title} {summary['status']}[/] in "
        f"{summary['duration_s']:.1f} s (run {summary['run_id']}, exit "
        f"{summary['exit_code']})", markup=True)
    pulled = summary["pulled"]
    computed = ("nothing changed, results kept" if summary["compute_skipped"]
                else f"{summary['indicators']:,} indicator results")
    say(f"  pulled    {sum(pulled.values()):,} records from {len(pulled)} streams; "
        f"computed {computed}")
    for target, counts in summary["writes_by_target"].items():
        text = ", ".join(f"{n} {action}" for action, n in counts.items() if n) or "nothing"
        say(f"  {target:<9} {text}")
    for name, error in {**summary["failed_sources"], **summary["failed_targets"]}.items():
        say(Text.assemble((f"  ! {name} failed: ", "red"), str(error)))
    if dashboard is not None and summary["outputs"]:
        say(f"  dashboard {Path(dashboard).resolve() / 'index.html'}")
    if progress.warnings:
        unique = ", ".join(sorted(set(progress.warnings)))
        say(f"  [yellow]warnings and errors above ({len(progress.warnings)})[/]: {unique}",
            markup=True)
    if log_file is not None:
        say(f"  log       {Path(log_file).resolve()}")
