"""Executes Jira scorecard plans: find, create or edit issues, their property and comments.

Platform facts relied on (jira-api.md):

- §1: Cloud is detected from ``/rest/api/2/serverInfo`` (``deploymentType: Cloud``); Cloud
  rich text goes through REST v3 as ADF, Data Center through v2 as wiki markup.
- §2: Cloud searches with ``/rest/api/3/search/jql`` (``nextPageToken`` paging); Data
  Center with ``/rest/api/2/search`` (``startAt``/``total``).
- §6: ``POST /issue`` has no idempotency key, so scorecards are found first by label and the
  ``fiveo.scorecard`` entity property (≤ 32 768 characters, PUT = upsert); an issue with the
  label in the project but no property is one a crashed run created before writing the
  property, and it is adopted rather than duplicated. ``PUT /issue/{key}`` edits fields and
  labels (204); ``POST /issue/{key}/comment`` adds a comment (201).
- Notifications: an edit emails the issue's watchers unless ``?notifyUsers=false`` is
  sent, which needs *Administer Jira* or *Administer Projects*. Without it Jira rejects
  the whole edit (403 "To discard the user notification either admin or project admin
  permissions are required."; the docs say "ignored", Cloud and Data Center answer 403),
  so the edit is sent once more without the parameter and, for the rest of the run,
  edits go without it (one warning says what to grant). A comment always notifies: it
  is the one notification of a run that changed a status. Creating an issue notifies
  once, per the project's notification scheme.
- §7: writes to one issue are limited (about 20 per 2 s, 429 ``jira-per-issue-on-write``):
  writes to the same issue are paced here, and a 429 is retried by ``HttpClient`` after
  ``Retry-After``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import WriteOutcome, WriteReport
from connectors.http import HttpClient
from fiveo_sync.errors import DataError, FiveoSyncError, UnavailableError
from fiveo_sync.writers.jira import PROPERTY_KEY, TARGET, CurrentScorecard, property_json
from fiveo_sync.writers.plan import Plan, WriteOp

log = structlog.get_logger(__name__)


class IssuePacer:
    """Spaces writes to the same issue by at least ``min_interval_s``.

    Args:
        min_interval_s: the smallest gap between two writes to one issue (0.15 s keeps
            well under 20 writes per 2 s).
        sleep: injectable for tests.
        monotonic: injectable for tests.
    """

    def __init__(self, min_interval_s: float = 0.15, *,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.min_interval_s = min_interval_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[str, float] = {}

    def wait(self, issue: str) -> None:
        """Block until another write to ``issue`` is allowed, then record it."""
        last = self._last.get(issue)
        if last is not None:
            gap = self.min_interval_s - (self._monotonic() - last)
            if gap > 0:
                self._sleep(gap)
        self._last[issue] = self._monotonic()


def detect_flavour(http: HttpClient, base_url: str, deployment: str = "auto") -> str:
    """``adf`` for Jira Cloud, ``wiki`` for Data Center (asks serverInfo when ``auto``)."""
    if deployment == "cloud":
        return "adf"
    if deployment == "datacenter":
        return "wiki"
    _, info = http.request("GET", f"{base_url.rstrip('/')}/rest/api/2/serverInfo")
    return "adf" if (info or {}).get("deploymentType") == "Cloud" else "wiki"


def _api(base_url: str, flavour: str) -> str:
    return f"{base_url.rstrip('/')}/rest/api/{'3' if flavour == 'adf' else '2'}"


def jql_string(text: str) -> str:
    """``text`` as a quoted JQL string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def iter_issues(http: HttpClient, api: str, flavour: str, jql: str, *,
                fields: str = "summary,labels,project") -> Iterator[dict[str, Any]]:
    """Every issue a JQL search finds (Cloud token paging, DC offset paging)."""
    params: dict[str, str] = {"jql": jql, "fields": fields, "maxResults": "100"}
    if flavour == "adf":
        while True:
            _, body = http.request("GET", f"{api}/search/jql", params=params)
            yield from (body or {}).get("issues") or []
            token = (body or {}).get("nextPageToken")
            if not token or (body or {}).get("isLast"):
                return
            params["nextPageToken"] = token
    start = 0
    while True:
        _, body = http.request("GET", f"{api}/search", params={**params, "startAt": str(start)})
        issues = (body or {}).get("issues") or []
        yield from issues
        start += len(issues)
        if not issues or start >= int((body or {}).get("total") or 0):
            return


