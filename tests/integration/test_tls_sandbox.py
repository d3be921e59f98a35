"""Issue 13, TLS: both sandboxes serve HTTPS from a throwaway CA; a wrong CA is refused.

A client given ``sandbox.ca_bundle`` reads real records over HTTPS; a client trusting another
CA (a second ``trustme`` CA) fails the handshake; a stalled handshake does not hold up other
clients; the injected transport faults still cut, truncate and delay answers over TLS.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.tls import shared_ca


@pytest.fixture(scope="module")
def sn() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=7, tls=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraSandbox]:
    with JiraSandbox(seed=7, tls=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def wrong_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("other-ca") / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def _sn_session(sn: ServiceNowSandbox, verify: str) -> requests.Session:
    session = requests.Session()
    session.verify = verify
    session.auth = sn.credentials["integration"]
    return session


def _jira_session(jira: JiraSandbox, verify: str) -> requests.Session:
    session = requests.Session()
    session.verify = verify
    session.auth = (jira.credentials["email"], jira.credentials["api_token"])
    return session


def test_both_sandboxes_serve_https_from_one_shared_ca(sn, jira):
    assert sn.url.startswith("https://127.0.0.1:")
    assert jira.url.startswith("https://127.0.0.1:")
    assert sn.ca_bundle == jira.ca_bundle == str(shared_ca().ca_bundle)
    assert Path(sn.ca_bundle).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert ServiceNowSandbox(seed=7).ca_bundle is None


def test_a_client_with_the_sandbox_ca_reads_real_records(sn, jira):
    with _sn_session(sn, sn.ca_bundle) as session:
        rows = session.get(f"{sn.url}/api/now/table/incident",
                           params={"sysparm_limit": 3, "sysparm_fields": "number,sys_id"},
                           timeout=10).json()["result"]
    expected = {r["sys_id"]: r["number"] for r in sn.table("incident")}
    assert len(rows) == 3
    assert all(expected[row["sys_id"]] == row["number"] for row in rows)
    with _jira_session(jira, jira.ca_bundle) as session:
        me = session.get(f"{jira.url}/rest/api/2/myself", timeout=10).json()
        project = jira.world.products[0].key
        issue = session.get(f"{jira.url}/rest/api/2/issue/{project}-1", timeout=10).json()
    assert me["emailAddress"] == jira.credentials["email"]
    assert issue["key"] == f"{project}-1"


def test_a_client_trusting_another_ca_is_refused(sn, jira, wrong_ca):
    for url in (f"{sn.url}/api/now/table/incident", f"{jira.url}/rest/api/2/myself"):
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            requests.get(url, verify=wrong_ca, timeout=10)


def test_plain_http_to_the_https_port_gets_no_answer(sn):
    with pytest.raises(requests.ConnectionError):
        requests.get(sn.url.replace("https://", "http://") + "/api/now/table/incident",
                     timeout=10)


def test_a_stalled_handshake_does_not_block_other_clients(sn, jira):
    stalled = [socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
               for url in (sn.url, jira.url)]
    try:
        with _sn_session(sn, sn.ca_bundle) as session:
            assert session.get(f"{sn.url}/api/now/table/incident?sysparm_limit=1",
                               timeout=5).status_code == 200
        with _jira_session(jira, jira.ca_bundle) as session:
            assert session.get(f"{jira.url}/rest/api/2/myself", timeout=5).status_code == 200
    finally:
        for sock in stalled:
            sock.close()


def test_servicenow_transport_faults_behave_over_tls(sn):
    url = f"{sn.url}/api/now/table/incident?sysparm_limit=50"
    with _sn_session(sn, sn.ca_bundle) as session:
        sn.fail_next("drop")
        with pytest.raises(requests.ConnectionError, match="closed connection"):
            session.get(url, timeout=5)
        sn.fail_next("truncate")
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            session.get(url, timeout=5)
        sn.fail_next("slow")
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.get(url, timeout=0.5)
        assert len(session.get(url, timeout=5).json()["result"]) == 50


def test_jira_transport_faults_behave_over_tls(jira):
    project = jira.world.products[0].key
    url = f"{jira.url}/rest/api/2/search/jql?jql=project%3D{project}&maxResults=20&fields=summary"
    with _jira_session(jira, jira.ca_bundle) as session:
        for kind, error, timeout in (("drop", requests.ConnectionError, 5),
                                     ("truncate", requests.exceptions.ChunkedEncodingError, 5),
                                     ("slow", requests.exceptions.ReadTimeout, 0.1)):
            jira.set_faults(1.0, [kind])
            try:
                with pytest.raises(error):
                    session.get(url, timeout=timeout).json()
            finally:
                jira.set_faults(0.0)
        issues = session.get(url, timeout=5).json()["issues"]
    assert len(issues) == 20
    assert {issue["key"].split("-")[0] for issue in issues} == {project}
