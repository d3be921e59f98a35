"""Acceptance at 50,000 incidents: exact first pull, cheap no-change pull, exact third pull."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.state import StateStore

STREAMS = ["incident", "change_request", "problem", "cmdb_ci_service", "sys_user"]


@pytest.fixture(scope="module")
def big() -> Iterator[ServiceNowSandbox]:
    from datetime import UTC, datetime
    with ServiceNowSandbox(seed=5, now=datetime(2025, 3, 3, 12, tzinfo=UTC),
                           incidents=50_000, tls=True) as sandbox:
        yield sandbox


@pytest.mark.slow
def test_fifty_thousand_incidents_pull_exactly_then_incrementally(
        big: ServiceNowSandbox, tmp_path: Path, sn) -> None:
    conn = sn.connect(big, page_size=2000)
    with StateStore(tmp_path / "state.sqlite") as store:
        sn.pull(conn, store, STREAMS)
        # and 18 security incidents (3 a month over 6 months of history)
        assert store.count_records("servicenow", "incident") == 50_018
        for stream in STREAMS:
            assert store.record_versions("servicenow", stream) == sn.versions(big, stream)

        big.advance(120)
        made = sn.pull(conn, store, STREAMS)
        assert all(count <= 2 for count in made.values()), made

        incidents = big.table("incident")
        for row in incidents[100:110]:
            big.update("incident", row["sys_id"], state="7")
        new = [big.create("incident", short_description=f"new {i}")["sys_id"] for i in range(5)]
        for row in incidents[200:203]:
            big.delete("incident", row["sys_id"])
        big.advance(120)
        sn.pull(conn, store, STREAMS)
        assert store.record_versions("servicenow", "incident") == sn.versions(big, "incident")
        assert set(new) <= set(store.record_versions("servicenow", "incident"))
