"""``fiveo-sync push``: write the stored results to ServiceNow and Jira (or print the plan).

For each configured target: read what the platform holds (``fetch_current``), let the
writer diff the results against it into a plan, then print the plan (``--dry-run``) or have
the connector's executor carry it out. A failing target is recorded and the next target
still runs; :func:`push_all` returns a :class:`PushReport` the runner reuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from connectors.base import WriteOutcome, WriteReport
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.errors import EXIT_OK, EXIT_PARTIAL, ConfigError, FiveoSyncError
from fiveo_sync.writers.plan import Plan, render_table

TARGETS = ("servicenow", "jira")
_DRY_RUN_OUTCOME = {"create": "created", "update": "updated", "skip_unchanged": "unchanged",
                    "mark": "marked"}


@dataclass
class PushReport:
    """What one push did.

    Attributes:
        reports: one write report per target that got as far as a plan.
        failed_targets: target → error text, for targets that failed in whole or in part.
        plan: every target's plan (what was, or in a dry run would be, written).
    """

    reports: list[WriteReport] = field(default_factory=list)
    failed_targets: dict[str, str] = field(default_factory=dict)
    plan: Plan = field(default_factory=Plan)


def _endpoint(connector: Any, source: str) -> tuple[Any, str]:
    """The connector's HTTP client and base URL (executors share its session and retries)."""
    holders = (connector, getattr(connector, "client", None), getattr(connector, "api", None))
    for holder in holders:
        http = getattr(holder, "http", None)
        base_url = getattr(holder, "base_url", None) or getattr(holder, "base", None)
        if http is not None and base_url:
            return http, str(base_url)
    raise ConfigError(f"the {source} connector exposes no HTTP client for write-back")


def _merged_results(store: Any, results: Iterable[Any] | None) -> list[IndicatorResult]:
    """The stored history with this run's results on top, one per key."""
    merged: dict[str, IndicatorResult] = {}
    for item in store.iter_results() if store is not None else ():
        result = IndicatorResult.from_dict(item)
        merged[result.key] = result
    for item in results or ():
        result = item if isinstance(item, IndicatorResult) else IndicatorResult.from_dict(item)
        merged[result.key] = result
    return [merged[k] for k in sorted(merged)]


def _plan_servicenow(settings: Any, connector: Any, results: list[IndicatorResult], *,
                     run_id: str, computed_at: datetime,
                     owns_scope: Callable[[str, str], bool] | None = None,
                     context: Any = None) -> tuple[Plan, Callable[[], WriteReport]]:
    from connectors.servicenow.executor import execute_plan, fetch_current
    from fiveo_sync.writers.servicenow import build_servicenow_plan

    http, base_url = _endpoint(connector, "servicenow")
    current = fetch_current(http, base_url, settings.servicenow)
    if owns_scope is not None:
        current = {key: record for key, record in current.items()
                   if owns_scope(record.get("u_scope_type", ""), record.get("u_scope", ""))}
    plan = build_servicenow_plan(results, current, run_id=run_id, computed_at=computed_at,
                                 context=context)
    return plan, lambda: execute_plan(http, base_url, plan, settings.servicenow)


def _plan_jira(settings: Any, connector: Any, results: list[IndicatorResult],
               portfolio: Any, *, now: datetime | None = None,
               context: Any = None) -> tuple[Plan, Callable[[], WriteReport]]:
    from connectors.jira.executor import detect_flavour, execute_plan, fetch_current
    from fiveo_sync.writers.jira import build_jira_plan, build_scorecard_targets

    http, base_url = _endpoint(connector, "jira")
    jira = settings.jira
    deployment = getattr(connector, "deployment", None) or jira.deployment
    flavour = detect_flavour(http, base_url, deployment)
    targets = build_scorecard_targets(portfolio)
    current = fetch_current(http, base_url, flavour=flavour, label=jira.scorecard.label,
                            projects={t.project_key: t.product for t in targets})
    plan = build_jira_plan(targets, results, current, flavour=flavour,
                           label=jira.scorecard.label, issue_type=jira.scorecard.issue_type,
                           now=now, context=context)
    return plan, lambda: execute_plan(http, base_url, plan, flavour=flavour)


