"""Sandbox fidelity gaps: permissions, reconcileIssues, old Server sprint strings, sprint edits."""

from __future__ import annotations

import pytest
import requests
from jira import JIRA

from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.engine.normalise_values import parse_sprint_string, read_jira_sprints
from tests.integration.jira.conftest import NOW

ASKED = "BROWSE_PROJECTS,CREATE_ISSUES,EDIT_ISSUES,ADD_COMMENTS"


def _auth(sb: JiraSandbox, role: str = "admin") -> dict:
    cred = sb.credentials if role == "admin" else sb.readonly_credentials
    if sb.cloud:
        return {"auth": (cred["email"], cred["api_token"]), "verify": sb.ca_bundle}
    return {"headers": {"Authorization": f"Bearer {cred['pat']}"}, "verify": sb.ca_bundle}


def _get(sb: JiraSandbox, path: str, role: str = "admin", **params) -> requests.Response:
    return requests.get(f"{sb.url}{path}", params=params, timeout=10, **_auth(sb, role))


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_mypermissions_answers_as_jira_for_full_and_read_only_accounts(deployment):
    with JiraSandbox(tls=True, deployment=deployment, now=NOW, jira_issues=100) as sb:
        project = sb.world.products[0].key
        full = _get(sb, "/rest/api/2/mypermissions", projectKey=project, permissions=ASKED)
        assert full.status_code == 200
        permissions = full.json()["permissions"]
        assert set(permissions) == set(ASKED.split(","))
        browse = permissions["BROWSE_PROJECTS"]
        assert set(browse) == {"id", "key", "name", "type", "description", "havePermission"}
        assert browse["key"] == "BROWSE_PROJECTS" and browse["type"] == "PROJECT"
        assert all(p["havePermission"] for p in permissions.values())
        viewer = _get(sb, "/rest/api/2/mypermissions", "viewer", projectKey=project,
                      permissions=ASKED).json()["permissions"]
        assert {k for k, p in viewer.items() if p["havePermission"]} == {"BROWSE_PROJECTS"}
        missing = _get(sb, "/rest/api/2/mypermissions", projectKey="NOPE", permissions=ASKED)
        assert missing.status_code == 404
        assert missing.json()["errorMessages"] == ["No project could be found with key 'NOPE'."]
        unasked = _get(sb, "/rest/api/2/mypermissions", projectKey=project)
        # Cloud requires the list; Data Center answers every permission.
        assert unasked.status_code == (400 if sb.cloud else 200)


def test_reconcile_issues_sees_through_the_search_index_lag():
    with JiraSandbox(tls=True, deployment="cloud", now=NOW, jira_issues=100, index_lag_s=30) as sb:
        issue = sb.data.find(f"{sb.world.products[0].key}-3")
        sb.update_issue(issue.key, summary="just written")
        client = JIRA(server=sb.url, basic_auth=(sb.credentials["email"],
                                                 sb.credentials["api_token"]),
                      max_retries=0, timeout=10, options={"verify": sb.ca_bundle})
        jql = f"key = {issue.key}"
        assert list(client.enhanced_search_issues(jql, maxResults=10)) == []
        found = client.enhanced_search_issues(jql, maxResults=10, reconcileIssues=[issue.id])
        assert [i.key for i in found] == [issue.key]
        posted = requests.post(f"{sb.url}/rest/api/3/search/jql", timeout=10,
                               json={"jql": jql, "reconcileIssues": [issue.id]}, **_auth(sb))
        assert [i["id"] for i in posted.json()["issues"]] == [str(issue.id)]
        too_many = requests.post(f"{sb.url}/rest/api/3/search/jql", timeout=10,
                                 json={"jql": jql, "reconcileIssues": list(range(1, 52))},
                                 **_auth(sb))
        assert too_many.status_code == 400
        sb.advance(31)
        assert [i.key for i in client.enhanced_search_issues(jql, maxResults=10)] == [issue.key]


