"""Partitioned ServiceNow backfills: parallel, never ahead of handed-over pages, resumable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.servicenow import build_connector
from connectors.servicenow.partition import build_parts, iter_partitions
from connectors.servicenow.query import build_keyset_query
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.settings import HttpSettings, Settings, SyncSettings
from fiveo_sync.state import StateStore

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
UPPER = "2025-03-03 11:59:00"


def _cursor(row: dict[str, str]) -> tuple[str, str]:
    return row["sys_updated_on"], row["sys_id"]


class FakeTable:
    """Two rows per slice, one per page; records the order of fetches and hand-overs."""

    def __init__(self, parts: list[list[object]], barrier: threading.Barrier | None) -> None:
        self.pages: dict[str, list[dict[str, str]]] = {}
        for index, part in enumerate(parts):
            rows = [{"sys_updated_on": str(part[0]), "sys_id": f"{index}-{n}"} for n in (1, 2)]
            after = None
            for row in rows:
                self.pages[build_keyset_query("sys_updated_on", str(part[0]),
                                              str(part[1] or UPPER), after)] = [row]
                after = _cursor(row)
            self.pages[build_keyset_query("sys_updated_on", str(part[0]),
                                          str(part[1] or UPPER), after)] = []
        self.barrier = barrier
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.calls = 0

    def fetch(self, query: str) -> list[dict[str, str]]:
        with self.lock:
            self.calls += 1
            first_round = self.calls <= (self.barrier.parties if self.barrier else 0)
            self.events.append(("fetch", query))
        if first_round:
            self.barrier.wait(timeout=10)  # breaks unless all first requests are in flight
        return self.pages[query]


def _assert_cursors_only_point_at_handed_rows(parts: list[list[object]],
                                              handed: set[tuple[str, str]]) -> None:
    for part in parts:
        if part[2] is not None:
            assert tuple(part[2]) in handed, "bookmark ahead of the rows handed over"


def test_slices_are_fetched_concurrently_and_cursors_never_run_ahead() -> None:
    parts = build_parts("2025-01-01 00:00:00", UPPER, 4)
    table = FakeTable(parts, threading.Barrier(4))
    handed: set[tuple[str, str]] = set()
    for _, rows in iter_partitions(parts, UPPER, table.fetch, 4, _cursor):
        handed.update(_cursor(r) for r in rows)
        _assert_cursors_only_point_at_handed_rows(parts, handed)
    assert len(handed) == 8
    assert all(part[3] for part in parts)


def test_a_slice_asks_for_its_next_page_only_after_handing_over_the_last_one() -> None:
    parts = build_parts("2025-01-01 00:00:00", UPPER, 3)
    table = FakeTable(parts, None)
    waiting_at_most = 0
    handed: list[tuple[int, list[dict[str, str]]]] = []
    for index, rows in iter_partitions(parts, UPPER, table.fetch, 2, _cursor):
        with table.lock:
            fetched = sum(1 for kind, _ in table.events if kind == "fetch")
        waiting_at_most = max(waiting_at_most, fetched - len(handed))
        # The bookmark handed over with these rows already points after them.
        if rows:
            assert parts[index][2] == list(_cursor(rows[-1]))
        handed.append((index, rows))
        table.events.append(("handed", str(index)))
    # One page in flight or waiting per slice at most: memory bounded by page size.
    assert waiting_at_most <= len(parts)
    for index in range(len(parts)):
        pages_of_slice = [rows for i, rows in handed if i == index]
        assert [len(r) for r in pages_of_slice] == [1, 1, 0]


def _settings(sandbox: ServiceNowSandbox, concurrency: int) -> Settings:
    user, password = sandbox.credentials["integration"]
    return Settings(servicenow=ServiceNowSettings(instance_url=sandbox.url, username=user,
                                                  password=password, page_size=100),
                    http=HttpSettings(timeout_s=5, concurrency=concurrency),
                    sync=SyncSettings(overlap_s=300, lag_s=60, backfill_days=400))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=4, now=NOW, incidents=900, changes=40, problems=10) as sb:
        yield sb


def _versions(sandbox: ServiceNowSandbox) -> dict[str, str]:
    return {r["sys_id"]: f"{r['sys_updated_on'][:10]}T{r['sys_updated_on'][11:]}Z"
            for r in sandbox.table("incident")}


def test_backfill_goes_partitioned_and_a_pull_killed_after_any_page_resumes_exactly(
        sandbox: ServiceNowSandbox, tmp_path: Path) -> None:
    conn = build_connector(_settings(sandbox, 3), clock=sandbox.clock, sleep=lambda _s: None)
    pages = list(conn.iter_pages("incident", None))
    assert any("parts" in (p.bookmark or {}).get("run", {}) for p in pages)
    # 900 generated incidents and 18 of category security (3 a month over 6 months)
    assert sum(len(p.records) for p in pages) == 918
    for cut in (1, 3, len(pages) // 2, len(pages) - 2):
        with StateStore(tmp_path / f"cut{cut}.sqlite") as store:
            for page in pages[:cut]:  # what was committed before the kill
                store.save_page(page)
            resumed = build_connector(_settings(sandbox, 2), clock=sandbox.clock,
                                      sleep=lambda _s: None)
            for page in resumed.iter_pages("incident", store.get_bookmark("servicenow",
                                                                          "incident")):
                store.save_page(page)
            assert store.record_versions("servicenow", "incident") == _versions(sandbox)
            assert "run" not in store.get_bookmark("servicenow", "incident")