def _dry_run_report(target: str, plan: Plan) -> WriteReport:
    return WriteReport(target=target, outcomes=[
        WriteOutcome(op.key, _DRY_RUN_OUTCOME[op.action], "dry run") for op in plan])


def push_all(settings: Any, store: Any, results: Iterable[Any] | None, *, dry_run: bool,
             clock: Callable[[], datetime], connectors: Mapping[str, Any] | None = None,
             mappings: Any = None, log: Any = None, run_id: str | None = None,
             owns_scope: Callable[[str, str], bool] | None = None) -> PushReport:
    """Plan and (unless ``dry_run``) execute the writes of every configured target.

    Args:
        settings: loaded settings (``servicenow`` / ``jira`` sections may be None).
        store: the state store; its results are the history the writers publish.
        results: this run's results (IndicatorResult or ``to_dict()`` dicts), overriding
            stored ones with the same key; None to push what the store holds.
        dry_run: plan only; nothing is written (current records are still read).
        clock: aware-UTC now, stamped into ``u_computed_at``.
        connectors: connectors by source (tests inject them); built from settings if None.
        mappings: loaded mappings (for the portfolio); loaded from settings if None.
        log: a structlog logger.
        run_id: stamped into ``u_run_id``; derived from the clock when None.
        owns_scope: for a sharded run, whether ``(scope_type, scope)`` belongs to this
            shard; records of other shards on the platform are then left alone (never
            retired as "gone from the results").

    Returns:
        The per-target reports, failed targets and the combined plan.
    """
    log = log or structlog.get_logger(__name__)
    now = clock()
    run_id = run_id or now.strftime("push-%Y%m%dT%H%M%SZ")
    all_results = _merged_results(store, results)
    wanted = [t for t in TARGETS if getattr(settings, t, None) is not None]
    owned = connectors is None
    if connectors is None:
        from fiveo_sync.platforms import build_connectors

        connectors = build_connectors(settings, clock=clock, only=wanted or None)
    try:
        if mappings is None and getattr(settings, "mappings", None) is not None:
            from fiveo_sync.engine.loader import load_mappings

            mappings = load_mappings(settings.mappings.dir)
        context = _publish_context(settings, store, getattr(mappings, "portfolio", None), now)
        pushed = _push_targets(settings, connectors, wanted, all_results, mappings,
                               dry_run=dry_run, run_id=run_id, now=now, log=log,
                               owns_scope=owns_scope, context=context)
        _push_improvements(pushed, settings, connectors, wanted, all_results, mappings,
                           now=now, context=context, store=store, dry_run=dry_run, log=log,
                           owns_scope=owns_scope)
        _push_summaries(pushed, settings, connectors, store, mappings, now=now,
                        dry_run=dry_run, log=log, owns_scope=owns_scope)
        return pushed
    finally:
        if owned:
            for connector in connectors.values():
                connector.close()


def _push_improvements(pushed: PushReport, settings: Any, connectors: Mapping[str, Any],
                       wanted: list[str], results: list[IndicatorResult], mappings: Any, *,
                       owns_scope: Callable[[str, str], bool] | None = None,
                       **options: Any) -> None:
    """Improvement items (``mappings/improvement.yaml``), after the other writes."""
    from fiveo_sync.commands.push_improvement import plan_and_write

    if mappings is None:
        return
    if owns_scope is not None:
        results = [r for r in results if owns_scope(r.scope_type, r.scope)]
    plans, reports, failed = plan_and_write(settings, connectors, wanted, results, mappings,
                                            endpoint=_endpoint, dry_report=_dry_run_report,
                                            **options)
    pushed.plan = Plan.merge([pushed.plan, *plans])
    pushed.reports.extend(reports)
    pushed.failed_targets.update(failed)


