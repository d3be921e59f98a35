"""``fiveo-sync doctor`` probes for ServiceNow: reachability, credentials, reads, write-back.

Platform facts relied on (servicenow-api.md):

- §8: 401 = credentials refused; 403 = an ACL, business rule or data policy denied the
  operation; 400 "Invalid table" = no such table. Hidden rows look like missing rows.
- §4: fields the caller may not read are *omitted* from records, and unknown field names
  are ignored silently, so a requested field missing from a returned record is either an
  ACL or a column the instance does not have. Both stop the sync from seeing data.
- §7, §11: the Table API creates with POST (201), updates with PATCH (200) and deletes
  with DELETE (204); the Import Set API inserts one staging row and runs the transform
  synchronously, answering a ``status`` per row (inserted, updated, ignored, skipped, error).

Write permissions are probed with a record whose ``u_key`` starts with
``fiveo-doctor-probe:`` (never ``fiveo:``, so a run can never adopt it), which is created,
updated and deleted again. In import-set mode the transform map should ignore such rows
(``deploy/servicenow/import-set.md``); if it does not, the probe that reached the target
table is deleted there.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from connectors.servicenow.client import ServiceNowClient
from connectors.servicenow.connector import default_fields
from fiveo_sync.doctor import Check, build_probe_policy, probe_request, remedy_of
from fiveo_sync.errors import AuthError, FiveoSyncError, UnavailableError
from fiveo_sync.writers.servicenow import COLUMNS

PLATFORM = "servicenow"
PROBE_PREFIX = "fiveo-doctor-probe:"
SECURITY_DOC = "deploy/SECURITY.md"
TABLE_DOC = "deploy/servicenow/README.md"

_READ_HINTS = {
    "incident": "role itil", "change_request": "role itil", "problem": "role itil",
    "task_sla": "role itil", "contract_sla": "role itil",
    "cmdb_ci_service": "role itil or cmdb_read", "sys_user": "any authenticated user",
    "sys_user_group": "any authenticated user",
    "cmdb_ci_outage": "role itil", "core_company": "any authenticated user",
    "asmt_assessment_instance": "role survey_reader or assessment_admin",
    "asmt_metric_result": "role survey_reader or assessment_admin",
    "asmt_metric": "role survey_reader or assessment_admin",
    "asmt_metric_type": "role survey_reader or assessment_admin",
    "sys_audit_delete": "a read ACL on sys_audit_delete (admin-only in the base system)",
}


def run_checks(settings: Any, *, sleep: Callable[[float], None] = time.sleep) -> list[Check]:
    """Every ServiceNow check for the ``servicenow`` settings section, in order.

    Stops after the first of reachability or credentials fails (nothing else can pass).
    """
    section = settings.servicenow
    try:
        client = ServiceNowClient(section, build_probe_policy(settings.http),
                                  verify=settings.http.tls_verify, sleep=sleep)
    except FiveoSyncError as exc:
        return [Check.failed(PLATFORM, "credentials", str(exc),
                             "set the credentials servicenow.auth needs, from the environment "
                             f"or FIVEO_SECRETS_DIR ({SECURITY_DOC})", remedy_of(exc))]
    try:
        checks = _connection(client, section)
        if all(c.ok for c in checks):
            checks += [_read(client, table, fields) for table, fields in _reads(section)]
            checks += _write_checks(client, section)
        return checks
    finally:
        client.close()


def _url(client: ServiceNowClient, table: str) -> str:
    return f"{client.base_url}/api/now/v2/table/{quote(table)}"


def _connection(client: ServiceNowClient, section: Any) -> list[Check]:
    """Reachability and credentials from one small authenticated read of sys_user."""
    user = section.username or ""
    params = {"sysparm_limit": "1", "sysparm_fields": "user_name", "sysparm_no_count": "true"}
    if user:
        params["sysparm_query"] = f"user_name={user}"
    host = client.base_url
    try:
        status, body = probe_request(client.http, "GET", _url(client, "sys_user"),
                                     params=params)
    except UnavailableError as exc:
        return [Check.failed(PLATFORM, "reachable", f"{host}: {exc.message}",
                             "check servicenow.instance_url, DNS, the firewall or proxy to the "
                             "instance, and TLS trust (http.ca_bundle)", "unreachable")]
    except AuthError as exc:  # the OAuth token request was refused
        return [Check.passed(PLATFORM, "reachable", f"{host} answered"),
                Check.failed(PLATFORM, "credentials", exc.message, _credential_fix(section),
                             "permission")]
    except FiveoSyncError as exc:
        return [Check.failed(PLATFORM, "reachable", f"{host}: {exc}",
                             "check that servicenow.instance_url is the instance's base URL",
                             remedy_of(exc))]
    if status not in (401, 403) and not (isinstance(body, dict)
                                         and ("result" in body or "error" in body)):
        return [Check.failed(PLATFORM, "reachable", f"{host} did not answer like ServiceNow's "
                             f"Table API (HTTP {status})", "check servicenow.instance_url: the "
                             "instance base URL, e.g. https://acme.service-now.com", "config")]
    reachable = Check.passed(PLATFORM, "reachable", f"{host} answered")
    if status == 401:
        return [reachable, Check.failed(PLATFORM, "credentials",
                                        f"HTTP 401: the instance refused {section.auth} auth"
                                        + (f" for {user}" if user else ""),
                                        _credential_fix(section), "permission")]
    who = f"{user} ({section.auth})" if user else f"OAuth client {section.client_id}"
    return [reachable, Check.passed(PLATFORM, "credentials", f"accepted for {who}")]


def _credential_fix(section: Any) -> str:
    if section.auth == "basic":
        what = "servicenow.username and servicenow.password"
    elif section.auth == "oauth_password":
        what = "servicenow.username, password, client_id and client_secret"
    else:
        what = ("servicenow.client_id and client_secret, and the OAuth application user "
                "(client credentials must be enabled on the instance)")
    return (f"check {what}; the user must be active, not locked out, and allowed to use "
            f"web services ({SECURITY_DOC})")


def _reads(section: Any) -> list[tuple[str, list[str]]]:
    fields = default_fields()
    reads = [(stream, list(fields.get(stream, ["sys_id"]))) for stream in section.streams]
    # Deletions come from the audit table (servicenow-api.md §15).
    reads.append(("sys_audit_delete", ["tablename", "documentkey", "sys_created_on"]))
    return reads


def _read(client: ServiceNowClient, table: str, fields: list[str]) -> Check:
    name = f"read {table}"
    fix = f"give the integration user read access to {table}: " \
          f"{_READ_HINTS.get(table, 'a read ACL')} ({SECURITY_DOC})"
    try:
        status, body = probe_request(client.http, "GET", _url(client, table), params={
            "sysparm_limit": "1", "sysparm_fields": ",".join(fields),
            "sysparm_no_count": "true", "sysparm_exclude_reference_link": "true"})
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), fix, remedy_of(exc))
    if status in (401, 403):
        return Check.failed(PLATFORM, name, f"HTTP {status}: read denied", fix, "permission")
    if status == 400:
        return Check.failed(PLATFORM, name, f"HTTP 400: no table {table} on this instance",
                            f"remove {table} from servicenow.streams or install its plugin",
                            "config")
    rows = _result(body) if status == 200 else []
    if not rows:
        return Check.passed(PLATFORM, name, "readable (no record visible to check the fields)")
    missing = sorted(set(fields) - set(rows[0]))
    if missing:
        return Check.failed(PLATFORM, name, f"fields not returned: {', '.join(missing)}",
                            f"grant read on {table}.{{{','.join(missing)}}} (field ACLs) or "
                            "check the fields exist on this instance", "permission")
    return Check.passed(PLATFORM, name, f"readable, {len(fields)} fields visible")


def _write_checks(client: ServiceNowClient, section: Any) -> list[Check]:
    write = section.write
    target = _read_target(client, write.table)
    if not target.ok:
        return [target]
    if write.mode == "import_set":
        return [target, _import_probe(client, write.table, write.staging_table)]
    return [target, *_table_probe(client, write.table)]


def _read_target(client: ServiceNowClient, table: str) -> Check:
    name = f"read {table}"
    try:
        status, _ = probe_request(client.http, "GET", _url(client, table), params={
            "sysparm_limit": "1", "sysparm_fields": "sys_id", "sysparm_no_count": "true"})
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), f"see {TABLE_DOC}", remedy_of(exc))
    if status == 400:
        return Check.failed(PLATFORM, name, f"HTTP 400: table {table} does not exist",
                            f"create {table} as {TABLE_DOC} describes, or set "
                            "servicenow.write.table", "config")
    if status in (401, 403):
        return Check.failed(PLATFORM, name, f"HTTP {status}: read denied",
                            f"grant the u_fiveo_integration role ({SECURITY_DOC})", "permission")
    return Check.passed(PLATFORM, name, "readable (existing records are compared before "
                                        "writing)")


def _probe_record(key: str) -> dict[str, str]:
    return {"u_key": key, "u_name": "fiveo-sync doctor probe", "u_status": "probe",
            "u_run_id": "doctor"}


def _table_probe(client: ServiceNowClient, table: str) -> list[Check]:
    """Create, update and delete a probe record; check the columns on the way."""
    key = PROBE_PREFIX + secrets.token_hex(8)
    url = _url(client, table)
    grant = f"grant create and write on {table} (role u_fiveo_integration, {SECURITY_DOC})"
    try:
        status, body = probe_request(
            client.http, "POST", url, json=_probe_record(key),
            params={"sysparm_fields": ",".join(("sys_id", *COLUMNS)),
                    "sysparm_input_display_value": "false"})
    except FiveoSyncError as exc:
        return [Check.failed(PLATFORM, f"create in {table}", str(exc), grant, remedy_of(exc))]
    if status != 201:
        return [Check.failed(PLATFORM, f"create in {table}",
                             f"HTTP {status}: create denied", grant, "permission")]
    record = _result(body)
    record = record if isinstance(record, dict) else {}
    sys_id = str(record.get("sys_id") or "")
    checks = [Check.passed(PLATFORM, f"create in {table}", "probe record created")]
    missing = [c for c in COLUMNS if c not in record]
    if missing:
        checks.append(Check.failed(PLATFORM, f"columns of {table}",
                                   f"missing or unreadable: {', '.join(missing)}",
                                   f"add the columns listed in {TABLE_DOC}", "config"))
    else:
        checks.append(Check.passed(PLATFORM, f"columns of {table}",
                                   f"all {len(COLUMNS)} write-back columns present"))
    try:
        status, _ = probe_request(client.http, "PATCH", f"{url}/{sys_id}",
                                  json={"u_status": "probe"})
        if status == 200:
            checks.append(Check.passed(PLATFORM, f"update in {table}", "probe record updated"))
        else:
            checks.append(Check.failed(PLATFORM, f"update in {table}",
                                       f"HTTP {status}: write denied", grant,
                                       "permission"))
    except FiveoSyncError as exc:
        checks.append(Check.failed(PLATFORM, f"update in {table}", str(exc), grant,
                                   remedy_of(exc)))
    checks.append(_remove_probe(client, table, sys_id, key))
    return checks


def _remove_probe(client: ServiceNowClient, table: str, sys_id: str, key: str) -> Check:
    name = "remove probe record"
    fix = (f"delete the {table} record u_key={key} by hand, or allow the integration user to "
           f"delete records whose u_key starts with {PROBE_PREFIX} ({SECURITY_DOC})")
    try:
        status, _ = probe_request(client.http, "DELETE", f"{_url(client, table)}/{sys_id}")
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), fix, remedy_of(exc))
    if status in (200, 204):
        return Check.passed(PLATFORM, name, "probe deleted, nothing left behind")
    return Check.failed(PLATFORM, name, f"HTTP {status}: delete denied", fix,
                        "permission")


def _import_probe(client: ServiceNowClient, table: str, staging: str) -> Check:
    """Insert a probe row into the staging table; the transform should ignore it."""
    name = f"import into {staging}"
    key = PROBE_PREFIX + secrets.token_hex(8)
    grant = (f"grant the import_transformer role and create on {staging} "
             f"(role u_fiveo_integration, {SECURITY_DOC})")
    try:
        status, body = probe_request(
            client.http, "POST", f"{client.base_url}/api/now/import/{quote(staging)}",
            json=_probe_record(key))
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), grant, remedy_of(exc))
    if status in (401, 403):
        return Check.failed(PLATFORM, name, f"HTTP {status}: import denied", grant, "permission")
    if status in (400, 404):
        return Check.failed(PLATFORM, name, f"HTTP {status}: no import set table {staging}",
                            f"create {staging} and its transform map as "
                            "deploy/servicenow/import-set.md describes", "config")
    rows = _result(body)
    row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    outcome = str(row.get("status") or "")
    if outcome in ("ignored", "skipped"):
        return Check.passed(PLATFORM, name, "probe row staged; the transform ignored it")
    if outcome in ("inserted", "updated"):
        removed = _remove_probe(client, table, str(row.get("sys_id") or ""), key)
        if not removed.ok:
            return Check.failed(PLATFORM, name, f"the probe reached {table} and stayed there: "
                                f"{removed.detail}", removed.fix, "permission")
        return Check.passed(PLATFORM, name, f"probe row transformed into {table} and deleted "
                            "there (add the probe filter of import-set.md to keep it staged)")
    message = row.get("error_message") or row.get("status_message") or outcome or "no status"
    return Check.failed(PLATFORM, name, f"transform answered: {message}",
                        "check the transform map and its coalesce on u_key "
                        "(deploy/servicenow/import-set.md)", "data")


def _result(body: Any) -> Any:
    """The ``result`` member of a ServiceNow answer (a list or a record), or ``[]``."""
    return body.get("result") or [] if isinstance(body, dict) else []
