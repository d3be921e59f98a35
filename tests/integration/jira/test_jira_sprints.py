"""Boards and sprints through the connector: 422 boards, shared sprints, sprint edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from connectors.jira.sandbox import JiraSandbox
from connectors.jira.sandbox.data import DC_FIELDS
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, pull

REPO = Path(__file__).resolve().parents[3]

AGILE_STREAMS = ("board", "sprint", "sprint_scope")


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(tls=True, deployment=request.param, now=NOW, jira_issues=200) as sb:
        yield sb


def _scrum_boards(sb: JiraSandbox) -> list[int]:
    return sorted(b for b, board in sb.data.boards.items() if board.type == "scrum")


def test_board_without_mapped_statuses_answers_422_and_counts_as_no_sprints(sandbox, tmp_path):
    unmapped = _scrum_boards(sandbox)[0]
    sandbox.data.unmapped.add(unmapped)
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, streams=AGILE_STREAMS)
    stored = {r.key for r in store.iter_records("jira", "sprint")}
    expected = {str(s.id) for b in _scrum_boards(sandbox) if b != unmapped
                for s in sandbox.data.board_sprints(b)}
    assert stored == expected
    assert sandbox.requests_to(f"/board/{unmapped}/sprint") == 1
    assert all(p["board_id"] != unmapped for p in
               (r.payload for r in store.iter_records("jira", "sprint_scope")))


def test_sprints_of_team_managed_boards_are_pulled(sandbox, tmp_path):
    board = _scrum_boards(sandbox)[0]
    sandbox.data.boards[board].type = "simple"  # a team-managed project with sprints on
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, streams=AGILE_STREAMS)
    stored = {r.key for r in store.iter_records("jira", "sprint")}
    assert {str(s.id) for s in sandbox.data.board_sprints(board)} <= stored
    assert any(p["board_id"] == board for p in
               (r.payload for r in store.iter_records("jira", "sprint_scope")))


def test_shared_sprints_are_attributed_to_their_origin_board(sandbox, tmp_path):
    listing, origin = _scrum_boards(sandbox)[0], _scrum_boards(sandbox)[-1]
    foreign = next(s for s in sandbox.data.board_sprints(origin) if s.state == "closed")
    sandbox.data.share_sprint(foreign.id, listing)
    listed = requests.get(f"{sandbox.url}/rest/agile/1.0/board/{listing}/sprint", timeout=10,
                          **_auth(sandbox)).json()["values"]
    assert {"id": foreign.id, "originBoardId": origin}.items() <= next(
        v for v in listed if v["id"] == foreign.id).items()
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store, streams=AGILE_STREAMS)
    sprint = next(r for r in store.iter_records("jira", "sprint") if r.key == str(foreign.id))
    assert sprint.payload["originBoardId"] == origin
    scopes = {r.key: r.payload for r in store.iter_records("jira", "sprint_scope")}
    assert scopes[f"{foreign.id}:close"]["board_id"] == origin
    assert scopes[f"{foreign.id}:start"]["board_id"] == origin
    reports = [q for _, path, q in sandbox.request_log if path.endswith("/sprintreport")
               and q["sprintId"] == [str(foreign.id)]]
    assert reports and all(q["rapidViewId"] == [str(origin)] for q in reports)


def test_sprints_started_closed_or_regoaled_without_issue_changes_are_seen_next_pull(
        sandbox, tmp_path):
    store = StateStore(tmp_path / "s.db")
    pull(sandbox, store)
    board = _scrum_boards(sandbox)[0]
    sprints = sandbox.data.board_sprints(board)
    active = next(s for s in sprints if s.state == "active")
    future = next(s for s in sprints if s.state == "future")
    closed = next(s for s in sprints if s.state == "closed")
    for sprint_id, body in ((active.id, {"state": "closed"}), (future.id, {"state": "active"}),
                            (closed.id, {"goal": "Rewritten goal, after the review"})):
        answer = requests.post(f"{sandbox.url}/rest/agile/1.0/sprint/{sprint_id}", json=body,
                               timeout=10, **_auth(sandbox))
        assert answer.status_code == 200, answer.text
    sandbox.advance(600)
    counts = pull(sandbox, store)
    assert counts["issue"] <= 2  # no issue changed
    stored = {r.key: r.payload for r in store.iter_records("jira", "sprint")}
    assert stored[str(active.id)]["state"] == "closed"
    assert stored[str(future.id)]["state"] == "active"
    assert stored[str(closed.id)]["goal"] == "Rewritten goal, after the review"
    scopes = {r.key: r.payload for r in store.iter_records("jira", "sprint_scope")}
    assert scopes[f"{future.id}:start"]["source"] == "snapshot"
    assert scopes[f"{active.id}:close"]["source"] == "sprint_report"


def _auth(sb: JiraSandbox) -> dict:
    if sb.cloud:
        return {"auth": (sb.credentials["email"], sb.credentials["api_token"]),
                "verify": sb.ca_bundle}
    return {"headers": {"Authorization": f"Bearer {sb.credentials['pat']}"},
            "verify": sb.ca_bundle}


def test_old_server_sprint_strings_normalise_to_the_same_sprints_as_objects(tmp_path):
    from fiveo_sync.engine.loader import load_mappings
    from fiveo_sync.engine.normalise import normalise

    # The shipped sources.yaml names the Cloud sprint field; a Data Center admin sets theirs.
    shutil.copytree(REPO / "mappings", tmp_path / "mappings")
    sources = tmp_path / "mappings" / "sources.yaml"
    sources.write_text(sources.read_text().replace(
        "fields.customfield_10020", f"fields.{DC_FIELDS.sprint}"))
    mappings = load_mappings(tmp_path / "mappings")
    memberships = {}
    for form in ("objects", "strings"):
        with JiraSandbox(tls=True, deployment="datacenter", now=NOW, jira_issues=300,
                         sprint_field=form) as sb:
            store = StateStore(tmp_path / f"{form}.db")
            pull(sb, store, streams=("field", "status", "board", "sprint", "issue"))
            raw = {("jira", s): [r.payload for r in store.iter_records("jira", s)]
                   for s in ("field", "status", "board", "sprint", "issue")}
            data = normalise(mappings.sources, mappings.portfolio, raw)
            memberships[form] = {w.key: tuple(w.sprints) for w in data.work_items}
            expected = {i.key: tuple(i.sprints) for i in sb.data.iter_issues()}
    assert memberships["strings"] == memberships["objects"]
    assert {k: v for k, v in memberships["strings"].items() if v} == {
        k: v for k, v in expected.items() if v and k in memberships["strings"]}
    assert any(memberships["strings"].values())
