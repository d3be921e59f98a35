"""The summary step of ``push``: one ServiceNow record per service and product.

Runs last, after the improvement items (so each record counts the items this push left
open), when ``writeback.servicenow.summary`` is on. The records say what the portfolio page
says per element (:mod:`fiveo_sync.writers.summary`). A failure here is reported as the
target ``servicenow-summary`` and undoes none of the other writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.base import WriteReport
from fiveo_sync.errors import FiveoSyncError
from fiveo_sync.writers.plan import Plan

TARGET = "servicenow-summary"
_HINT = (" (does the summary table exist? deploy/servicenow/README.md; "
         "writeback.servicenow.summary: false turns the summary records off)")


def summary_enabled(settings: Any) -> bool:
    """Whether the settings ask for summary records (and name a ServiceNow instance)."""
    writeback = getattr(settings, "writeback", None)
    return bool(writeback is not None and writeback.servicenow.summary
                and getattr(settings, "servicenow", None) is not None)


def plan_and_write_summaries(settings: Any, connector: Any, store: Any, mappings: Any, *,
                             now: datetime, dry_run: bool, log: Any,
                             endpoint: Callable[[Any, str], tuple[Any, str]],
                             dry_report: Callable[[str, Plan], WriteReport],
                             owns_scope: Callable[[str, str], bool] | None = None,
                             ) -> tuple[Plan, WriteReport | None, str | None]:
    """Read the held summary records, diff the owner views against them, write the plan.

    Returns:
        The plan, the write report (target ``servicenow-summary``; None when the records
        could not be read) and the error text, or None.
    """
    from connectors.servicenow.summary import execute_summary_plan, fetch_summaries
    from fiveo_sync.improvement import OPEN_ITEMS_KEY
    from fiveo_sync.views import load_owner_views
    from fiveo_sync.writers.summary import build_summary_plan

    table = settings.writeback.servicenow.summary_table
    try:
        http, base_url = endpoint(connector, "servicenow")
        held = fetch_summaries(http, base_url, table)
    except FiveoSyncError as exc:
        log.error("summary_read_failed", target=TARGET, error=str(exc))
        return Plan(), None, str(exc) + _HINT
    views = load_owner_views(store, mappings.portfolio, settings, now)
    if owns_scope is not None:  # a shard leaves the other shards' elements alone
        views = [v for v in views if owns_scope(v.kind, v.id)]
        held = _owned(held, owns_scope)
    items = store.get_meta(OPEN_ITEMS_KEY) or []
    plan = build_summary_plan(views, held, improvements=items, updated_at=now)
    log.info("summary_plan_built", target=TARGET, **plan.counts())
    try:
        written = dry_report("servicenow", plan) if dry_run else execute_summary_plan(
            http, base_url, plan, table)
    except FiveoSyncError as exc:
        return plan, None, str(exc)
    written.target = TARGET
    error = (written.error or f"{written.count('failed')} write(s) failed"
             if written.failed else None)
    return plan, written, error


def _owned(held: Mapping[str, Mapping[str, Any]],
           owns_scope: Callable[[str, str], bool]) -> dict[str, Mapping[str, Any]]:
    return {key: record for key, record in held.items()
            if owns_scope(str(record.get("u_scope_type", "")), str(record.get("u_scope", "")))}
