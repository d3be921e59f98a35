"""The jira library (pycontribs) against the sandbox over verified HTTPS, Cloud and DC.

Only the library talks to the sandbox (its methods, or its own authenticated session for
the calls it has no wrapper for); every answer is checked against the sandbox's data.
Cloud signs in with email + API token and searches with ``enhanced_search_issues``; Data
Center with a personal access token and ``search_issues``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jira import JIRA, JIRAError

from connectors.jira.sandbox import JiraSandbox
from connectors.jira.sandbox.catalog import PRIORITIES, RESOLUTIONS
from connectors.jira.sandbox.data import ISSUE_TYPES, STATUS_BY_ID, STATUSES

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(deployment=request.param, now=NOW, jira_issues=200, tls=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: JiraSandbox) -> JIRA:
    options = {"verify": sandbox.ca_bundle}
    if sandbox.cloud:
        auth = {"basic_auth": (sandbox.credentials["email"], sandbox.credentials["api_token"])}
    else:
        auth = {"token_auth": sandbox.credentials["pat"]}
    return JIRA(server=sandbox.url, options=options, max_retries=0, timeout=10, **auth)


def _search(client: JIRA, sandbox: JiraSandbox, jql: str, **kwargs):
    if sandbox.cloud:
        return client.enhanced_search_issues(jql, maxResults=0, **kwargs)
    return client.search_issues(jql, maxResults=False, **kwargs)


def _issue_in(sandbox: JiraSandbox, status: str):
    return next(i for i in sorted(sandbox.data.iter_issues(), key=lambda i: i.id)
                if i.status == status and sandbox.data.extras.comments(i))


def test_connects_over_verified_tls(client, sandbox):
    assert sandbox.url.startswith("https://")
    assert client._is_cloud is sandbox.cloud


def test_projects_and_one_project(client, sandbox):
    projects = client.projects()
    assert [p.key for p in projects] == sorted(sandbox.data.projects)
    assert {p.key: p.name for p in projects} == {
        k: v["name"] for k, v in sandbox.data.projects.items()}
    product = sandbox.world.products[0]
    project = client.project(product.key)
    assert project.name == product.name and project.id == str(
        sandbox.data.projects[product.key]["id"])
    assert project.lead.displayName == product.owner.display_name
    assert [c.name for c in project.components] == [
        c["name"] for c in sandbox.data.extras.components(product.key)]
    released = [v["name"] for v in sandbox.data.extras.versions(product.key) if v["released"]]
    assert [v.name for v in project.versions if v.released] == released


def test_issue_types_priorities_resolutions(client):
    assert [(t.name, t.subtask) for t in client.issue_types()] == [
        (name, spec[1]) for name, spec in ISSUE_TYPES.items()]
    assert [(p.id, p.name) for p in client.priorities()] == [(i, n) for i, n, _ in PRIORITIES]
    assert [r.name for r in client.resolutions()] == [n for _, n, _ in RESOLUTIONS]


def test_search_users(client, sandbox):
    if sandbox.cloud:
        found = client.search_users(query="alice")
    else:
        found = client.search_users(user="alice")
    expected = [p for p in sandbox.world.people
                if any(w.startswith("alice") for w in p.display_name.lower().split())]
    assert expected and [u.displayName for u in found] == [p.display_name for p in expected]
    if sandbox.cloud:
        assert [u.accountId for u in found] == [p.jira_account_id for p in expected]
    else:
        assert [u.name for u in found] == [p.user_name for p in expected]


def test_issue_with_expand(client, sandbox):
    issue = _issue_in(sandbox, "10002")
    got = client.issue(issue.key, expand="changelog,renderedFields,names,schema,transitions")
    assert got.fields.summary == issue.summary
    assert got.fields.status.name == STATUS_BY_ID[issue.status][1]
    histories = sandbox.data.histories(issue)
    assert got.changelog.total == len(histories)
    assert [h.id for h in got.changelog.histories][:5] == [str(h.id) for h in histories][:5]
    comments = sandbox.data.extras.comments(issue)
    assert [c.body for c in got.fields.comment.comments] == [c.body for c in comments]
    assert got.renderedFields.comment.comments[0].body == f"<p>{comments[0].body}</p>"
    assert got.raw["names"]["comment"] == "Comment"
    assert got.raw["schema"]["worklog"] == {"type": "array", "items": "worklog",
                                            "system": "worklog"}
    assert sorted(t["to"]["id"] for t in got.raw["transitions"]) == sorted(
        s[0] for s in STATUSES if s[0] != issue.status)
    trimmed = client.issue(issue.key, fields="*all,-comment,-worklog")
    assert "comment" not in trimmed.raw["fields"] and "worklog" not in trimmed.raw["fields"]
    assert trimmed.raw["fields"]["summary"] == issue.summary


def test_search_all_fields(client, sandbox):
    product = sandbox.world.products[1]
    issues = _search(client, sandbox, f"project = {product.key} ORDER BY key ASC",
                     fields="*all")
    assert [i.key for i in issues] == [f"{product.key}-{n}"
                                       for n in range(1, product.issue_count + 1)]
    for got in issues:
        issue = sandbox.data.find(got.key)
        fields = got.raw["fields"]
        for name in ("comment", "worklog", "attachment", "timetracking", "watches", "votes",
                     "environment", "issuelinks", "subtasks", "fixVersions", "versions",
                     "components", "creator", "reporter", "resolutiondate", "lastViewed",
                     "progress", "aggregateprogress"):
            assert name in fields, name
        assert fields["comment"]["total"] == len(sandbox.data.extras.comments(issue))
        spent = sum(w.seconds for w in sandbox.data.extras.worklogs(issue))
        assert fields["timetracking"].get("timeSpentSeconds") == (spent or None)
        assert fields["status"]["id"] == issue.status
    navigable = _search(client, sandbox, f"key = {product.key}-1", fields="*navigable")
    assert "comment" not in navigable[0].raw["fields"]
    assert "watches" in navigable[0].raw["fields"]


def test_boards_and_sprints(client, sandbox):
    assert {b.id for b in client.boards(maxResults=False)} == set(sandbox.data.boards)
    board = sandbox.world.products[0].scrum_board_id
    assert [(s.id, s.name, s.state) for s in client.sprints(board, maxResults=False)] == [
        (s.id, s.name, s.state) for s in sandbox.data.board_sprints(board)]


def test_transition_changes_status_and_writes_changelog(client, sandbox):
    issue = next(i for i in sandbox.data.iter_issues() if i.status == "10000")
    names = [t["name"] for t in client.transitions(issue.key)]
    assert names == [s[1] for s in STATUSES if s[0] != "10000"]
    before = len(sandbox.data.histories(issue))
    client.transition_issue(issue.key, "In Progress")
    got = client.issue(issue.key, expand="changelog")
    assert got.fields.status.name == "In Progress" and sandbox.data.find(issue.key).status == "3"
    assert got.changelog.total == before + 1
    last = got.changelog.histories[-1]
    item = last.items[0]
    assert (item.field, item.fromString, item.toString) == ("status", "To Do", "In Progress")
    me = client.myself()
    if sandbox.cloud:
        assert last.author.accountId == me["accountId"]
    else:
        assert last.author.name == me["name"]
    with pytest.raises(JIRAError) as bad:
        client.transition_issue(issue.key, "99")
    assert bad.value.status_code == 400 and "not valid for this issue" in bad.value.text


def test_comments_are_listed_and_paged(client, sandbox):
    issue = next(i for i in sandbox.data.iter_issues() if i.status == "3")
    existing = [c.body for c in sandbox.data.extras.comments(issue)]
    added = [client.add_comment(issue.key, f"note {n}") for n in range(3)]
    assert [c.body for c in added] == ["note 0", "note 1", "note 2"]
    listed = client.comments(issue.key)
    assert [c.body for c in listed] == existing + ["note 0", "note 1", "note 2"]
    assert [c.id for c in listed[-3:]] == [c.id for c in added]
    page = client._get_json(f"issue/{issue.key}/comment", params={"startAt": 1,
                                                                  "maxResults": 2})
    assert page["total"] == len(existing) + 3 and page["startAt"] == 1
    assert [c["body"] for c in page["comments"]] == (existing + ["note 0", "note 1",
                                                                 "note 2"])[1:3]
    newest = client.comments(issue.key, order_by="-created", max_results=1)
    assert [c.body for c in newest] == ["note 2"]


def test_worklogs(client, sandbox):
    issue = next(i for i in sandbox.data.iter_issues() if i.status == "3")
    before = [w.seconds for w in sandbox.data.extras.worklogs(issue)]
    logged = client.add_worklog(issue.key, timeSpent="2h 15m", comment="pairing")
    assert logged.timeSpentSeconds == 8100 and logged.timeSpent == "2h 15m"
    assert [w.timeSpentSeconds for w in client.worklogs(issue.key)] == before + [8100]
    tracking = client.issue(issue.key, fields="timetracking").raw["fields"]["timetracking"]
    assert tracking["timeSpentSeconds"] == sum(before) + 8100


def test_errors_in_jira_shape(client, sandbox):
    with pytest.raises(JIRAError) as missing:
        client.issue("PAY-99999")
    assert missing.value.status_code == 404
    assert "Issue does not exist" in missing.value.text
    with pytest.raises(JIRAError) as wrong:
        client._session.get(f"{sandbox.url}/rest/api/2/no-such-resource")
    assert wrong.value.status_code == 404
    assert wrong.value.response.json() == {
        "message": f"null for uri: {sandbox.url}/rest/api/2/no-such-resource",
        "status-code": 404}
    with pytest.raises(JIRAError) as project:
        client.project("NOPE")
    assert project.value.status_code == 404 and "NOPE" in project.value.text


def test_create_issue_resolves_project_and_type_ids(client, sandbox):
    # The library looks the project up and posts {"project": {"id": …}}.
    created = client.create_issue(project="PAY", summary="Made by the jira library",
                                  issuetype={"name": "Task"}, labels=["customer"])
    issue = sandbox.data.find(created.key)
    assert issue is not None and issue.project == "PAY" and issue.type == "Task"
    assert created.fields.summary == "Made by the jira library"
    assert created.fields.labels == ["customer"]
    assert (created.key, "create") in sandbox.notifications
