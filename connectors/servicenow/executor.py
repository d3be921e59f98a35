"""Executes ServiceNow write plans against ``u_fiveo_indicator`` (table or import-set mode).

Platform facts relied on (servicenow-api.md):

- §7: ``POST /api/now/table/{t}`` creates one record (201), ``PATCH …/{sys_id}`` updates only
  the fields sent (200). The Table API has no upsert, so the writer diffs against what
  :func:`fetch_current` read first; a POST is never retried on 5xx (``HttpClient`` treats it
  as non-idempotent) and a rerun finds the record by ``u_key`` instead of duplicating it.
- §11: ``POST /api/now/import/{staging}`` inserts one staging row and runs the transform
  synchronously; the transform coalesces on ``u_key``, so the row is an idempotent upsert
  (safe to retry) and the response says ``inserted``/``updated``/``ignored``/``error``.
  ``insertMultiple`` is not used: it transforms asynchronously and reports no per-row
  outcome, which would leave the write report blind.
- §4–5, §10: values are strings; reads page by keyset (``sys_id>last^ORDERBYsys_id``) and end
  on an empty page, because the limit applies before ACLs and a short page proves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import WriteOutcome, WriteReport
from connectors.http import HttpClient
from fiveo_sync.errors import DataError, FiveoSyncError, UnavailableError
from fiveo_sync.writers.plan import Plan, WriteOp
from fiveo_sync.writers.servicenow import COLUMNS, TARGET

log = structlog.get_logger(__name__)

_IMPORT_STATUS = {"inserted": "created", "updated": "updated", "ignored": "unchanged",
                  "skipped": "unchanged", "error": "failed"}


def _write_settings(settings: Any) -> Any:
    """Accept full settings, the ``servicenow`` section or its ``write`` section."""
    section = getattr(settings, "servicenow", None) or settings
    return getattr(section, "write", None) or section


def fetch_current(http: HttpClient, base_url: str, settings: Any, *,
                  page_size: int = 1000) -> dict[str, dict[str, str]]:
    """Read every fiveo record of the target table, by ``u_key``.

    Args:
        http: the ServiceNow HTTP client (auth attached, retries inside).
        base_url: the instance URL without a trailing slash.
        settings: settings (or their ``servicenow`` or ``servicenow.write`` section).
        page_size: rows per request.

    Returns:
        ``u_key`` → the record's columns (plus ``sys_id``), values as strings.
    """
    table = _write_settings(settings).table
    url = f"{base_url.rstrip('/')}/api/now/v2/table/{quote(table)}"
    fields = ",".join(("sys_id", *COLUMNS))
    current: dict[str, dict[str, str]] = {}
    last = ""
    while True:
        query = "u_keySTARTSWITHfiveo:" + (f"^sys_id>{last}" if last else "") + "^ORDERBYsys_id"
        _, body = http.request("GET", url, params={
            "sysparm_query": query, "sysparm_fields": fields, "sysparm_limit": str(page_size),
            "sysparm_exclude_reference_link": "true", "sysparm_no_count": "true"})
        rows = (body or {}).get("result") or []
        if not rows:
            break
        for row in rows:
            key = str(row.get("u_key") or "")
            if key:
                current[key] = {k: "" if v is None else str(v) for k, v in row.items()}
        last = str(rows[-1].get("sys_id") or "")
        if not last:
            raise DataError("servicenow returned fiveo records without sys_id",
                            platform="servicenow", table=table)
    log.info("current_records_fetched", platform="servicenow", table=table,
             records=len(current))
    return current


def execute_plan(http: HttpClient, base_url: str, plan: Plan, settings: Any) -> WriteReport:
    """Carry out the ServiceNow operations of a plan.

    A 4xx on one record fails that record only; losing the platform (auth, retries
    exhausted) stops the target and is recorded in ``WriteReport.error``.

    Args:
        http: the ServiceNow HTTP client.
        base_url: the instance URL.
        plan: the plan (operations of other targets are ignored).
        settings: settings (or their ``servicenow`` / ``servicenow.write`` section).

    Returns:
        One outcome per operation: created, updated, unchanged, marked or failed.
    """
    write = _write_settings(settings)
    report = WriteReport(target=TARGET)
    base = base_url.rstrip("/")
    for op in plan.for_target(TARGET):
        if not op.writes:
            report.outcomes.append(WriteOutcome(op.key, "unchanged"))
            continue
        try:
            if write.mode == "import_set":
                outcome = _import_row(http, base, write.staging_table, op)
            else:
                outcome = _table_write(http, base, write.table, op)
        except DataError as exc:
            outcome = WriteOutcome(op.key, "failed", str(exc))
        except FiveoSyncError as exc:  # auth lost or retries exhausted: stop this target
            report.error = str(exc)
            log.error("write_target_failed", platform="servicenow", error=str(exc))
            break
        report.outcomes.append(outcome)
        log.debug("write_applied", platform="servicenow", key=op.key, action=outcome.action)
    log.info("plan_executed", platform="servicenow", mode=write.mode,
             created=report.count("created"), updated=report.count("updated"),
             unchanged=report.count("unchanged"), marked=report.count("marked"),
             failed=report.count("failed"))
    return report


def _done(op: WriteOp, written: str) -> str:
    """The outcome name of a successful write of ``op``."""
    return "marked" if op.action == "mark" else written


def _table_write(http: HttpClient, base: str, table: str, op: WriteOp) -> WriteOutcome:
    url = f"{base}/api/now/v2/table/{quote(table)}"
    body = dict(op.fields)
    if op.action == "create" or not op.ref:
        _create_once(http, url, body, op.key)
        return WriteOutcome(op.key, _done(op, "created"))
    if op.action == "update":
        body = {c: op.fields[c] for c in (*op.changed, "u_run_id", "u_computed_at")
                if c in op.fields}
    http.request("PATCH", f"{url}/{quote(op.ref)}", json=body,
                 headers={"X-no-response-body": "true"},
                 params={"sysparm_input_display_value": "false"})
    return WriteOutcome(op.key, _done(op, "updated"))


def _create_once(http: HttpClient, url: str, body: dict[str, str], key: str) -> None:
    """POST a new indicator record, never twice (see :func:`create_record_once`)."""
    create_record_once(http, url, body, key_field="u_key", key=key,
                       params={"sysparm_input_display_value": "false"},
                       retried_event="write_retried_after_lookup")


def create_record_once(http: HttpClient, url: str, body: Mapping[str, Any], *, key_field: str,
                       key: str, params: Mapping[str, str] | None = None,
                       retried_event: str) -> None:
    """POST a new record; after an ambiguous failure, look it up by its key first.

    A 5xx or a connection lost after the request was sent leaves the POST's fate unknown
    (the platform may have stored it), so it is never simply resent: the record is looked
    up, and only when absent is the POST tried again. After a timeout the instance may
    still be processing the request, so the lookup waits one more timeout first (a
    request slower than that can still land late: ``import_set`` mode has no such gap).

    Args:
        http: the ServiceNow HTTP client.
        url: the Table API URL of the table.
        body: the record's fields.
        key_field: the column holding the record's idempotency key.
        key: the key's value.
        params: extra query parameters of the POST.
        retried_event: the log event of a POST sent again after the lookup found nothing.
    """
    attempts = max(1, http.policy.max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            http.request("POST", url, json=dict(body), headers={"X-no-response-body": "true"},
                         **({"params": dict(params)} if params else {}))
            return
        except UnavailableError as exc:
            if exc.context.get("failure") == "timeout":
                time.sleep(http.policy.timeout_s)
            if _exists(http, url, key_field, key):
                return
            if attempt == attempts:
                raise
            log.info(retried_event, platform="servicenow", key=key)


def _exists(http: HttpClient, url: str, key_field: str, key: str) -> bool:
    """Whether a record with this key is in the table."""
    _, found = http.request("GET", url, params={
        "sysparm_query": f"{key_field}={key}", "sysparm_fields": "sys_id", "sysparm_limit": "1",
        "sysparm_no_count": "true"})
    return bool((found or {}).get("result"))


def _import_row(http: HttpClient, base: str, staging: str, op: WriteOp) -> WriteOutcome:
    url = f"{base}/api/now/import/{quote(staging)}"
    # Coalescing on u_key makes the row an upsert, so a retry after a 5xx cannot duplicate.
    _, body = http.request("POST", url, json=dict(op.fields), idempotent=True)
    rows = (body or {}).get("result") or []
    row: Mapping[str, Any] = rows[0] if rows and isinstance(rows[0], Mapping) else {}
    status = str(row.get("status") or "")
    action = _IMPORT_STATUS.get(status)
    if action is None:
        return WriteOutcome(op.key, "failed", f"import set answered status {status!r}")
    if action == "failed":
        detail = str(row.get("error_message") or row.get("status_message") or "transform error")
        return WriteOutcome(op.key, "failed", detail)
    if action == "unchanged":
        return WriteOutcome(op.key, "unchanged", status)
    return WriteOutcome(op.key, _done(op, action))
