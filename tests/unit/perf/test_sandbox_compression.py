"""Both sandboxes gzip large bodies for clients that accept gzip, and only for them."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def servicenow() -> Iterator[ServiceNowSandbox]:
    with ServiceNowSandbox(seed=2, now=NOW, incidents=200, changes=20, problems=5) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraSandbox]:
    with JiraSandbox(seed=2, now=NOW, jira_issues=150) as sandbox:
        yield sandbox


def _raw_get(url: str, encoding: str, **kwargs: object) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, headers={"Accept-Encoding": encoding}, stream=True, timeout=10,
                       **kwargs)


@pytest.mark.parametrize("encoding", ["gzip, deflate", "identity"])
def test_servicenow_sandbox_gzips_only_when_the_client_accepts_it(
        servicenow: ServiceNowSandbox, encoding: str) -> None:
    user, password = servicenow.credentials["integration"]
    url = f"{servicenow.url}/api/now/table/incident?sysparm_limit=100"
    before = servicenow._server.bytes_sent
    response = _raw_get(url, encoding, auth=(user, password))
    wire = response.raw.read(decode_content=False)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == ("gzip" if "gzip" in encoding else None)
    assert servicenow._server.bytes_sent - before == len(wire)
    plain = _raw_get(url, "identity", auth=(user, password)).content
    _assert_same_body(wire, plain, gzipped="gzip" in encoding)


def _assert_same_body(wire: bytes, plain: bytes, *, gzipped: bool) -> None:
    if gzipped:
        assert gzip.decompress(wire) == plain and len(wire) * 2 < len(plain)
    else:
        assert wire == plain


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_jira_sandbox_gzips_only_when_the_client_accepts_it(
        jira: JiraSandbox, encoding: str) -> None:
    creds = jira.credentials
    url = f"{jira.url}/rest/api/3/field"
    before = jira.bytes_sent
    response = _raw_get(url, encoding, auth=(creds["email"], creds["api_token"]))
    wire = response.raw.read(decode_content=False)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == ("gzip" if encoding == "gzip" else None)
    assert jira.bytes_sent - before == len(wire)
    plain = _raw_get(url, "identity", auth=(creds["email"], creds["api_token"])).content
    _assert_same_body(wire, plain, gzipped=encoding == "gzip")