def test_data_center_sprint_field_as_old_server_strings_with_commas_in_goals():
    with JiraSandbox(tls=True, deployment="datacenter", now=NOW, jira_issues=400,
                     sprint_field="strings") as sb:
        comma_sprint = next(s for s in sb.data.sprints.values() if s.goal and "," in s.goal)
        member = next(i for i in sb.data.iter_issues() if comma_sprint.id in i.sprints)
        field = sb.data.fields.sprint
        body = _get(sb, f"/rest/api/2/issue/{member.key}", fields=field).json()
        values = body["fields"][field]
        assert all(isinstance(v, str) and v.startswith(
            "com.atlassian.greenhopper.service.sprint.Sprint@") for v in values)
        assert read_jira_sprints(values) == tuple(member.sprints)
        parsed = next(parse_sprint_string(v) for v in values
                      if parse_sprint_string(v)["id"] == str(comma_sprint.id))
        assert parsed["goal"] == comma_sprint.goal
        assert parsed["name"] == comma_sprint.name
        assert parsed["rapidViewId"] == str(comma_sprint.board_id)


def test_sprint_updates_start_close_and_only_rename_closed_sprints():
    with JiraSandbox(tls=True, deployment="cloud", now=NOW, jira_issues=100) as sb:
        board = sb.world.products[0].scrum_board_id
        sprints = sb.data.board_sprints(board)
        active = next(s for s in sprints if s.state == "active")
        closed = next(s for s in sprints if s.state == "closed")
        histories_before = [h.id for h in sb.data.histories(next(
            i for i in sb.data.iter_issues() if active.id in i.sprints))]

        def post(sprint_id: int, body: dict, role: str = "admin") -> requests.Response:
            return requests.post(f"{sb.url}/rest/agile/1.0/sprint/{sprint_id}", json=body,
                                 timeout=10, **_auth(sb, role))

        assert post(active.id, {"state": "closed"}, "viewer").status_code == 403
        done = post(active.id, {"state": "closed"})
        assert done.status_code == 200 and done.json()["state"] == "closed"
        assert "completeDate" in done.json()
        renamed = post(closed.id, {"state": "active", "goal": "Ship it, finally"}).json()
        assert renamed["state"] == "closed" and renamed["goal"] == "Ship it, finally"
        # Generated histories do not move when sprints are edited later.
        assert [h.id for h in sb.data.histories(next(
            i for i in sb.data.iter_issues() if active.id in i.sprints))] == histories_before


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_attachment_upload_needs_the_xsrf_header(deployment, tmp_path):
    with JiraSandbox(tls=True, deployment=deployment, now=NOW, jira_issues=50) as sb:
        key = f"{sb.world.products[0].key}-2"
        url = f"{sb.url}/rest/api/2/issue/{key}/attachments"
        files = {"file": ("report.html", b"<p>scorecard</p>", "text/html")}
        refused = requests.post(url, files=files, timeout=10, **_auth(sb))
        assert refused.status_code == 403 and refused.text == "XSRF check failed"
        auth = _auth(sb)
        headers = {**auth.pop("headers", {}), "X-Atlassian-Token": "no-check"}
        accepted = requests.post(url, files=files, headers=headers, timeout=10, **auth)
        assert accepted.status_code == 200
        (attachment,) = accepted.json()
        assert attachment["filename"] == "report.html" and attachment["size"] == 16
        assert attachment["mimeType"] == "text/html"
        assert sb.writes[-1] == ("attachment", key, {"filename": "report.html", "size": 16})
        # The jira library sends the header itself.
        auth_kw = ({"basic_auth": (sb.credentials["email"], sb.credentials["api_token"])}
                   if sb.cloud else {"token_auth": sb.credentials["pat"]})
        client = JIRA(server=sb.url, max_retries=0, timeout=10,
                      options={"verify": sb.ca_bundle}, **auth_kw)
        upload = tmp_path / "notes.txt"
        upload.write_text("fiveo")
        assert client.add_attachment(key, str(upload)).filename == "notes.txt"
        meta = _get(sb, "/rest/api/2/attachment/meta").json()
        assert meta == {"enabled": True, "uploadLimit": 10_485_760}
