"""``fiveo-sync demo``: a newcomer's first minute, with no configuration and no network.

Both sandboxes start on loopback from the same seed (one organisation), a full run and an
incremental run go against them exactly as the scheduled job would, and the owner views,
the dashboard and where the written-back records can be seen are printed.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from connectors.jira.settings import JiraSettings
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.improvement import OPEN_ITEMS_KEY
from fiveo_sync.paths import shipped_dir
from fiveo_sync.progress import Progress
from fiveo_sync.report_model import RunReport
from fiveo_sync.runner import Runner, RunOptions
from fiveo_sync.settings import (
    HttpSettings,
    MappingsSettings,
    ReportSettings,
    Settings,
    StateSettings,
    SyncSettings,
    WritebackSettings,
)
from fiveo_sync.state import StateStore
from fiveo_sync.yamlfile import load_yaml


@dataclass(frozen=True)
class DemoOptions:
    """What the demo runs with (all have defaults: the demo needs no configuration)."""

    out_dir: Path = Path("fiveo-demo")
    seed: int = 7
    scale: str = "small"
    deployment: str = "cloud"
    write_mode: str = "table"
    keep_running: bool = False
    log_file: Path | None = None


def build_demo_settings(sn: Any, jira: Any, options: DemoOptions) -> Settings:
    """Settings pointing at the two running sandboxes, state and report under ``out_dir``.

    Sandboxes serving HTTPS must share one CA: its bundle becomes ``http.ca_bundle`` with
    ``http.verify`` on, as a production run against a private CA is configured. A Data
    Center demo runs with :func:`write_datacenter_mappings` (owners by user name).
    """
    base = load_yaml(shipped_dir("config") / "demo.yaml").data or {}
    bundles = {b for b in (sn.ca_bundle, jira.ca_bundle) if b is not None}
    if len(bundles) > 1:
        raise ValueError("the demo sandboxes must share one CA (one http.ca_bundle)")
    tls = {"verify": True, "ca_bundle": Path(bundles.pop())} if bundles else {}
    user, password = sn.credentials["integration"]
    if options.deployment == "cloud":
        jira_auth = {"email": jira.credentials["email"],
                     "api_token": jira.credentials["api_token"]}
    else:
        jira_auth = {"pat": jira.credentials["pat"]}
    return Settings(
        servicenow=ServiceNowSettings(instance_url=sn.url, auth="basic", username=user,
                                      password=password,
                                      write={"mode": options.write_mode}),
        jira=JiraSettings(url=jira.url, deployment=options.deployment, **jira_auth),
        http=HttpSettings(**{**base.get("http", {}), **tls}),
        sync=SyncSettings(**base.get("sync", {})),
        state=StateSettings(path=options.out_dir / "state.sqlite"),
        mappings=MappingsSettings(dir=shipped_dir("mappings") if options.deployment == "cloud"
                                  else write_datacenter_mappings(jira, options.out_dir)),
        report=ReportSettings(dir=options.out_dir),
        writeback=WritebackSettings(**base.get("writeback", {})),
    )


# An owner line of the portfolio: ``owner: "6dc5..."``, ``fallback_owner: x`` (with indent).
_OWNER_LINE = re.compile(r'^(\s*(?:owner|fallback_owner):\s*)"?([^"\s#]+)"?', re.MULTILINE)


def write_datacenter_mappings(jira: Any, out_dir: Path) -> Path:
    """The shipped mappings with the product owners named as Jira Data Center knows them.

    The shipped portfolio names product owners by Jira Cloud ``accountId``; Data Center has
    no accountId (users are known by user name), so owners would show as bare ids there. The
    copy under ``<out_dir>/mappings-datacenter`` names the same people by user name.

    Args:
        jira: the running Jira sandbox (its world has each person's accountId and name).
        out_dir: the demo's output folder.

    Returns:
        The folder of the copied mappings.
    """
    folder = out_dir / "mappings-datacenter"
    shutil.copytree(shipped_dir("mappings"), folder, dirs_exist_ok=True)
    user_names = {p.jira_account_id: p.user_name for p in jira.world.people}
    portfolio = folder / "portfolio.yaml"
    text = _OWNER_LINE.sub(
        lambda m: m.group(1) + user_names[m.group(2)] if m.group(2) in user_names
        else m.group(0), portfolio.read_text(encoding="utf-8"))
    note = "# Copied by fiveo-sync demo for Jira Data Center: product owners by user name.\n"
    portfolio.write_text(note + text, encoding="utf-8")
    return folder


def run_demo(options: DemoOptions, *, clock: Callable[[], datetime], log: Any,
             out: TextIO, err: TextIO) -> int:
    """Start the sandboxes, run twice, show the views; return the exit code."""
    from connectors.jira.sandbox import JiraSandbox
    from connectors.servicenow.sandbox import ServiceNowSandbox
    from connectors.tls import LocalCA

    _fresh_output_dir(options.out_dir)
    now = clock()
    say = _Printer(out)
    say.line(f"fiveo-sync demo: one organisation (seed {options.seed}, scale {options.scale}) "
             "in a ServiceNow and a Jira sandbox on 127.0.0.1")
    # One throwaway CA for both sandboxes, its bundle beside the dashboard (verified TLS).
    ca = LocalCA(options.out_dir)
    with ServiceNowSandbox(seed=options.seed, scale=options.scale, now=now, tls=True,
                           ca=ca) as sn, \
            JiraSandbox(seed=options.seed, scale=options.scale, now=now,
                        deployment=options.deployment, tls=True, ca=ca) as jira:
        settings = build_demo_settings(sn, jira, options)
        runner = Runner(settings, clock=clock, log=log)
        say.line(f"  ServiceNow sandbox: {sn.url}")
        say.line(f"  Jira sandbox ({options.deployment}): {jira.url}")

        say.heading("1. Full run: pull everything, compute, write back")
        first = _run_with_progress(runner, err)
        say.run_summary(first)

        changed = _change_something(sn, jira)
        say.heading(f"2. Incremental run after {changed}")
        second = _run_with_progress(runner, err)
        say.run_summary(second)

        say.heading("3. What the owners see")
        _print_views(settings, out, clock())

        say.heading("4. Where to look")
        say.line(f"  Dashboard:   {(options.out_dir / 'index.html').resolve()}")
        say.line(f"  Portfolio:   {(options.out_dir / 'portfolio.html').resolve()} (services "
                 "and products × the O's, characteristics and ITIL dimensions)")
        say.line(f"  Governance:  {(options.out_dir / 'governance.html').resolve()}")
        say.line(f"  JSON:        {(options.out_dir / 'results.json').resolve()}")
        if options.log_file is not None:
            say.line(f"  Log:         {options.log_file.resolve()} (the log of both runs)")
        say.line(f"  CA bundle:   {Path(sn.ca_bundle).resolve()} (the sandboxes' HTTPS "
                 "certificates; e.g. curl --cacert)")
        say.line(f"  ServiceNow:  {sn.url}/api/now/table/u_fiveo_indicator"
                 "?sysparm_query=u_status!%3Dretired&sysparm_limit=20")
        if settings.writeback.servicenow.summary:
            say.line(f"  Summaries:   {sn.url}/api/now/table/"
                     f"{settings.writeback.servicenow.summary_table}"
                     "?sysparm_fields=u_scope_name,u_owner_state,u_period,u_availability,"
                     "u_open_improvements (one record per service and product)")
        say.line(f"  Jira:        {jira.url}/rest/api/2/search/jql?jql=labels%3Dfiveo-scorecard"
                 "&fields=summary,labels" if options.deployment == "cloud" else
                 f"  Jira:        {jira.url}/rest/api/2/search?jql=labels%3Dfiveo-scorecard")
        say.line(f"  Log in as {settings.servicenow.username} / "
                 f"{sn.credentials['integration'][1]} (ServiceNow) and with "
                 f"{_jira_login(jira, options)} (Jira): throwaway sandbox accounts.")
        exit_code = max(first.exit_code, second.exit_code)
        if options.keep_running:
            say.line("\nSandboxes keep running (--keep-running); press Ctrl-C to stop.")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                say.line("stopped")
    return exit_code


def _run_with_progress(runner: Runner, err: TextIO) -> RunReport:
    """One run, with its live progress on ``err`` when that is a terminal."""
    progress = Progress(err, sources=2)
    with progress:
        return runner.run(RunOptions(progress=progress))


def _change_something(sn: Any, jira: Any) -> str:
    """Let a little time pass in the sandboxes, as a night would: records change."""
    stamp = sn.clock().strftime("%Y-%m-%d %H:%M:%S")
    open_incidents = [row for row in sn.table("incident") if row.get("state") in ("1", "2")]
    for row in sorted(open_incidents, key=lambda r: r["sys_id"])[:3]:
        sn.update("incident", row["sys_id"], state="6", resolved_at=stamp,
                  close_code="Solution provided")
    service = sorted(sn.table("cmdb_ci_service"), key=lambda r: r["name"])[0]
    sn.create("incident", short_description="Checkout page times out", priority="2",
              impact="2", urgency="2", state="1", opened_at=stamp,
              business_service=service["sys_id"])
    product = jira.world.products[0]
    jira.create_issue(product.key, "Bug", "Checkout page times out after the release")
    jira.update_issue(f"{product.key}-1", summary="Payments: retry declined cards once")
    # Platforms stamp changes to the second and a pull reads only whole past seconds (what
    # changes within the current second is read by the next run): let this second pass.
    time.sleep(1.05)
    return "3 incidents resolved, 1 incident and 1 Jira bug raised, 1 Jira issue edited"


def _print_views(settings: Settings, out: TextIO, now: datetime) -> None:
    """The first service owner's view and the view of a product linked to it."""
    from fiveo_sync.commands.report import render_table
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.views import load_owner_views

    mappings = load_mappings(settings.mappings.dir)
    with StateStore(settings.state.path) as store:
        views = load_owner_views(store, mappings.portfolio, settings, now)
        items = store.get_meta(OPEN_ITEMS_KEY) or []
    service = next((v for v in views if v.kind == "service" and v.linked), None)
    chosen = [service] if service else []
    if service is not None:
        chosen += [v for v in views if v.kind == "product" and v.id == service.linked[0]]
    colour = out.isatty() and "NO_COLOR" not in os.environ
    out.write(render_table(chosen, colour))
    others = len(views) - len(chosen)
    out.write(f"  ({others} more views: `fiveo-sync report` or the dashboard)\n")
    flagged = [v for v in views if v.ownership is not None and v.ownership.flagged]
    if flagged:  # owners who left (docs/ownership.md): the governance page lists them
        out.write("\n  Owners who left (governance.html):\n")
        for view in flagged:
            out.write(f"    {view.kind} {view.name} ({view.id}): "
                      f"{view.ownership.sentence()}\n")
    _print_improvement_items(items, out)


def _print_improvement_items(items: list[dict], out: TextIO) -> None:
    """The open improvement items (mappings/improvement.yaml), outage-driven ones first."""
    if not items:
        return
    outage_driven = ("operate.availability", "operate.unplanned_downtime", "observe.mtbf",
                     "observe.repeat_outages")
    ordered = sorted(items, key=lambda i: (i.get("indicator") not in outage_driven,
                                           str(i.get("scope_name")), str(i.get("indicator"))))
    out.write(f"\n  Open improvement items ({len(items)}, governance.html):\n")
    for item in ordered[:8]:
        out.write(f"    {item.get('scope_name')}: {item.get('name')} missed since "
                  f"{item.get('since')} (latest {item.get('latest')}), {item.get('platform')}\n"
                  f"      {item.get('link')}\n")
    if len(ordered) > 8:
        out.write(f"    ... and {len(ordered) - 8} more\n")


def _jira_login(jira: Any, options: DemoOptions) -> str:
    if options.deployment == "cloud":
        return f"{jira.credentials['email']} / {jira.credentials['api_token']}"
    return f"the token {jira.credentials['pat']}"


def _fresh_output_dir(out_dir: Path) -> None:
    """Start from an empty state so the first run is a real full run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (out_dir / name).unlink(missing_ok=True)
    for child in out_dir.glob("*.html"):
        child.unlink()
    shutil.rmtree(out_dir / "views", ignore_errors=True)


class _Printer:
    """The demo's stdout narration."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def line(self, text: str = "") -> None:
        print(text, file=self._out, flush=True)

    def heading(self, text: str) -> None:
        self.line()
        self.line(text)

    def run_summary(self, report: RunReport) -> None:
        summary = report.summary()
        pulled = sum(summary["pulled"].values())
        writes = summary["writes"]
        self.line(f"  pulled {pulled:,} records from {len(summary['pulled'])} streams, "
                  f"computed {summary['indicators']:,} indicator results, writes: "
                  f"{writes['created']} created, {writes['updated']} updated, "
                  f"{writes['unchanged']} unchanged, {writes['failed']} failed "
                  f"({summary['duration_s']:.1f} s, exit {summary['exit_code']})")
        for name, error in {**report.failed_sources, **report.failed_targets}.items():
            self.line(f"  ! {name}: {error}")