def fetch_current(http: HttpClient, base_url: str, *, flavour: str, label: str,
                  projects: Mapping[str, str]) -> dict[str, CurrentScorecard]:
    """Find the scorecard issue of each product.

    Args:
        http: the Jira HTTP client.
        base_url: the site URL.
        flavour: ``adf`` (Cloud) or ``wiki`` (Data Center).
        label: the scorecard label.
        projects: Jira project key → product id, for the products that get a scorecard.

    Returns:
        Product id → the scorecard issue found (products without one are absent).
    """
    if not projects:
        return {}
    api = _api(base_url, flavour)
    keys = ", ".join(jql_string(k) for k in sorted(projects))
    jql = f"labels = {jql_string(label)} AND project in ({keys}) ORDER BY key ASC"
    claimed: dict[str, tuple[int, int, CurrentScorecard]] = {}
    for issue in iter_issues(http, api, flavour, jql):
        key = str(issue.get("key") or "")
        fields = issue.get("fields") or {}
        response, body = http.request(
            "GET", f"{api}/issue/{quote(key)}/properties/{quote(PROPERTY_KEY)}", accept=(404,))
        value = (body or {}).get("value") if response.status_code != 404 else None
        project = str((fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0])
        if isinstance(value, dict) and value.get("product"):
            product, rank = str(value["product"]), 0
        else:
            product, rank, value = projects.get(project, ""), 1, None
        if product not in projects.values():
            continue
        found = CurrentScorecard(key, str(fields.get("summary") or ""),
                                 tuple(fields.get("labels") or ()), value)
        order = (rank, int(issue.get("id") or 0))
        if product not in claimed or order < claimed[product][:2]:
            claimed[product] = (*order, found)
    log.info("current_scorecards_fetched", platform="jira", found=len(claimed))
    return {product: entry[2] for product, entry in claimed.items()}


def execute_plan(http: HttpClient, base_url: str, plan: Plan, *, flavour: str,
                 pacer: IssuePacer | None = None) -> WriteReport:
    """Carry out the Jira operations of a plan.

    Args:
        http: the Jira HTTP client.
        base_url: the site URL.
        plan: the plan (operations of other targets are ignored).
        flavour: ``adf`` (Cloud, REST v3) or ``wiki`` (Data Center, REST v2).
        pacer: spaces writes per issue; a default one when None.

    Returns:
        One outcome per product: created, updated, unchanged or failed.
    """
    pacer = pacer or IssuePacer()
    api = _api(base_url, flavour)
    report = WriteReport(target=TARGET)
    quiet = QuietEdits()
    for op in plan.for_target(TARGET):
        if not op.writes:
            report.outcomes.append(WriteOutcome(op.key, "unchanged", op.ref))
            continue
        try:
            outcome = _write(http, api, op, pacer, quiet)
        except DataError as exc:
            outcome = WriteOutcome(op.key, "failed", str(exc))
        except FiveoSyncError as exc:  # auth lost or retries exhausted: stop this target
            report.error = str(exc)
            log.error("write_target_failed", platform="jira", error=str(exc))
            break
        report.outcomes.append(outcome)
        log.info("write_applied", platform="jira", product=op.key, action=outcome.action,
                 issue=outcome.detail)
    log.info("plan_executed", platform="jira", created=report.count("created"),
             updated=report.count("updated"), unchanged=report.count("unchanged"),
             failed=report.count("failed"))
    return report


