"""Issue 4 acceptance at 20,000 issues per deployment (slow)."""

from __future__ import annotations

import pytest

from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, assert_store_matches, pull


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_twenty_thousand_issues_pull_exactly_then_no_change_then_changes(deployment, tmp_path):
    with JiraSandbox(tls=True, deployment=deployment, now=NOW, scale="medium",
                     jira_issues=20_000) as sb:
        store = StateStore(tmp_path / "big.db")
        pull(sb, store, streams=("field", "status", "board", "sprint", "issue"))
        assert_store_matches(sb, store)
        sb.advance(600)
        counts = pull(sb, store, streams=("field", "status", "board", "issue"))
        assert all(n <= 2 for n in counts.values()), counts
        key = f"{sb.world.products[2].key}-10"
        sb.update_issue(key, summary="changed at scale")
        sb.delete_issue(f"{sb.world.products[3].key}-4")
        sb.create_issue(sb.world.products[0].key)
        sb.advance(600)
        pull(sb, store, streams=("issue",), census_every_s=0)
        assert_store_matches(sb, store)
