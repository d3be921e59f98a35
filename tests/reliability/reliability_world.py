"""A small organisation in both sandboxes, fast-retry settings, and its comparable end state.

Every reliability test starts the two sandboxes from the same seed and counts, so a faulted
run can be compared with a fault-free run of the very same data. The end state leaves out
what legitimately differs between two runs (run ids, computation times, sandbox sys_ids and
issue keys) and keeps everything a lost, duplicated or corrupted record would change.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.settings import HttpSettings, Settings

WORLD_NOW = datetime(2025, 4, 3, 0, 0, tzinfo=UTC)
SEED = 23
# Small enough that one run takes about a second, large enough for several list pages.
# Services and products stay those of the shipped portfolio mapping.
COUNTS = {"incidents": 240, "changes": 60, "problems": 20, "jira_issues": 160,
          "history_days": 60}
PAGE_SIZE = 50
BACKFILL_DAYS = 20
# Injected "slow" answers take 2 s (ServiceNow) and 0.2 s (Jira): the timeout sits below
# both so every slow answer is a client timeout, and retries back off for milliseconds.
FAST_HTTP = HttpSettings(timeout_s=0.15, max_attempts=10, max_wait_s=2.0, budget_s=60.0,
                         backoff_s=0.01, concurrency=2)
SN_INDICATOR_TABLE = "u_fiveo_indicator"
# Columns that differ between two correct runs of the same data.
SN_VOLATILE = frozenset({"sys_id", "sys_created_on", "sys_updated_on", "sys_created_by",
                         "sys_updated_by", "sys_mod_count", "u_run_id", "u_computed_at"})
_INSTANT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
RUN_WINDOW = timedelta(minutes=20)
# The scorecard digest hashes the description, whose evidence links name the sandbox's URL
# (a new port each start); the results it covers are compared themselves.
PROPERTY_VOLATILE = frozenset({"run_id", "computed_at", "written_at", "generated_at", "digest"})


def real_now() -> datetime:
    """The current minute, UTC: the world's "now" for runs that use the real clock."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class Platforms:
    """Both running sandboxes and the settings of a run against them."""

    sn: ServiceNowSandbox
    jira: JiraSandbox
    settings: Settings
    out_dir: Path

    def clock(self) -> datetime:
        """The sandboxes' shared clock (they start at the same instant)."""
        return self.sn.clock()

    @property
    def secrets(self) -> dict[str, str]:
        """Every secret these platforms accept, by name."""
        found = {f"servicenow_{name}": value[1]
                 for name, value in self.sn.credentials.items()}
        found.update({f"jira_{name}": value for name, value in self.jira.credentials.items()
                      if name in ("api_token", "pat", "password")})
        found.update(self.sn_bearer_tokens())
        return found

    def sn_bearer_tokens(self) -> dict[str, str]:
        """OAuth access and refresh tokens the ServiceNow sandbox issued so far."""
        auth = self.sn.auth
        tokens = {f"servicenow_access_{i}": t for i, t in enumerate(auth._access)}
        tokens.update({f"servicenow_refresh_{i}": t for i, t in enumerate(auth._refresh)})
        return tokens


@contextmanager
def start_platforms(out_dir: Path, *, oauth: bool = False, http: HttpSettings = FAST_HTTP,
                    deployment: str = "cloud", now: datetime = WORLD_NOW
                    ) -> Iterator[Platforms]:
    """Both sandboxes (seed :data:`SEED`, :data:`COUNTS`) and settings pointing at them.

    Args:
        out_dir: where the state store and dashboard go.
        oauth: ServiceNow in OAuth client-credentials mode instead of basic auth.
        http: retry and timeout settings of the run.
        deployment: the Jira deployment.
        now: the world's "now" (a CLI run in a subprocess uses the real clock, so its
            tests pass :func:`real_now`).
    """
    # HTTPS from the shared sandbox CA, verified as in production (http.ca_bundle).
    with ServiceNowSandbox(seed=SEED, now=now, tls=True, **COUNTS) as sn, \
            JiraSandbox(seed=SEED, now=now, deployment=deployment, tls=True, **COUNTS) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out_dir,
                                                             deployment=deployment))
        sn_settings = settings.servicenow.model_copy(update={"page_size": PAGE_SIZE})
        if oauth:
            client_id, client_secret = sn.credentials["oauth_client"]
            sn_settings = sn_settings.model_copy(update={
                "auth": "oauth_client_credentials", "client_id": client_id,
                "client_secret": SecretStr(client_secret), "username": None,
                "password": None})
        # A short backfill keeps the write-back to a few hundred records.
        sync = settings.sync.model_copy(update={"backfill_days": BACKFILL_DAYS})
        http = http.model_copy(update={"verify": True, "ca_bundle": Path(sn.ca_bundle)})
        settings = settings.model_copy(update={"servicenow": sn_settings, "http": http,
                                               "sync": sync})
        yield Platforms(sn, jira, settings, out_dir)


