"""Security and satisfaction on work items, pulled from the Jira sandbox and normalised.

The sandbox puts a security level on some ``security``-labelled issues and a Service
Management satisfaction rating on about one done item in six (``sandbox/data.py``); the
source maps (``security_rule``, ``satisfaction``) must find both through the stored pages,
and an edited rating must arrive with the next incremental pull.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, pull

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(tls=True, deployment=request.param, now=NOW, jira_issues=600) as sb:
        yield sb


def _work_items(store: StateStore) -> dict[str, object]:
    mappings = load_mappings(MAPPINGS)
    raw = {("jira", stream): [r.payload for r in store.iter_records("jira", stream)]
           for stream in ("issue", "field", "status")}
    data = normalise(mappings.sources, mappings.portfolio, raw)
    return {item.key: item for item in data.work_items}


def _expected(sandbox: JiraSandbox) -> tuple[set[str], dict[str, int]]:
    rated = sandbox.data.fields.satisfaction
    issues = list(sandbox.data.iter_issues())
    security = {i.key for i in issues if "security" in i.labels or "security" in i.extra}
    ratings = {i.key: i.extra[rated]["rating"] for i in issues if rated in i.extra}
    return security, ratings


def test_security_and_satisfaction_arrive_through_the_pull(sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, streams=("field", "status", "issue"))
    items = _work_items(store)
    security, ratings = _expected(sandbox)
    assert security and ratings  # the data set has both
    assert {key for key, item in items.items() if item.security} == security
    assert {key: item.satisfaction for key, item in items.items()
            if item.satisfaction is not None} == ratings


def test_an_edited_rating_arrives_with_the_next_incremental_pull(sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, streams=("field", "status", "issue"))
    _, ratings = _expected(sandbox)
    key = next(iter(ratings))
    new_rating = 1 if ratings[key] != 1 else 5
    sandbox.advance(120)
    sandbox.update_issue(key, fields={sandbox.data.fields.satisfaction: {"rating": new_rating}})
    sandbox.advance(600)
    pull(sandbox, store, streams=("issue",))
    assert _work_items(store)[key].satisfaction == new_rating
