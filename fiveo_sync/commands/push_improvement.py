"""The improvement step of ``push``: read items back, plan, write (``docs/improvement.md``).

Runs after the indicator records and scorecards of each target. Both platforms' items are
read first (the planner decides per series across both), then each platform's plan is
executed, or only shown by ``--dry-run``. A platform that fails here (e.g. the CIM table is
missing) is reported as ``servicenow-improvement`` / ``jira-improvement`` and does not
stop the other writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.base import WriteReport
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.errors import FiveoSyncError
from fiveo_sync.improvement import OPEN_ITEMS_KEY
from fiveo_sync.writers.plan import Plan

SUFFIX = "-improvement"
_HINT = {"servicenow": " (is the Continual Improvement Management plugin active, or is "
                       "servicenow.table in improvement.yaml right? 'enabled: false' turns "
                       "improvement items off)"}


def plan_and_write(settings: Any, connectors: Mapping[str, Any], wanted: list[str],
                   results: list[IndicatorResult], mappings: Any, *, now: datetime,
                   context: Any, store: Any, dry_run: bool, log: Any,
                   endpoint: Callable[[Any, str], tuple[Any, str]],
                   dry_report: Callable[[str, Plan], WriteReport],
                   ) -> tuple[list[Plan], list[WriteReport], dict[str, str]]:
    """Plan and (unless ``dry_run``) write the improvement items of every target.

    Returns:
        The plans, the write reports (targets named ``<platform>-improvement``) and the
        failed targets with their error.
    """
    spec = getattr(mappings, "improvement", None)
    if spec is None or not spec.enabled:
        return [], [], {}
    portfolio = mappings.portfolio
    failed: dict[str, str] = {}
    held: dict[str, Any] = {}
    readers: dict[str, tuple[Any, str, str]] = {}
    for target in wanted:
        connector = connectors.get(target)
        if connector is None:
            continue
        try:
            http, base_url = endpoint(connector, target)
            flavour = ""
            if target == "servicenow":
                from connectors.servicenow.improvement import fetch_items

                held.update(fetch_items(http, base_url, spec))
            else:
                from connectors.jira.executor import detect_flavour
                from connectors.jira.improvement import fetch_items as fetch_jira

                deployment = getattr(connector, "deployment", None) or settings.jira.deployment
                flavour = detect_flavour(http, base_url, deployment)
                projects = [spec.jira.project] if spec.jira.project else [
                    p.jira_projects[0] for p in portfolio.products if p.jira_projects]
                held.update(fetch_jira(http, base_url, spec, flavour=flavour,
                                       projects=projects))
            readers[target] = (http, base_url, flavour)
        except FiveoSyncError as exc:
            failed[target + SUFFIX] = str(exc) + _HINT.get(target, "")
            log.error("improvement_read_failed", target=target, error=str(exc))
    from fiveo_sync.improvement import plan_improvements

    items = plan_improvements(results, spec, now, held, context=context, portfolio=portfolio)
    ledger = None if dry_run or store is None else _ledger_before(store, items, held, readers,
                                                                   now)
    plans, reports, listed = [], [], {}
    for target, (http, base_url, flavour) in readers.items():
        plan, execute = _target_plan(target, items, spec, store, http, base_url, flavour,
                                     portfolio)
        plans.append(plan)
        log.info("improvement_plan_built", target=target, **plan.counts())
        try:
            written = dry_report(target, plan) if dry_run else execute()
        except FiveoSyncError as exc:
            failed[target + SUFFIX] = str(exc)
            continue
        written.target = target + SUFFIX
        reports.append(written)
        if ledger is not None:
            ledger = _ledger_after(store, ledger, written)
        if written.failed:
            failed[written.target] = written.error or f"{written.count('failed')} write(s) failed"
        elif not dry_run:
            listed[target] = open_items(items, target, base_url, spec)
    if listed and store is not None:
        remember_open_items(store, listed)
    return plans, reports, failed


def _ledger_before(store: Any, items: list[Any], held: Mapping[str, Any],
                   readers: Mapping[str, Any], now: datetime) -> dict:
    """Settle the item history against what the platforms hold, then note the writes ahead."""
    from fiveo_sync.improvement_ledger import LEDGER_KEY, intend, reconcile

    ledger = reconcile(store.get_meta(LEDGER_KEY) or {}, items, held, now)
    ledger = intend(ledger, [i for i in items if i.platform in readers], now)
    store.set_meta(LEDGER_KEY, ledger)
    return ledger


def _ledger_after(store: Any, ledger: dict, written: WriteReport) -> dict:
    from fiveo_sync.improvement_ledger import LEDGER_KEY, landed_keys, settle

    ledger = settle(ledger, landed_keys(written))
    store.set_meta(LEDGER_KEY, ledger)
    return ledger


def open_items(items: list[Any], platform: str, base_url: str, spec: Any) -> list[dict]:
    """The platform's items still open after this push, as the dashboard lists them."""
    from urllib.parse import quote

    from fiveo_sync.improvement import CREATE, UNCHANGED, UPDATE, jira_label

    out = []
    for item in items:
        if item.platform != platform or item.action not in (CREATE, UPDATE, UNCHANGED):
            continue
        if platform == "servicenow":
            query = quote(f"{spec.servicenow.key_field}={item.key}", safe="")
            link = f"{base_url.rstrip('/')}/{spec.servicenow.table}_list.do?sysparm_query={query}"
        else:
            link = f"{base_url.rstrip('/')}/issues/?jql=" + quote(
                f"labels = {jira_label(item.key)}", safe="")
        out.append({"key": item.key, "platform": platform, "scope_type": item.scope_type,
                    "scope": item.scope, "scope_name": item.scope_name,
                    "indicator": item.indicator, "name": item.name, "title": item.title,
                    "since": item.periods[0][0], "latest": item.periods[-1][0],
                    "assignee": item.assignee, "link": link})
    return out


def remember_open_items(store: Any, listed: Mapping[str, list[dict]]) -> None:
    """Keep the open items in the store for the dashboard (other platforms' kept as were)."""
    kept = [i for i in store.get_meta(OPEN_ITEMS_KEY) or [] if i.get("platform") not in listed]
    store.set_meta(OPEN_ITEMS_KEY, kept + [i for items in listed.values() for i in items])


def _target_plan(target: str, items: list[Any], spec: Any, store: Any, http: Any,
                 base_url: str, flavour: str,
                 portfolio: Any) -> tuple[Plan, Callable[[], WriteReport]]:
    from fiveo_sync.writers.improvement import (
        build_jira_improvement_plan,
        build_servicenow_improvement_plan,
    )

    if target == "servicenow":
        from connectors.servicenow.improvement import execute_plan, user_sys_ids

        plan = build_servicenow_improvement_plan(items, spec, user_sys_ids(store))
        return plan, lambda: execute_plan(http, base_url, plan, spec)
    from connectors.jira.improvement import execute_plan as execute_jira
    from connectors.jira.improvement import jira_assignees
    from fiveo_sync.names import build_people

    wanted = {i.assignee for i in items if i.platform == "jira" and i.assignee}
    people = build_people(store, wanted) if store is not None else {}
    plan = build_jira_improvement_plan(items, spec, flavour=flavour,
                                       assignees=jira_assignees(people, flavour))
    return plan, lambda: execute_jira(http, base_url, plan, flavour=flavour)
