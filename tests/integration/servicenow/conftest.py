"""Sandbox and connector fixtures for ServiceNow integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.tls import verified_http

from connectors.servicenow import build_connector
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.settings import HttpSettings, Settings, SyncSettings
from fiveo_sync.state import StateStore

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def sn_settings(sandbox: ServiceNowSandbox, *, who: str = "integration", auth: str = "basic",
                page_size: int = 1000, timeout_s: float = 5.0, **section: object) -> Settings:
    user, password = sandbox.credentials[who]
    client_id, client_secret = sandbox.credentials["oauth_client"]
    values: dict[str, object] = {"instance_url": sandbox.url, "auth": auth,
                                 "page_size": page_size}
    if auth in ("basic", "oauth_password"):
        values.update(username=user, password=password)
    if auth != "basic":
        values.update(client_id=client_id, client_secret=client_secret)
    values.update(section)
    return Settings(servicenow=ServiceNowSettings(**values),
                    http=verified_http(sandbox, HttpSettings(timeout_s=timeout_s,
                                                             max_attempts=8, backoff_s=0.0)),
                    sync=SyncSettings(overlap_s=300, lag_s=60, backfill_days=400))


def connect(sandbox: ServiceNowSandbox, **kwargs: object):
    settings = sn_settings(sandbox, **kwargs)
    return build_connector(settings, clock=sandbox.clock, sleep=lambda _s: None)


def pull(conn, store: StateStore, streams: list[str] | None = None) -> dict[str, int]:
    """Run the connector into the store; return requests made per stream."""
    made = {}
    for stream in streams or list(conn.streams()):
        before = conn.stats.requests
        for page in conn.iter_pages(stream, store.get_bookmark("servicenow", stream)):
            store.save_page(page)
        made[stream] = conn.stats.requests - before
    return made


def sandbox_versions(sandbox: ServiceNowSandbox, table: str) -> dict[str, str]:
    return {r["sys_id"]: f"{r['sys_updated_on'][:10]}T{r['sys_updated_on'][11:]}Z"
            for r in sandbox.table(table)}


@pytest.fixture
def sandbox() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=11, now=NOW, incidents=1500, changes=300, problems=60,
                           tls=True) as sb:
        yield sb


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(tmp_path / "state.sqlite") as st:
        yield st


@pytest.fixture
def sn() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    return SimpleNamespace(connect=connect, pull=pull, versions=sandbox_versions,
                           settings=sn_settings, now=NOW)
