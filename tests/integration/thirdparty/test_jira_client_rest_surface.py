"""The rest of the everyday REST surface, through the jira library's own session over TLS.

The library has no wrapper for these calls (or hides their paging), so the test uses the
library's authenticated ``_session`` / ``_get_json`` as a script built on it would. Each
answer is compared with the sandbox's data; unbuilt and unknown endpoints must answer in
Jira's JSON error shapes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jira import JIRA, JIRAError

from connectors.jira.sandbox import JiraSandbox
from connectors.jira.sandbox.catalog import LINK_TYPES

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(deployment=request.param, now=NOW, jira_issues=120, tls=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: JiraSandbox) -> JIRA:
    if sandbox.cloud:
        auth = {"basic_auth": (sandbox.credentials["email"], sandbox.credentials["api_token"])}
    else:
        auth = {"token_auth": sandbox.credentials["pat"]}
    return JIRA(server=sandbox.url, options={"verify": sandbox.ca_bundle}, max_retries=0,
                timeout=10, **auth)


def _error(client: JIRA, path: str, method: str = "GET") -> JIRAError:
    with pytest.raises(JIRAError) as caught:
        client._session.request(method, f"{client.server_url}{path}", data="{}")
    return caught.value


def test_versions_and_components(client, sandbox):
    key = sandbox.world.products[0].key
    versions = client._get_json(f"project/{key}/versions")
    expected = sandbox.data.extras.versions(key)
    assert [(v["id"], v["name"], v["released"]) for v in versions] == [
        (v["id"], v["name"], v["released"]) for v in expected]
    assert expected[-1]["released"] is False and expected[0]["released"] is True
    components = client.project_components(key)
    assert [(c.id, c.name) for c in components] == [
        (c["id"], c["name"]) for c in sandbox.data.extras.components(key)]
    lead = sandbox.world.people[sandbox.data.extras.components(key)[0]["lead"]]
    assert components[0].lead.displayName == lead.display_name


def test_issue_fields_carry_versions_and_components(client, sandbox):
    issue = next(i for i in sandbox.data.iter_issues() if i.resolved is not None)
    got = client.issue(issue.key, fields="fixVersions,components").raw["fields"]
    comps, _affects, fixes = sandbox.data.extras.issue_links(issue)
    assert [v["id"] for v in got["fixVersions"]] == fixes
    assert [c["id"] for c in got["components"]] == comps
    assert set(got) == {"fixVersions", "components"}


def test_link_types_configuration_properties_locale(client, sandbox):
    assert [(t.name, t.inward, t.outward) for t in client.issue_link_types()] == [
        (n, i, o) for _, n, i, o in LINK_TYPES]
    config = client._get_json("configuration")
    assert config["timeTrackingEnabled"] is True
    assert config["timeTrackingConfiguration"]["workingHoursPerDay"] == 8.0
    title = client._get_json("application-properties", params={"key": "jira.title"})
    assert title["value"] == "Jira"
    assert client._get_json("mypreferences/locale") == {"locale": "en_US"}


def test_cloud_paged_searches(client, sandbox):
    if not sandbox.cloud:
        error = _error(client, "/rest/api/2/field/search")
        assert error.status_code == 404 and "null for uri" in error.text
        return
    page = client._get_json("project/search", params={"maxResults": 3})
    assert page["total"] == len(sandbox.data.projects) and page["isLast"] is False
    rest = client._session.get(page["nextPage"]).json()
    assert [p["key"] for p in page["values"] + rest["values"]] == sorted(sandbox.data.projects)
    fields = client._get_json("field/search", params={"type": "custom"})
    assert {f["id"] for f in fields["values"]} == {
        sandbox.data.fields.story_points, sandbox.data.fields.sprint, sandbox.data.fields.rank,
        sandbox.data.fields.satisfaction}
    filters = client._get_json("filter/search")
    assert filters["total"] == len(sandbox.data.boards)
    board = sandbox.data.boards[min(sandbox.data.boards)]
    assert filters["values"][0]["jql"] == f"project = {board.project_key} ORDER BY Rank ASC"
    users = client._get_json("users/search", params={"startAt": 2, "maxResults": 3})
    assert [u["accountId"] for u in users] == [
        p.jira_account_id for p in sandbox.world.people[2:5]]


def test_watchers_editmeta_and_property_keys(client, sandbox):
    issue = next(iter(sandbox.data.iter_issues()))
    watchers = client.watchers(issue.key)
    people = sorted({issue.assignee, issue.reporter})
    assert watchers.watchCount == len(people)
    assert [w.displayName for w in watchers.watchers] == [
        sandbox.world.people[i].display_name for i in people]
    meta = client.editmeta(issue.key)["fields"]
    assert meta["summary"]["required"] is True and "add" in meta["labels"]["operations"]
    client.add_issue_property(issue.key, "fiveo.test", {"n": 1})
    assert [p.key for p in client.issue_properties(issue.key)] == ["fiveo.test"]


def test_unbuilt_and_unknown_endpoints_answer_jira_json(client, sandbox):
    unbuilt = _error(client, "/rest/api/2/workflow/search")
    assert unbuilt.status_code == 404
    assert unbuilt.response.json()["errorMessages"] == [
        "Workflow, screen and scheme administration (GET /rest/api/2/workflow/search) "
        "is not emulated by this Jira sandbox."]
    assert unbuilt.response.json()["errors"] == {}
    unknown = _error(client, "/rest/agile/1.0/nothing-here")
    assert unknown.status_code == 404
    assert unknown.response.json()["message"] == (f"null for uri: {sandbox.url}"
                                                  "/rest/agile/1.0/nothing-here")
    v3 = _error(client, "/rest/api/3/myself") if not sandbox.cloud else None
    if v3 is not None:
        assert v3.status_code == 404 and v3.response.json()["status-code"] == 404


def test_generated_comments_are_deterministic_and_never_move_updated(client, sandbox):
    product = sandbox.world.products[2]
    jql = f"project = {product.key} ORDER BY key ASC"
    fields = "comment,worklog,updated,created"
    if sandbox.cloud:
        first = client.enhanced_search_issues(jql, maxResults=0, fields=fields)
    else:
        first = client.search_issues(jql, maxResults=False, fields=fields)
    parse = datetime.fromisoformat
    commented = 0
    for issue in first:
        raw = issue.raw["fields"]
        stamps = [c["created"] for c in raw["comment"]["comments"]] + [
            w["started"] for w in raw["worklog"]["worklogs"]]
        assert all(parse(raw["created"]) <= parse(s) <= parse(raw["updated"])
                   for s in stamps), issue.key
        commented += bool(raw["comment"]["comments"])
    assert commented > len(first) // 4
    with JiraSandbox(deployment=sandbox.deployment, now=NOW, jira_issues=120,
                     tls=True) as twin:
        key = first[0].key
        twin_client = JIRA(server=twin.url, options={"verify": twin.ca_bundle},
                           max_retries=0, timeout=10,
                           **({"basic_auth": (twin.credentials["email"],
                                              twin.credentials["api_token"])}
                              if twin.cloud else {"token_auth": twin.credentials["pat"]}))
        mine = client.issue(key, fields="comment,worklog").raw["fields"]
        theirs = twin_client.issue(key, fields="comment,worklog").raw["fields"]
        assert json.dumps(mine).replace(sandbox.url, "") == json.dumps(theirs).replace(
            twin.url, "")


def test_a_description_over_32767_characters_is_refused_with_jiras_wording(client, sandbox):
    key = f"{sandbox.world.products[0].key}-2"
    issue = client.issue(key)
    with pytest.raises(JIRAError) as caught:
        issue.update(fields={"description": "x" * 32_768})
    assert caught.value.status_code == 400
    assert "exceeds the allowed limit of 32,767 characters" in caught.value.text
    issue.update(fields={"description": "x" * 32_767})  # at the limit: accepted
    assert len(client.issue(key, fields="description").raw["fields"]["description"]) == 32_767