def settings_env(platforms: Platforms) -> dict[str, str]:
    """The settings of ``platforms`` as ``FIVEO_…`` environment variables (for the CLI)."""
    s = platforms.settings
    env = {
        "FIVEO_SERVICENOW__INSTANCE_URL": s.servicenow.instance_url,
        "FIVEO_SERVICENOW__USERNAME": s.servicenow.username or "",
        "FIVEO_SERVICENOW__PASSWORD": s.servicenow.password.get_secret_value(),
        "FIVEO_SERVICENOW__PAGE_SIZE": str(s.servicenow.page_size),
        "FIVEO_JIRA__URL": s.jira.url,
        "FIVEO_JIRA__DEPLOYMENT": s.jira.deployment,
        "FIVEO_JIRA__EMAIL": s.jira.email or "",
        "FIVEO_JIRA__API_TOKEN": s.jira.api_token.get_secret_value(),
        "FIVEO_STATE__PATH": str(s.state.path),
        "FIVEO_MAPPINGS__DIR": str(s.mappings.dir),
        "FIVEO_REPORT__DIR": str(s.report.dir),
        "FIVEO_SYNC__LAG_S": str(s.sync.lag_s),
        "FIVEO_SYNC__OVERLAP_S": str(s.sync.overlap_s),
        "FIVEO_SYNC__BACKFILL_DAYS": str(s.sync.backfill_days),
    }
    for name, value in s.http.model_dump().items():
        if name in ("timeout_s", "max_attempts", "max_wait_s", "budget_s", "backoff_s",
                    "concurrency"):
            env[f"FIVEO_HTTP__{name.upper()}"] = str(value)
    if s.http.ca_bundle is not None:
        env["FIVEO_HTTP__VERIFY"] = "true"
        env["FIVEO_HTTP__CA_BUNDLE"] = str(s.http.ca_bundle)
    return env


# -- end state -------------------------------------------------------------------------------


def stored_state(state_path: Path, urls: tuple[str, ...] = ()) -> dict[str, Any]:
    """The store's records (with payloads) and bookmarks, read without the product's code.

    Payloads carry the sandboxes' URLs (``self`` links), which change with every start:
    they are replaced by ``<url>``. Bookmarks keep their positions exactly; per-record
    content digests are reduced to the set of keys they cover (the records' content is
    already compared).
    """
    conn = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT source, stream, key, updated, payload FROM records")
        records = {f"{source}.{stream}:{key}": (updated, _unurl(payload, urls))
                   for source, stream, key, updated, payload in rows}
        bookmarks = {f"{source}.{stream}": _undigest(json.loads(value)) for source, stream, value in
                     conn.execute("SELECT source, stream, value FROM bookmarks")}
    finally:
        conn.close()
    return {"records": records, "bookmarks": bookmarks}


def _unurl(text: str, urls: tuple[str, ...]) -> str:
    for url in urls:
        text = text.replace(url, "<url>")
    return text


def _undigest(bookmark: Any) -> Any:
    if isinstance(bookmark, dict) and isinstance(bookmark.get("digests"), dict):
        return {**bookmark, "digests": sorted(bookmark["digests"])}
    return bookmark


def servicenow_written(platforms: Platforms) -> dict[str, dict[str, str]]:
    """The indicator records in ServiceNow by ``u_key``; fails on a duplicate key."""
    rows = platforms.sn.table(SN_INDICATOR_TABLE)
    dupes = [k for k, n in Counter(r["u_key"] for r in rows).items() if n > 1]
    assert not dupes, f"duplicate ServiceNow indicator records: {dupes[:5]}"
    return {row["u_key"]: {c: v for c, v in row.items() if c not in SN_VOLATILE}
            for row in rows}


def jira_written(platforms: Platforms) -> dict[str, Any]:
    """Scorecard issues by project (summary, labels, property); fails on a duplicate."""
    label = platforms.settings.jira.scorecard.label
    cards = [i for i in platforms.jira.data.iter_issues() if label in i.labels]
    dupes = [p for p, n in Counter(c.project for c in cards).items() if n > 1]
    assert not dupes, f"duplicate Jira scorecards in projects {dupes}"
    written = {}
    for card in cards:
        prop = platforms.jira.properties.get((str(card.id), "fiveo.scorecard"))
        written[card.project] = {"summary": card.summary, "labels": sorted(card.labels),
                                 "property": _strip(prop)}
    return written


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in PROPERTY_VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def end_state(platforms: Platforms) -> dict[str, Any]:
    """Everything a run leaves behind that must not depend on faults.

    Instants stamped from the running clocks during the run (the first minutes after the
    world's "now", in any of the platforms' formats) read ``<now>``: two correct runs
    differ in them by the second they happened to run at.
    """
    urls = (platforms.sn.url, platforms.jira.url)
    state = {"store": stored_state(platforms.settings.state.path, urls),
             "servicenow": servicenow_written(platforms),
             "jira": jira_written(platforms)}
    start = platforms.sn.world.now

    def blur(match: re.Match[str]) -> str:
        text = match.group(0)
        moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return "<now>" if start <= moment <= start + RUN_WINDOW else text

    # Written evidence links name the sandboxes' URLs, whose ports change with every start.
    return json.loads(_INSTANT.sub(blur, _unurl(json.dumps(state), urls)))


def diff_summary(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """A short human description of how two end states differ ("" when equal)."""
    lines = []
    for part in ("store", "servicenow", "jira"):
        want, got = expected[part], actual[part]
        if part == "store":
            for sub in ("records", "bookmarks"):
                lines += _dict_diff(f"store.{sub}", want[sub], got[sub])
        else:
            lines += _dict_diff(part, want, got)
    return "\n".join(lines[:30])


def _dict_diff(name: str, want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    lines = []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if missing:
        lines.append(f"{name}: {len(missing)} missing, e.g. {missing[:3]}")
    if extra:
        lines.append(f"{name}: {len(extra)} unexpected, e.g. {extra[:3]}")
    for key in changed[:5]:
        lines.append(f"{name}[{key}]: expected {str(want[key])[:200]} got {str(got[key])[:200]}")
    if len(changed) > 5:
        lines.append(f"{name}: {len(changed)} differ in all")
    return lines
