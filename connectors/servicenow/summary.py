"""Summary records in ServiceNow: read them back by key, write the plan.

One record per service and product in the summary table (``u_fiveo_summary`` by default,
:mod:`fiveo_sync.writers.summary`). Platform facts as for the indicator records
(servicenow-api.md §7, §10): reads page by keyset on ``sys_id``; a ``POST`` is never resent
blindly (:func:`connectors.servicenow.executor.create_record_once` looks the record up by
``u_key`` after a lost answer) and a ``PATCH`` sends only the changed columns and
``u_updated``.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog

from connectors.base import WriteOutcome, WriteReport
from connectors.http import HttpClient
from connectors.servicenow.executor import create_record_once
from fiveo_sync.errors import DataError, FiveoSyncError
from fiveo_sync.writers.plan import Plan
from fiveo_sync.writers.summary import COLUMNS, KEY_PREFIX, TARGET

log = structlog.get_logger(__name__)


def _url(base_url: str, table: str) -> str:
    return f"{base_url.rstrip('/')}/api/now/table/{quote(table)}"


def fetch_summaries(http: HttpClient, base_url: str, table: str, *,
                    page_size: int = 500) -> dict[str, dict[str, str]]:
    """Every fiveo-sync summary record of the table, by ``u_key``.

    Raises:
        FiveoSyncError: the table cannot be read (e.g. it was not created).
    """
    url, held, last = _url(base_url, table), {}, ""
    while True:
        query = (f"u_keySTARTSWITH{KEY_PREFIX}:" + (f"^sys_id>{last}" if last else "")
                 + "^ORDERBYsys_id")
        _, body = http.request("GET", url, params={
            "sysparm_query": query, "sysparm_fields": ",".join(("sys_id", *COLUMNS)),
            "sysparm_limit": str(page_size), "sysparm_exclude_reference_link": "true",
            "sysparm_no_count": "true"})
        rows = (body or {}).get("result") or []
        if not rows:
            break
        for row in rows:
            key = str(row.get("u_key") or "")
            if key:
                held[key] = {k: "" if v is None else str(v) for k, v in row.items()}
        last = str(rows[-1].get("sys_id") or "")
        if not last:
            raise DataError("servicenow returned summary records without sys_id",
                            platform="servicenow", table=table)
    log.info("summary_records_fetched", platform="servicenow", table=table, records=len(held))
    return held


def execute_summary_plan(http: HttpClient, base_url: str, plan: Plan,
                         table: str) -> WriteReport:
    """Create and update the summary records of a plan."""
    url = _url(base_url, table)
    report = WriteReport(target=TARGET)
    for op in plan.for_target(TARGET):
        if not op.writes:
            report.outcomes.append(WriteOutcome(op.key, "unchanged", op.ref))
            continue
        try:
            if op.action == "create" or not op.ref:
                create_record_once(http, url, dict(op.fields), key_field="u_key", key=op.key,
                                   params={"sysparm_input_display_value": "false"},
                                   retried_event="summary_retried_after_lookup")
                outcome = WriteOutcome(op.key, "created")
            else:
                body = {c: op.fields[c] for c in (*op.changed, "u_updated") if c in op.fields}
                http.request("PATCH", f"{url}/{quote(op.ref)}", json=body,
                             headers={"X-no-response-body": "true"},
                             params={"sysparm_input_display_value": "false"})
                outcome = WriteOutcome(op.key, "updated")
        except DataError as exc:
            outcome = WriteOutcome(op.key, "failed", str(exc))
        except FiveoSyncError as exc:  # auth lost or retries exhausted: stop this target
            report.error = str(exc)
            log.error("summary_write_failed", platform="servicenow", error=str(exc))
            break
        report.outcomes.append(outcome)
        log.debug("write_applied", platform="servicenow", key=op.key, action=outcome.action)
    return report
