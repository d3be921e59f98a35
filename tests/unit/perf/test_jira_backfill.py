"""Jira Cloud backfills: id listing + parallel bulk fetch, exact and resumable mid-pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from connectors.jira import build_connector
from connectors.jira.backfill import build_backfill_jql
from connectors.jira.sandbox import JiraSandbox
from connectors.jira.settings import JiraSettings
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, assert_store_matches


@pytest.fixture(scope="module")
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(seed=9, now=NOW, deployment="cloud", jira_issues=500) as sb:
        yield sb


def _connector(sandbox: JiraSandbox, concurrency: int = 3):
    settings = SimpleNamespace(
        jira=JiraSettings(url=sandbox.url, projects=[p.key for p in sandbox.world.products],
                          page_size=40, **sandbox.credentials),
        http=SimpleNamespace(concurrency=concurrency, timeout_s=10, max_attempts=4,
                             max_wait_s=5, budget_s=60, backoff_s=0, tls_verify=True),
        sync=None)
    return build_connector(settings, clock=sandbox.now, sleep=lambda _s: None)


def test_backfill_jql_is_keyset_by_id_on_the_same_filter() -> None:
    jql = 'project in ("PAY") AND updated >= "2025-01-01 00:00" ORDER BY updated ASC, key ASC'
    assert build_backfill_jql(jql, None) == (
        'project in ("PAY") AND updated >= "2025-01-01 00:00" AND id > 0 ORDER BY id ASC')
    assert build_backfill_jql(jql, 10042).endswith("AND id > 10042 ORDER BY id ASC")


def test_first_cloud_pull_lists_ids_then_bulk_fetches_and_stores_everything(
        sandbox: JiraSandbox, tmp_path: Path) -> None:
    sandbox.reset_log()
    with StateStore(tmp_path / "s.sqlite") as store:
        conn = _connector(sandbox)
        for page in conn.iter_pages("issue", None):
            store.save_page(page)
        assert_store_matches(sandbox, store)
        assert "pass" not in store.get_bookmark("jira", "issue")
    assert sandbox.requests_to("/issue/bulkfetch") == -(-500 // 40)
    assert sandbox.requests_to("/search/jql") == 1  # 500 ids fit one id-only page


def test_a_backfill_killed_after_any_page_resumes_without_loss(
        sandbox: JiraSandbox, tmp_path: Path) -> None:
    pages = list(_connector(sandbox).iter_pages("issue", None))
    assert len(pages) > 6
    for cut in (1, 4, len(pages) - 2):
        with StateStore(tmp_path / f"cut{cut}.sqlite") as store:
            for page in pages[:cut]:
                store.save_page(page)
            assert store.get_bookmark("jira", "issue")["pass"]["after_id"]
            for page in _connector(sandbox, 2).iter_pages(
                    "issue", store.get_bookmark("jira", "issue")):
                store.save_page(page)
            assert_store_matches(sandbox, store)
            assert "pass" not in store.get_bookmark("jira", "issue")
