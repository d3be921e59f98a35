"""Pulls from the Jira sandbox into the state store over real loopback HTTP."""

from __future__ import annotations

import pytest

from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, assert_store_matches, pull, stored_issues


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(tls=True, deployment=request.param, now=NOW, jira_issues=1500) as sb:
        yield sb


def test_first_pull_stores_every_issue_with_complete_changelog(sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store)
    assert_store_matches(sandbox, store)
    truncated = [r for r in stored_issues(store).values()
                 if r.payload["changelog"]["total"] > 40]
    assert truncated, "the data set must contain changelogs longer than the embedded cap"
    sprints = {r.key for r in store.iter_records("jira", "sprint")}
    assert sprints == {str(s) for s in sandbox.data.sprints}
    boards = list(store.iter_records("jira", "board"))
    assert all("configuration" in b.payload for b in boards)


def test_no_change_pull_makes_at_most_two_requests_per_stream(sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store)
    sandbox.advance(600)
    counts = pull(sandbox, store)
    for stream in ("field", "status", "board", "sprint_scope", "issue"):
        assert counts[stream] <= 2, (stream, counts)
    scrum_boards = sum(1 for b in sandbox.data.boards.values() if b.type == "scrum")
    assert counts["sprint"] <= scrum_boards


def test_updates_creations_and_deletions_are_reflected(sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, census_every_s=0)
    project = sandbox.world.products[0].key
    sandbox.update_issue(f"{project}-3", status="10002", summary="Changed")
    new_key = sandbox.create_issue(project, "Bug", "Fresh bug")
    sandbox.delete_issue(f"{project}-5")
    sandbox.advance(600)
    pull(sandbox, store, census_every_s=0)
    assert_store_matches(sandbox, store)
    stored = {r.payload["key"] for r in stored_issues(store).values()}
    assert new_key in stored and f"{project}-5" not in stored


def test_issue_updated_just_after_bookmark_is_seen_in_a_zone_far_from_utc(tmp_path):
    # UTC-11: a UTC literal would be read 11 hours late and miss the update.
    with JiraSandbox(tls=True, deployment="cloud", now=NOW, jira_issues=300,
                     user_time_zone="Pacific/Pago_Pago") as sb:
        store = StateStore(tmp_path / "s.db")
        pull(sb, store, streams=("issue",))
        sb.advance(120)
        key = f"{sb.world.products[0].key}-7"
        sb.update_issue(key, summary="Just after the bookmark")
        sb.advance(120)
        pull(sb, store, streams=("issue",))
        stored = {r.payload["key"]: r for r in stored_issues(store).values()}
        assert stored[key].payload["fields"]["summary"] == "Just after the bookmark"
