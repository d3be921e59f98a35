"""atlassian-python-api's ``Jira(cloud=True)`` against the Cloud sandbox over verified HTTPS.

The client passes ``verify_ssl`` straight to requests as ``verify``, so the sandbox's CA
bundle path goes there. Every answer is checked against the sandbox's own data; writes
are read back through the same client.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atlassian import Jira
from requests import HTTPError

from connectors.jira.sandbox import JiraSandbox

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox():
    with JiraSandbox(deployment="cloud", now=NOW, jira_issues=200, tls=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def jira(sandbox: JiraSandbox) -> Jira:
    return Jira(sandbox.url, username=sandbox.credentials["email"],
                password=sandbox.credentials["api_token"], cloud=True,
                verify_ssl=sandbox.ca_bundle, timeout=10)


def _keys_by_number(sandbox: JiraSandbox, project: str) -> list[str]:
    issues = [i for i in sandbox.data.iter_issues() if i.project == project]
    return [i.key for i in sorted(issues, key=lambda i: i.number)]


def test_get_all_projects_follows_paged_search(jira, sandbox):
    projects = jira.get_all_projects()
    assert [p["key"] for p in projects] == sorted(sandbox.data.projects)
    assert sandbox.requests_to("/project/search") >= 1


def test_jql_and_enhanced_jql(jira, sandbox):
    product = sandbox.world.products[0]
    jql = f"project = {product.key} ORDER BY key ASC"
    page = jira.enhanced_jql(jql, limit=20)
    assert [i["key"] for i in page["issues"]] == _keys_by_number(sandbox, product.key)[:20]
    assert page["isLast"] is False and page["nextPageToken"]
    rest = jira.enhanced_jql(jql, nextPageToken=page["nextPageToken"], limit=100)
    assert [i["key"] for i in page["issues"] + rest["issues"]] == _keys_by_number(
        sandbox, product.key)
    first = jira.jql(jql, limit=5)
    issue = next(sandbox.data.find(i["key"]) for i in first["issues"]
                 if sandbox.data.extras.comments(sandbox.data.find(i["key"])))
    fields = next(i["fields"] for i in first["issues"] if i["key"] == issue.key)
    assert fields["summary"] == issue.summary and fields["status"]["id"] == issue.status
    comments = sandbox.data.extras.comments(issue)
    assert fields["comment"]["total"] == len(comments)
    # enhanced_jql calls /rest/api/3: rich text comes back as ADF documents.
    if comments:
        body = fields["comment"]["comments"][0]["body"]
        assert body["type"] == "doc"
        assert body["content"][0]["content"][0]["text"] == comments[0].body


def test_issue_and_changelog(jira, sandbox):
    issue = max(sandbox.data.iter_issues(), key=lambda i: len(sandbox.data.histories(i)))
    got = jira.issue(issue.key)
    assert got["key"] == issue.key and got["fields"]["summary"] == issue.summary
    assert got["fields"]["assignee"]["accountId"] == sandbox.world.people[
        issue.assignee].jira_account_id
    # v2 (the client's default) serves rich text as strings, never ADF.
    comments = got["fields"]["comment"]["comments"]
    assert all(isinstance(c["body"], str) for c in comments)
    changelog = jira.get_issue_changelog(issue.key)
    histories = sandbox.data.histories(issue)
    assert changelog["total"] == len(histories)
    assert [h["id"] for h in changelog["values"]] == [str(h.id) for h in histories][:100]


def test_agile_boards_sprints_and_sprint_issues(jira, sandbox):
    boards = jira.get_all_agile_boards()
    assert [b["id"] for b in boards["values"]] == sorted(sandbox.data.boards)
    board = sandbox.world.products[0].scrum_board_id
    sprints = jira.get_all_sprints_from_board(board)
    assert [s["id"] for s in sprints["values"]] == [
        s.id for s in sandbox.data.board_sprints(board)]
    sprint = next(s for s in sandbox.data.board_sprints(board) if s.state == "active")
    members = sorted((i for i in sandbox.data.iter_issues() if sprint.id in i.sprints),
                     key=lambda i: (i.project, i.number))
    got = jira.get_sprint_issues(sprint.id, 0, 50)
    assert got["total"] == len(members)
    assert [i["key"] for i in got["issues"]] == [i.key for i in members][:50]


def test_issue_create_update_and_property(jira, sandbox):
    created = jira.issue_create({"project": {"key": "PAY"}, "summary": "Fixture issue",
                                 "issuetype": {"name": "Bug"}, "labels": ["customer"]})
    issue = sandbox.data.find(created["key"])
    assert issue is not None and issue.type == "Bug" and issue.labels == ["customer"]
    read = jira.issue(created["key"])
    assert read["fields"]["summary"] == "Fixture issue"
    assert read["fields"]["issuetype"]["name"] == "Bug"
    assert (created["key"], "create") in sandbox.notifications

    jira.issue_update(created["key"], {"summary": "Quiet rename"}, notify_users=False)
    assert jira.issue(created["key"])["fields"]["summary"] == "Quiet rename"
    assert (created["key"], "update") not in sandbox.notifications
    jira.issue_update(created["key"], {"summary": "Loud rename"})
    assert (created["key"], "update") in sandbox.notifications
    history = jira.get_issue_changelog(created["key"])["values"]
    assert [i["toString"] for h in history for i in h["items"]] == ["Quiet rename",
                                                                    "Loud rename"]

    jira.set_issue_property(created["key"], "fiveo.scorecard", {"digest": "abc"})
    assert sandbox.properties[(str(issue.id), "fiveo.scorecard")] == {"digest": "abc"}
    assert jira.get_issue_property(created["key"], "fiveo.scorecard")["value"] == {
        "digest": "abc"}


def test_missing_issue_is_jira_error_shape(jira):
    with pytest.raises(HTTPError) as missing:
        jira.issue("PAY-99999")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {}}
