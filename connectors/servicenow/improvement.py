"""Improvement items in ServiceNow: read them back, write the plan (``docs/improvement.md``).

The table (``sn_cim_register`` by default, Continual Improvement Management) is read by
the item-key prefix in its key column; an item whose ``state`` is not one of the
configured open states (closed or cancelled, also by hand) is *closed*. Writes follow the
indicator records' executor (servicenow-api.md §7): ``POST`` is never resent blindly —
after a lost or cut-off answer the item is looked up by its key and posted again only when
absent — and ``PATCH`` sends only the item's fields.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import WriteOutcome, WriteReport
from connectors.http import HttpClient
from connectors.servicenow.executor import create_record_once
from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.errors import DataError, FiveoSyncError
from fiveo_sync.improvement import KEY_PREFIX, HeldItem
from fiveo_sync.writers.plan import Plan

log = structlog.get_logger(__name__)
DIGEST = re.compile(r"digest ([0-9a-f]{16})")
TARGET = "servicenow"


def _url(base_url: str, table: str) -> str:
    return f"{base_url.rstrip('/')}/api/now/table/{quote(table)}"


def fetch_items(http: HttpClient, base_url: str, spec: ImprovementSpec, *,
                page_size: int = 500) -> dict[str, HeldItem]:
    """Every fiveo-sync improvement item of the table, by item key.

    Raises:
        FiveoSyncError: the table cannot be read (e.g. the CIM plugin is not active).
    """
    target = spec.servicenow
    url, held, last = _url(base_url, target.table), {}, ""
    fields = ",".join(("sys_id", target.key_field, "state", "description"))
    while True:
        query = (f"{target.key_field}STARTSWITH{KEY_PREFIX}:"
                 + (f"^sys_id>{last}" if last else "") + "^ORDERBYsys_id")
        _, body = http.request("GET", url, params={
            "sysparm_query": query, "sysparm_fields": fields, "sysparm_limit": str(page_size),
            "sysparm_exclude_reference_link": "true", "sysparm_no_count": "true"})
        rows = (body or {}).get("result") or []
        if not rows:
            break
        for row in rows:
            key = str(row.get(target.key_field) or "")
            found = DIGEST.search(str(row.get("description") or ""))
            held[key] = HeldItem(key, str(row.get("sys_id") or ""),
                                 closed=str(row.get("state") or "") not in target.open_states,
                                 digest=found.group(1) if found else "")
        last = str(rows[-1].get("sys_id") or "")
        if not last:
            raise DataError("servicenow returned improvement items without sys_id",
                            platform="servicenow", table=target.table)
    log.info("improvement_items_fetched", platform="servicenow", table=target.table,
             items=len(held))
    return held


def execute_plan(http: HttpClient, base_url: str, plan: Plan,
                 spec: ImprovementSpec) -> WriteReport:
    """Create and update the improvement items of a plan (``resolve`` is an update)."""
    url = _url(base_url, spec.servicenow.table)
    report = WriteReport(target=TARGET)
    for op in plan.for_target(TARGET):
        if not op.writes:
            report.outcomes.append(WriteOutcome(op.key, "unchanged", op.ref))
            continue
        try:
            if op.action == "create" or not op.ref:
                create_record_once(http, url, dict(op.fields), key_field=spec.servicenow.key_field,
                                   key=op.key, retried_event="improvement_retried_after_lookup")
                outcome = WriteOutcome(op.key, "created")
            else:
                http.request("PATCH", f"{url}/{quote(op.ref)}", json=dict(op.fields),
                             headers={"X-no-response-body": "true"})
                outcome = WriteOutcome(op.key, "updated", op.reason)
        except DataError as exc:
            outcome = WriteOutcome(op.key, "failed", str(exc))
        except FiveoSyncError as exc:  # auth lost or retries exhausted: stop this target
            report.error = str(exc)
            log.error("improvement_write_failed", platform="servicenow", error=str(exc))
            break
        report.outcomes.append(outcome)
        log.info("improvement_written", platform="servicenow", key=op.key,
                 action=outcome.action)
    return report


def user_sys_ids(store: Any) -> dict[str, str]:
    """``user_name`` → ``sys_id`` of the pulled ServiceNow users (for ``assigned_to``)."""
    users: dict[str, str] = {}
    for payload in store.iter_payloads("servicenow", "sys_user") if store is not None else ():
        name, sys_id = _text(payload.get("user_name")), _text(payload.get("sys_id"))
        if name and sys_id:
            users[name] = sys_id
    return users


def _text(value: Any) -> str:
    if isinstance(value, dict):  # a reference or display-value object
        value = value.get("value") or value.get("display_value")
    return "" if value is None else str(value)
