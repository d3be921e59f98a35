"""``fiveo-sync doctor`` probes for Jira: site, account, time zone, permissions, story points.

Platform facts relied on (jira-api.md):

- §1: ``GET /rest/api/2/serverInfo`` names the deployment (``deploymentType: Cloud`` or
  anything else for Data Center).
- §4, §9: ``GET /rest/api/{2,3}/myself`` returns the account and its profile ``timeZone``;
  JQL reads zone-less dates in that zone. Cloud may answer bad credentials with 404
  instead of 401 (§8).
- ``GET /rest/api/2/mypermissions?projectKey=K&permissions=A,B`` answers
  ``{"permissions": {"A": {"havePermission": true, ...}}}`` for the calling account, on
  Cloud and Data Center, without touching any issue: the scorecards need Browse Projects,
  Create Issues, Edit Issues (labels, description, entity property) and Add Comments (§6, §9).
- §5.3: a board's story-points field is ``estimation.field.fieldId`` of
  ``/rest/agile/1.0/board/{id}/configuration`` when ``estimation.type`` is ``field``; the
  fallback is a ``/field`` named "Story Points" or "Story point estimate".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.jira.agile import AGILE
from connectors.jira.client import STORY_POINT_NAMES, JiraApi
from fiveo_sync.doctor import Check, build_probe_policy, probe_request, remedy_of
from fiveo_sync.errors import FiveoSyncError, UnavailableError

PLATFORM = "jira"
JIRA_DOC = "deploy/jira/README.md"
PERMISSIONS = {
    "BROWSE_PROJECTS": "Browse Projects",
    "CREATE_ISSUES": "Create Issues",
    "EDIT_ISSUES": "Edit Issues",
    "ADD_COMMENTS": "Add Comments",
}


def run_checks(settings: Any, projects: Iterable[str], boards: Iterable[int], *,
               sleep: Callable[[float], None] = time.sleep) -> list[Check]:
    """Every Jira check, in order.

    Args:
        settings: fiveo-sync settings (``jira`` and ``http`` are used).
        projects: the Jira project keys of the portfolio's products.
        boards: the board ids of the portfolio's products.
        sleep: the retry layer's wait.
    """
    try:
        api = JiraApi(settings.jira, settings.http, sleep=sleep)
    except FiveoSyncError as exc:
        return [Check.failed(PLATFORM, "credentials", str(exc),
                             "set jira.email and jira.api_token (Cloud) or jira.pat (Data "
                             "Center) from the environment or FIVEO_SECRETS_DIR", remedy_of(exc))]
    api.http.policy = build_probe_policy(settings.http)
    try:
        site, cloud = _site(api)
        if not site.ok:
            return [site]
        account, me = _account(api, cloud)
        checks = [site, account]
        if not account.ok:
            return checks
        checks.append(_time_zone(me))
        wanted = sorted(set(projects) | set(settings.jira.projects))
        if not wanted:
            checks.append(Check.failed(PLATFORM, "projects", "no Jira project in the portfolio",
                                       "list the products' jira_projects in "
                                       "mappings/portfolio.yaml", "config"))
        checks += [_permissions(api, key) for key in wanted]
        checks += [_story_points(api, board) for board in sorted(set(boards))]
        return checks
    finally:
        api.close()


def _site(api: JiraApi) -> tuple[Check, bool]:
    """Reachability and deployment from ``/serverInfo``."""
    try:
        status, info = probe_request(api.http, "GET", f"{api.base}/rest/api/2/serverInfo")
    except UnavailableError as exc:
        return Check.failed(PLATFORM, "reachable", f"{api.base}: {exc.message}",
                            "check jira.url, DNS, the firewall or proxy to the site, and TLS "
                            "trust (http.ca_bundle)", "unreachable"), False
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, "reachable", f"{api.base}: {exc}",
                            "check that jira.url is the site's base URL", remedy_of(exc)), False
    if status not in (401, 403) and not (isinstance(info, dict) and "deploymentType" in info):
        return Check.failed(PLATFORM, "reachable", f"no Jira REST API at {api.base} "
                            f"(HTTP {status})", "check jira.url (include a context path such as "
                            "/jira if the site has one)", "config"), False
    info = info if isinstance(info, dict) else {}
    cloud = info.get("deploymentType") == "Cloud"
    kind = "Cloud" if cloud else f"Data Center {info.get('version', '')}".strip()
    configured = api.settings.deployment
    if configured != "auto" and (configured == "cloud") != cloud:
        return Check.failed(PLATFORM, "reachable", f"the site is Jira {kind} but "
                            f"jira.deployment is {configured}",
                            "set jira.deployment to auto", "config"), cloud
    return Check.passed(PLATFORM, "reachable", f"{api.base} is Jira {kind}"), cloud


def _account(api: JiraApi, cloud: bool) -> tuple[Check, dict[str, Any]]:
    """Credentials from ``/myself``."""
    prefix = "/rest/api/3" if cloud else "/rest/api/2"
    fix = ("check jira.email and jira.api_token (an unscoped API token of an active account)"
           if cloud else "check jira.pat (a personal access token of an active account)")
    try:
        status, me = probe_request(api.http, "GET", f"{api.base}{prefix}/myself")
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, "credentials", str(exc), fix, remedy_of(exc)), {}
    # Cloud answers some credential failures with 404 (jira-api.md §8).
    if status in (401, 403, 404):
        return Check.failed(PLATFORM, "credentials", f"HTTP {status}: the site "
                            "refused the account", fix, "permission"), {}
    me = me if isinstance(me, dict) else {}
    who = me.get("displayName") or me.get("name") or "?"
    ident = me.get("accountId") or me.get("name") or me.get("key") or "?"
    return Check.passed(PLATFORM, "credentials", f"accepted for {who} ({ident})"), me


def _time_zone(me: dict[str, Any]) -> Check:
    name = me.get("timeZone")
    fix = "set a time zone in the account's Jira profile"
    if not name:
        return Check.failed(PLATFORM, "user time zone", "the account has no time zone", fix,
                            "data")
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return Check.failed(PLATFORM, "user time zone", f"unknown time zone {name!r}", fix,
                            "data")
    return Check.passed(PLATFORM, "user time zone",
                        f"{name} (incremental JQL dates are written in this zone)")


def _permissions(api: JiraApi, project: str) -> Check:
    name = f"permissions {project}"
    fix_browse = (f"check the project key {project} in mappings/portfolio.yaml and grant "
                  f"Browse Projects in its permission scheme ({JIRA_DOC})")
    try:
        status, body = probe_request(
            api.http, "GET", f"{api.base}/rest/api/2/mypermissions",
            params={"projectKey": project, "permissions": ",".join(PERMISSIONS)})
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), fix_browse, remedy_of(exc))
    if status != 200 or not isinstance(body, dict):
        message = _message(body) or f"HTTP {status}"
        return Check.failed(PLATFORM, name, f"cannot read permissions: {message}", fix_browse,
                            "permission" if status in (401, 403, 404) else "data")
    granted = body.get("permissions") or {}
    missing = [label for key, label in PERMISSIONS.items()
               if not (granted.get(key) or {}).get("havePermission")]
    if missing:
        return Check.failed(PLATFORM, name, f"missing {', '.join(missing)}",
                            f"grant {', '.join(missing)} in {project}'s permission scheme to "
                            f"the integration account ({JIRA_DOC})", "permission")
    return Check.passed(PLATFORM, name, ", ".join(PERMISSIONS.values()))


def _story_points(api: JiraApi, board: int) -> Check:
    name = f"story points board {board}"
    try:
        status, config = probe_request(
            api.http, "GET", f"{api.base}{AGILE}/board/{board}/configuration")
        if status != 200:
            return Check.failed(PLATFORM, name, f"board {board} not found or not visible "
                                f"(HTTP {status})",
                                "check the board id in mappings/portfolio.yaml and that the "
                                "account can browse the board's filter and project", "permission")
        fields = {str(f.get("id")): str(f.get("name", "")) for f in api.fields()}
    except FiveoSyncError as exc:
        return Check.failed(PLATFORM, name, str(exc), f"see {JIRA_DOC}", remedy_of(exc))
    config = config if isinstance(config, dict) else {}
    label = f"{config.get('name', board)} ({config.get('type', '?')})"
    setting = api.settings.story_points_field
    if setting != "auto":
        if setting in fields:
            return Check.passed(PLATFORM, name, f"{label}: {setting} ({fields[setting]}) from "
                                "jira.story_points_field")
        return Check.failed(PLATFORM, name, f"{label}: jira.story_points_field {setting} is "
                            "not a field of this site", "set jira.story_points_field to auto "
                            "or to an existing field id", "config")
    estimation = config.get("estimation") or {}
    field_id = str((estimation.get("field") or {}).get("fieldId") or "")
    if estimation.get("type") == "field" and field_id:
        shown = fields.get(field_id) or (estimation.get("field") or {}).get("displayName", "?")
        return Check.passed(PLATFORM, name, f"{label}: {field_id} ({shown})")
    if config.get("type") == "kanban":
        return Check.passed(PLATFORM, name, f"{label}: no estimation field (kanban boards need "
                            "none)")
    by_name = [fid for fid, fname in fields.items()
               if fname.lower() in {n.lower() for n in STORY_POINT_NAMES}]
    if by_name:
        return Check.passed(PLATFORM, name, f"{label}: not set on the board; using {by_name[0]} "
                            f"({fields[by_name[0]]}) by name")
    return Check.failed(PLATFORM, name, f"{label}: no story-points field found",
                        "set the board's estimation to Story Points, or set "
                        "jira.story_points_field to the field id", "config")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        messages = list(body.get("errorMessages") or [])
        if isinstance(body.get("errors"), dict):
            messages += [f"{k}: {v}" for k, v in body["errors"].items()]
        return "; ".join(str(m) for m in messages)
    return ""
