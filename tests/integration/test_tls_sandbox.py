"""Issue 13, TLS: both sandboxes serve HTTPS from a throwaway CA; a wrong CA is refused.

A client given ``sandbox.ca_bundle`` reads real records over HTTPS; a client trusting another
CA (a second ``trustme`` CA) fails the handshake; a stalled handshake does not hold up other
clients; the injected transport faults still cut, truncate and delay answers over TLS.
``fiveo-sync pull`` with a wrong ``http.ca_bundle`` exits 78 (a configuration problem: no retry
fixes trust) naming certificate verification and ``http.ca_bundle``; the jira library and
pysnow work unchanged with ``verify=<bundle>``; ``fiveo-sync sandbox --tls`` prints the bundle.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import trustme

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.tls import LocalCA, shared_ca
from fiveo_sync.cli import main
from fiveo_sync.state import StateStore

REPO = Path(__file__).resolve().parents[2]


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


# -- fiveo-sync itself -------------------------------------------------------------------------

def _pull_config(tmp_path: Path, sn: ServiceNowSandbox, ca_bundle: str) -> Path:
    config = tmp_path / "fiveo-sync.yaml"
    config.write_text("\n".join([
        f"mappings: {{dir: '{REPO / 'mappings'}'}}",
        f"state: {{path: '{tmp_path / 'state.sqlite'}'}}",
        f"http: {{timeout_s: 5, max_attempts: 3, backoff_s: 0, verify: true, "
        f"ca_bundle: '{ca_bundle}'}}",
        "servicenow:", f"  instance_url: {sn.url}",
        f"  username: {sn.credentials['integration'][0]}", ""]))
    return config


def test_pull_with_the_sandbox_ca_reads_every_incident(sn, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FIVEO_SERVICENOW__PASSWORD", sn.credentials["integration"][1])
    config = _pull_config(tmp_path, sn, sn.ca_bundle)
    assert main(["--config", str(config), "pull", "--source", "servicenow"]) == 0
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store.count_records("servicenow", "incident") == len(sn.table("incident"))


def test_pull_with_a_wrong_ca_bundle_is_a_trust_problem_not_an_outage(
        sn, wrong_ca, tmp_path, monkeypatch, capsys):
    password = sn.credentials["integration"][1]
    monkeypatch.setenv("FIVEO_SERVICENOW__PASSWORD", password)
    config = _pull_config(tmp_path, sn, wrong_ca)
    before = sn.requests_for("/api/now/")
    # 78 (EX_CONFIG): the operator must fix http.ca_bundle; retrying cannot help (not 69).
    assert main(["--config", str(config), "--log-format", "json", "pull",
                 "--source", "servicenow"]) == 78
    err = capsys.readouterr().err
    message = next(line for line in err.splitlines() if line.startswith("fiveo-sync pull:"))
    assert "TLS certificate verification failed" in message
    assert "certificate verify failed: unable to get local issuer certificate" in message
    assert f"the CA bundle {wrong_ca}" in message and "set http.ca_bundle" in message
    assert "Traceback" not in err and password not in err
    assert sn.requests_for("/api/now/") == before  # no request got past the handshake


# -- third-party clients, unchanged, with verify=<bundle> -----------------------------------

def test_the_jira_library_connects_over_https_with_the_bundle(jira, wrong_ca):
    from jira import JIRA
    from jira.exceptions import JIRAError

    auth = (jira.credentials["email"], jira.credentials["api_token"])
    client = JIRA(server=jira.url, basic_auth=auth, max_retries=0, timeout=10,
                  options={"verify": jira.ca_bundle})
    assert client.myself()["emailAddress"] == auth[0]
    key = f"{jira.world.products[0].key}-1"
    assert client.issue(key).fields.summary == jira.data.find(key).summary
    client.close()
    with pytest.raises((requests.exceptions.SSLError, JIRAError), match="CERTIFICATE_VERIFY"):
        JIRA(server=jira.url, basic_auth=auth, max_retries=0, timeout=10,
             options={"verify": wrong_ca}).myself()


def test_pysnow_connects_over_https_with_the_bundle(sn):
    import pysnow

    session = requests.Session()
    session.auth, session.verify = sn.credentials["integration"], sn.ca_bundle
    client = pysnow.Client(host=urlsplit(sn.url).netloc, use_ssl=True, session=session)
    rows = list(client.resource(api_path="/table/incident").get(
        query={"priority": "1"}, limit=5).all())
    expected = {r["sys_id"] for r in sn.table("incident") if r["priority"] == "1"}
    assert rows and {r["sys_id"] for r in rows} <= expected
    session.close()


# -- the sandbox command --------------------------------------------------------------------

@pytest.mark.parametrize("platform", ["servicenow", "jira"])
def test_sandbox_command_with_tls_prints_a_usable_ca_bundle(platform, tmp_path):
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "fiveo_sync", "sandbox", platform, "--seed", "3", "--tls",
         "--ca-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, cwd=REPO)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        info = json.loads("".join(lines))
        assert info["url"].startswith("https://127.0.0.1:")
        assert info["ca_bundle"] == str(tmp_path / "sandbox-ca.pem")
        creds = info["credentials"]
        if platform == "servicenow":
            answer = requests.get(info["url"] + "/api/now/table/sys_user?sysparm_limit=1",
                                  auth=tuple(creds["integration"]), verify=info["ca_bundle"],
                                  timeout=10)
            assert len(answer.json()["result"]) == 1
        else:
            answer = requests.get(info["url"] + "/rest/api/2/myself", verify=info["ca_bundle"],
                                  auth=(creds["email"], creds["api_token"]), timeout=10)
            assert answer.json()["emailAddress"] == creds["email"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def test_sandbox_command_refuses_ca_dir_without_tls(capsys):
    assert main(["sandbox", "jira", "--ca-dir", "/tmp"]) == 78
    assert "--ca-dir needs --tls" in capsys.readouterr().err


# -- the demo's settings ----------------------------------------------------------------------

def test_demo_settings_verify_tls_with_the_shared_bundle_and_no_insecure_flag(sn, jira, tmp_path):
    from fiveo_sync.demo import DemoOptions, build_demo_settings

    settings = build_demo_settings(sn, jira, DemoOptions(out_dir=tmp_path))
    assert settings.servicenow.instance_url == sn.url and settings.jira.url == jira.url
    assert settings.http.verify is True and settings.http.allow_insecure_http is False
    assert settings.http.tls_verify == sn.ca_bundle
    with ServiceNowSandbox(seed=7, tls=True, ca=LocalCA(tmp_path / "other")) as other:
        with pytest.raises(ValueError, match="share one CA"):
            build_demo_settings(other, jira, DemoOptions(out_dir=tmp_path))
