"""The jira library itself against the sandbox, and payload shapes against recorded ones."""

from __future__ import annotations

import json

import pytest
from jira import JIRA

from connectors.jira.sandbox import JiraSandbox
from tests.integration.jira.conftest import NOW, repo_fixtures


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(tls=True, deployment=request.param, now=NOW, jira_issues=400) as sb:
        yield sb


def _client(sb: JiraSandbox) -> JIRA:
    if sb.cloud:
        auth = {"basic_auth": (sb.credentials["email"], sb.credentials["api_token"])}
    else:
        auth = {"token_auth": sb.credentials["pat"]}
    return JIRA(server=sb.url, max_retries=0, timeout=10, options={"verify": sb.ca_bundle},
                **auth)


def test_server_info_detection(sandbox):
    client = _client(sandbox)
    assert client._is_cloud is sandbox.cloud
    assert client.server_info()["versionNumbers"]


def test_search_through_the_library(sandbox):
    client = _client(sandbox)
    project = sandbox.world.products[0]
    jql = f"project = {project.key} ORDER BY key ASC"
    if sandbox.cloud:
        issues = client.enhanced_search_issues(jql, maxResults=0, fields="*all")
    else:
        issues = client.search_issues(jql, maxResults=False)
    assert len(issues) == project.issue_count
    assert issues[0].key == f"{project.key}-1"


def test_boards_and_sprints_through_the_library(sandbox):
    client = _client(sandbox)
    boards = client.boards(maxResults=False)
    assert {b.id for b in boards} == set(sandbox.data.boards)
    scrum = sandbox.world.products[0].scrum_board_id
    sprints = client.sprints(scrum, maxResults=False)
    assert [s.id for s in sprints] == [s.id for s in sandbox.data.board_sprints(scrum)]


def _shape(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return type(value).__name__


def test_issue_changelog_and_sprint_shapes_match_recorded_payloads(sandbox):
    recorded = repo_fixtures() / "devlake"
    real_issue = json.loads((recorded / "issues.jsonl").read_text().splitlines()[0])["data"]
    real_history = json.loads((recorded / "changelogs.jsonl").read_text().splitlines()[0])["data"]
    real_sprint = json.loads((recorded / "sprints.jsonl").read_text().splitlines()[0])["data"]
    render = sandbox.renderer("2")
    issue = next(i for i in sandbox.data.iter_issues() if i.sprints and i.resolved)
    ours = render.issue(issue, sandbox.data.projects[issue.project], sandbox.data.sprints,
                        None, sandbox.data.histories(issue), 40)
    for name in ("summary", "status", "issuetype", "project", "created", "updated",
                 "resolutiondate", "resolution", "labels", "assignee", "priority"):
        assert _shape(ours["fields"][name]) == _shape(real_issue["fields"][name]), name
    assert set(real_issue["fields"]["status"]["statusCategory"]) <= set(
        ours["fields"]["status"]["statusCategory"]) | {"self"}
    assert set(real_issue["changelog"]) == set(ours["changelog"])
    history = ours["changelog"]["histories"][0]
    assert set(history) == set(real_history)
    assert set(history["items"][0]) == set(real_history["items"][0])
    assert ours["fields"]["created"][-5] in "+-" and ":" not in ours["fields"]["created"][-5:]
    sprint_field = ours["fields"][sandbox.data.fields.sprint][0]
    assert set(sprint_field) >= {"id", "name", "state", "boardId", "goal"}
    ours_sprint = render.sprint(sandbox.data.sprints[issue.sprints[0]])
    assert set(real_sprint) - {"goal", "completeDate"} <= set(ours_sprint)
    assert ours_sprint["startDate"].endswith("Z")