def _push_summaries(pushed: PushReport, settings: Any, connectors: Mapping[str, Any],
                    store: Any, mappings: Any, **options: Any) -> None:
    """One summary record per element in ServiceNow, when ``writeback.servicenow.summary``."""
    from fiveo_sync.commands.push_summary import plan_and_write_summaries, summary_enabled

    connector = connectors.get("servicenow")
    if mappings is None or store is None or connector is None or not summary_enabled(settings):
        return
    plan, written, error = plan_and_write_summaries(
        settings, connector, store, mappings, endpoint=_endpoint,
        dry_report=_dry_run_report, **options)
    pushed.plan = Plan.merge([pushed.plan, plan])
    if written is not None:
        pushed.reports.append(written)
    if error:
        pushed.failed_targets[written.target if written else "servicenow-summary"] = error


def _publish_context(settings: Any, store: Any, portfolio: Any, now: datetime) -> Any:
    """Owner names (from the pulled users and issues), owners who left, evidence links."""
    from fiveo_sync.evidence_links import build_link_builder
    from fiveo_sync.names import build_name_book, portfolio_people
    from fiveo_sync.ownership import load_ownership
    from fiveo_sync.writers.context import build_publish_context

    names = build_name_book(store, portfolio_people(portfolio))
    ownership = load_ownership(store, portfolio, names, now) if portfolio is not None else {}
    return build_publish_context(portfolio, names, build_link_builder(settings),
                                 ownership=ownership)


def _push_targets(settings: Any, connectors: Mapping[str, Any], wanted: list[str],
                  all_results: list[IndicatorResult], mappings: Any, *, dry_run: bool,
                  run_id: str, now: datetime, log: Any,
                  owns_scope: Callable[[str, str], bool] | None = None,
                  context: Any = None) -> PushReport:
    report = PushReport()
    plans: list[Plan] = []
    for target in wanted:
        connector = connectors.get(target)
        if connector is None:
            continue
        try:
            if target == "servicenow":
                plan, execute = _plan_servicenow(settings, connector, all_results,
                                                 run_id=run_id, computed_at=now,
                                                 owns_scope=owns_scope, context=context)
            else:
                if mappings is None:
                    from fiveo_sync.engine.loader import load_mappings

                    mappings = load_mappings(settings.mappings.dir)
                plan, execute = _plan_jira(settings, connector, all_results,
                                           mappings.portfolio, now=now, context=context)
            plans.append(plan)
            log.info("plan_built", target=target, **plan.counts())
            written = _dry_run_report(target, plan) if dry_run else execute()
        except FiveoSyncError as exc:
            report.failed_targets[target] = str(exc)
            log.error("push_target_failed", target=target, error=str(exc))
            continue
        report.reports.append(written)
        if written.failed:
            failed = written.count("failed")
            report.failed_targets[target] = written.error or f"{failed} write(s) failed"
    report.plan = Plan.merge(plans)
    return report


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``push``."""
    parser.add_argument("--dry-run", action="store_true",
                        help="print the write plan (JSON with --log-format json) and write "
                             "nothing")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Push the stored results; exit 0, or 3 when a target failed."""
    from fiveo_sync.state import RunLock, StateStore

    settings = ctx.settings
    with RunLock(settings.state.path), StateStore(settings.state.path) as store:
        pushed = push_all(settings, store, None, dry_run=args.dry_run, clock=ctx.clock,
                          log=ctx.log)
    if args.dry_run:
        json_out = getattr(ctx, "log_format", "") == "json"
        sys.stdout.write(pushed.plan.to_json() if json_out else render_table(pushed.plan))
    else:
        for written in pushed.reports:
            counts = ", ".join(f"{written.count(a)} {a}" for a in
                               ("created", "updated", "unchanged", "marked", "failed"))
            print(f"{written.target}: {counts}")
    for target, error in pushed.failed_targets.items():
        print(f"fiveo-sync push: {target} failed: {error}", file=sys.stderr)
    return EXIT_PARTIAL if pushed.failed_targets else EXIT_OK
