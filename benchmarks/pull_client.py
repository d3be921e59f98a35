"""One measured pull, run in its own process: ``python -m benchmarks.pull_client '<json>'``.

The sandboxes live in the parent process, the client here, so the two do not share a GIL
(as a real instance and the sync job would not), and the peak memory is the client's alone.
Prints one JSON object: wall time, requests, records, peak memory.

Modes: ``fiveo`` (the connector into a state store, as ``fiveo-sync pull`` does) and
``handwritten`` (what a user without fiveo-sync writes: pysnow ``Resource.get`` with an
``sysparm_offset`` loop; the jira library's ``enhanced_search_issues(maxResults=False,
expand="changelog")`` then per-issue changelog completion). Both store into the same kind
of state store, so the work per record is the same.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from benchmarks.machine import peak_rss_mib
from connectors.base import Page, RawRecord
from fiveo_sync.state import StateStore


class TimedStore:
    """A state store that adds up the time its commits take (the pull's local work)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.seconds = 0.0

    def save_page(self, page: Page) -> None:
        """Commit a page, timed."""
        started = time.perf_counter()
        self.store.save_page(page)
        self.seconds += time.perf_counter() - started


def _clock(spec: dict[str, Any]) -> Callable[[], datetime]:
    """The sandbox clock: its ``now`` at spawn plus the time elapsed since."""
    anchor = datetime.fromisoformat(spec["now"])
    started = time.monotonic()
    return lambda: anchor + timedelta(seconds=time.monotonic() - started)


def _settings(spec: dict[str, Any]) -> Any:
    from connectors.jira.settings import JiraSettings
    from connectors.servicenow.settings import ServiceNowSettings
    from fiveo_sync.settings import HttpSettings, Settings, SyncSettings

    http = HttpSettings(concurrency=spec.get("concurrency", 4))
    sync = SyncSettings(backfill_days=spec.get("backfill_days", 400))
    if spec["platform"] == "servicenow":
        section = ServiceNowSettings(instance_url=spec["url"], username=spec["user"],
                                     password=spec["password"], streams=spec["streams"],
                                     page_size=spec.get("page_size", 1000))
        return Settings(servicenow=section, http=http, sync=sync)
    section = JiraSettings(url=spec["url"], email=spec["user"], api_token=spec["password"],
                           projects=spec["projects"])
    return Settings(jira=section, http=http, sync=sync)


def pull_fiveo(spec: dict[str, Any], store: TimedStore) -> dict[str, int]:
    """The fiveo-sync connector, page by page into the store."""
    settings = _settings(spec)
    if spec["platform"] == "servicenow":
        from connectors.servicenow.factory import build_connector
        connector: Any = build_connector(settings, clock=_clock(spec))
    else:
        from connectors.jira.connector import build_connector as build_jira
        connector = build_jira(settings, clock=_clock(spec))
    records = 0
    for stream in spec["streams"]:
        for page in connector.iter_pages(stream, None):
            store.save_page(page)
            records += len(page.records)
    stats = connector.stats.snapshot()
    connector.close()
    return {"records": records, "requests": stats["requests"]}


def pull_handwritten_servicenow(spec: dict[str, Any], store: TimedStore) -> dict[str, int]:
    """pysnow ``Resource.get`` in an offset loop, one request at a time."""
    import pysnow

    host = spec["url"].split("://", 1)[1]
    client = pysnow.Client(host=host, user=spec["user"], password=spec["password"],
                           use_ssl=False)
    start = (_clock(spec)() - timedelta(days=spec.get("backfill_days", 400)))
    since = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    records = requests = 0
    for table in spec["streams"]:
        resource_ = client.resource(api_path=f"/table/{table}")
        # A careful user: no count, no Link header, only the fields needed.
        resource_.parameters.add_custom({"sysparm_no_count": "true",
                                         "sysparm_suppress_pagination_header": "true",
                                         "sysparm_exclude_reference_link": "true"})
        offset, size = 0, spec.get("page_size", 1000)
        while True:
            response = resource_.get(
                query=f"sys_updated_on>={since}^ORDERBYsys_updated_on^ORDERBYsys_id",
                limit=size, offset=offset, fields=spec["fields"][table])
            rows = response.all()
            rows = list(rows)
            requests += 1
            if not rows:
                break
            store.save_page(Page("servicenow", table, [
                RawRecord(r["sys_id"], r["sys_updated_on"], r) for r in rows]))
            records += len(rows)
            offset += len(rows)
    return {"records": records, "requests": requests}


def pull_handwritten_jira(spec: dict[str, Any], store: TimedStore) -> dict[str, int]:
    """jira library: one sequential search with changelogs, then per-issue completion."""
    from jira import JIRA

    client = JIRA(server=spec["url"], basic_auth=(spec["user"], spec["password"]),
                  timeout=(10, 60))
    requests = 1  # serverInfo at construction
    jql = f"project in ({', '.join(spec['projects'])}) ORDER BY key"
    issues = client.enhanced_search_issues(jql, maxResults=False, expand="changelog")
    requests += -(-len(issues) // 100) + 1  # pages of 100 (plus the /field the library reads)
    batch = []
    for issue in issues:
        raw = issue.raw
        changelog = raw.get("changelog") or {}
        if int(changelog.get("total") or 0) > len(changelog.get("histories") or []):
            histories, start = [], 0
            while True:
                response = client._session.get(
                    f"{spec['url']}/rest/api/3/issue/{raw['id']}/changelog",
                    params={"startAt": start, "maxResults": 100})
                requests += 1
                body = response.json()
                histories += body.get("values") or []
                start += len(body.get("values") or [])
                if body.get("isLast") or not body.get("values"):
                    break
            raw["changelog"] = {"startAt": 0, "maxResults": len(histories),
                                "total": len(histories), "histories": histories}
        batch.append(RawRecord(str(raw["id"]), raw["fields"].get("updated") or "", raw))
        if len(batch) >= 100:
            store.save_page(Page("jira", "issue", batch))
            batch = []
    if batch:
        store.save_page(Page("jira", "issue", batch))
    return {"records": len(issues), "requests": requests}


def main(argv: list[str]) -> int:
    """Run the pull described by ``argv[0]`` (JSON) and print its measurements."""
    spec = json.loads(argv[0])
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)
    baseline = peak_rss_mib()
    with tempfile.TemporaryDirectory(dir=spec.get("state_dir")) as folder:
        with StateStore(Path(folder) / "state.sqlite") as raw_store:
            store = TimedStore(raw_store)
            started = time.perf_counter()
            if spec["mode"] == "fiveo":
                counts = pull_fiveo(spec, store)
            elif spec["platform"] == "servicenow":
                counts = pull_handwritten_servicenow(spec, store)
            else:
                counts = pull_handwritten_jira(spec, store)
            seconds = time.perf_counter() - started
            stored = sum(raw_store.count_records(spec["platform"], s)
                         for s in spec["streams"])
    print(json.dumps({**counts, "seconds": round(seconds, 3), "stored": stored,
                      "store_s": round(store.seconds, 3),
                      "peak_rss_mib": peak_rss_mib(), "baseline_rss_mib": baseline}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
