"""Same end state under faults, repeated tokens, mutations while paging; bad credentials."""

from __future__ import annotations

import pytest
from support.tls import verified_http

from connectors.jira import build_connector
from connectors.jira.sandbox import JiraSandbox
from connectors.jira.settings import JiraSettings
from fiveo_sync.errors import AuthError
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import NOW, assert_store_matches, pull


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_faults_repeated_token_and_updates_while_paging_reach_the_same_end_state(
        deployment, tmp_path):
    with JiraSandbox(tls=True, deployment=deployment, now=NOW, jira_issues=1200,
                     fault_rate=0.2) as sb:
        project = sb.world.products[1].key
        sb.repeat_next_page_token()
        sb.after_next_search_page(lambda s: s.update_issue(f"{project}-2", summary="moved"))
        store = StateStore(tmp_path / "faulty.db")
        pull(sb, store, page_size=50)
        sb.set_faults(0.0)
        sb.advance(600)
        pull(sb, store, page_size=50)
        assert_store_matches(sb, store)


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_bad_credentials_raise_auth_error_with_platform_message_and_no_secret(deployment):
    with JiraSandbox(tls=True, deployment=deployment, now=NOW, jira_issues=100) as sb:
        secret = "definitely-wrong-secret-123"
        creds = ({"email": sb.credentials["email"], "api_token": secret}
                 if deployment == "cloud" else {"pat": secret})
        from types import SimpleNamespace
        settings = SimpleNamespace(jira=JiraSettings(url=sb.url, projects=["PAY"], **creds),
                                   http=verified_http(sb), sync=None)
        connector = build_connector(settings, clock=sb.now, sleep=lambda _s: None)
        with pytest.raises(AuthError) as info:
            list(connector.iter_pages("issue", None))
        text = str(info.value)
        assert secret not in text
        expected = ("Client must be authenticated" if deployment == "cloud"
                    else "You are not authenticated")
        assert expected in text
        assert info.value.exit_code == 77


def test_read_only_account_gets_a_real_403_on_writes():
    import requests

    with JiraSandbox(tls=True, deployment="cloud", now=NOW, jira_issues=50) as sb:
        viewer = sb.readonly_credentials
        response = requests.put(f"{sb.url}/rest/api/3/issue/PAY-1",
                                json={"fields": {"summary": "x"}},
                                auth=(viewer["email"], viewer["api_token"]), timeout=10,
                                verify=sb.ca_bundle)
        assert response.status_code == 403
        assert response.json()["errorMessages"]