class QuietEdits:
    """Whether scorecard edits may ask Jira not to notify watchers (``notifyUsers=false``).

    Starts allowed; after one edit was refused for it and went through without it, the
    rest of the run sends edits without it.
    """

    def __init__(self) -> None:
        self.allowed = True

    def edit(self, http: HttpClient, url: str, payload: Mapping[str, Any]) -> None:
        """``PUT`` the edit, without notifying watchers where the account may ask that."""
        if self.allowed:
            response, body = http.request("PUT", url, params={"notifyUsers": "false"},
                                          json=payload, accept=(400, 403))
            if response.status_code < 400:
                return
            # Refused: for notifyUsers (project admin missing) or for the edit itself; the
            # same edit without it tells which (a refused edit raises here as usual).
            http.request("PUT", url, json=payload)
            self.allowed = False
            log.warning("jira_notifications_not_suppressed", platform="jira",
                        status=response.status_code, message=_error_text(body),
                        hint="scorecard edits now email the issues' watchers; grant the "
                             "integration account Administer Projects to keep them quiet")
            return
        http.request("PUT", url, json=payload)


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        messages = list(body.get("errorMessages") or []) + [
            f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
        return "; ".join(str(m) for m in messages)[:300]
    return str(body or "")[:300]


def _write(http: HttpClient, api: str, op: WriteOp, pacer: IssuePacer,
           quiet: QuietEdits) -> WriteOutcome:
    fields = op.fields
    if op.action == "create" or not op.ref:
        issue = _create_once(http, api, fields)
        action = "created"
    else:
        issue, action = op.ref, "updated"
        pacer.wait(issue)
        quiet.edit(http, f"{api}/issue/{quote(issue)}", {
            "fields": {"summary": fields["summary"], "description": fields["description"]},
            "update": {"labels": [{"add": label} for label in fields["labels"]]}})
        if fields.get("comment") is not None:
            marker = str(fields.get("comment_marker") or fields["property"]["digest"])
            for attempt in range(1, http.policy.max_attempts + 1):
                try:
                    _comment_once(http, api, issue, fields["comment"], marker, pacer)
                    break
                except UnavailableError as exc:
                    # Lost or cut-off answer to the POST: look for the marker, then retry.
                    if attempt >= http.policy.max_attempts:
                        raise
                    if exc.context.get("failure") == "timeout":
                        time.sleep(http.policy.timeout_s)
    # The property goes last: it records what was written, so a crash before it makes
    # the next run write (and find) everything again rather than believe it is done.
    pacer.wait(issue)
    http.request("PUT", f"{api}/issue/{quote(issue)}/properties/{quote(PROPERTY_KEY)}",
                 data=property_json(fields["property"]).encode("ascii"),
                 headers={"Content-Type": "application/json"})
    return WriteOutcome(op.key, action, issue)


def _create_once(http: HttpClient, api: str, fields: Mapping[str, Any]) -> str:
    """Create the scorecard issue (found again by its label, see :func:`create_issue_once`)."""
    return create_issue_once(http, api, {
        "project": {"key": str(fields["project"])}, "issuetype": {"name": fields["issue_type"]},
        "summary": fields["summary"], "labels": list(fields["labels"]),
        "description": fields["description"]}, label=str(list(fields["labels"])[0]))


def create_issue_once(http: HttpClient, api: str, issue_fields: Mapping[str, Any], *,
                      label: str, search_fields: str = "summary,labels,project") -> str:
    """Create an issue; after an ambiguous failure, adopt it if it landed.

    ``POST /issue`` has no idempotency key: when its answer is lost (5xx, dropped or cut
    off) the issue may exist, so its project is searched for an issue with ``label`` (a
    label only this issue carries) and the POST is sent again only when there is none.

    Args:
        http: the Jira HTTP client.
        api: the REST API base (``…/rest/api/3`` on Cloud, ``…/rest/api/2`` on DC).
        issue_fields: the ``fields`` of the create request (``project`` by key included).
        label: the label that identifies the issue.
        search_fields: the fields the look-up search asks for.

    Returns:
        The key of the created (or adopted) issue.
    """
    project = str(issue_fields["project"]["key"])
    flavour = "adf" if api.endswith("/3") else "wiki"
    attempts = max(1, http.policy.max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            _, created = http.request("POST", f"{api}/issue", json={"fields": dict(issue_fields)})
        except UnavailableError as exc:
            if exc.context.get("failure") == "timeout":
                time.sleep(http.policy.timeout_s)  # it may still be landing
            jql = (f"labels = {jql_string(label)} AND project = {jql_string(project)} "
                   "ORDER BY key ASC")
            landed = [str(i.get("key") or "")
                      for i in iter_issues(http, api, flavour, jql, fields=search_fields)]
            if landed and landed[0]:
                return landed[0]
            if attempt == attempts:
                raise
            continue
        issue = str((created or {}).get("key") or "")
        if not issue:
            raise DataError("jira created an issue but returned no key", platform="jira")
        return issue
    raise AssertionError("unreachable")


def _comment_once(http: HttpClient, api: str, issue: str, body: Any, marker: str,
                  pacer: IssuePacer) -> None:
    """Post the status-change comment unless a comment with the same marker exists."""
    marker = f"fiveo:{marker}"
    _, page = http.request("GET", f"{api}/issue/{quote(issue)}/comment",
                           params={"orderBy": "-created", "maxResults": "50"})
    if any(marker in json.dumps(c.get("body"), ensure_ascii=False)
           for c in _comments(page)):
        return
    pacer.wait(issue)
    # Not retried on 5xx (a POST): a lost comment is posted by the next run, never twice.
    http.request("POST", f"{api}/issue/{quote(issue)}/comment", json={"body": body})


def _comments(page: Any) -> Iterable[dict[str, Any]]:
    return [c for c in (page or {}).get("comments") or [] if isinstance(c, dict)]
