import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from connectors.http import HttpClient, RetryPolicy, build_session, parse_retry_after
from fiveo_sync.errors import AuthError, DataError, UnavailableError

URL = "https://acme.service-now.com/api/now/table/incident"


def _client(**policy):
    sleeps = []
    client = HttpClient("servicenow", build_session(), RetryPolicy(**policy),
                        sleep=sleeps.append)
    return client, sleeps


@responses.activate(registry=OrderedRegistry)
def test_retry_after_is_honoured_exactly():
    responses.get(URL, status=429, headers={"Retry-After": "3"},
                  json={"error": {"message": "Rate limit exceeded"}, "status": "failure"})
    responses.get(URL, status=503, headers={"Retry-After": "1"})
    responses.get(URL, json={"result": []})
    client, sleeps = _client()
    _, body = client.request("GET", URL)
    assert body == {"result": []}
    assert sleeps == [3.0, 1.0]
    assert client.stats.snapshot()["retries"] == 2


@responses.activate(registry=OrderedRegistry)
def test_5xx_backs_off_then_gives_up_as_unavailable():
    for _ in range(3):
        responses.get(URL, status=500)
    client, sleeps = _client(max_attempts=3, backoff_s=0.5)
    with pytest.raises(UnavailableError) as caught:
        client.request("GET", URL)
    assert caught.value.exit_code == 69
    assert len(sleeps) == 2 and all(0 <= s <= 120 for s in sleeps)


@responses.activate
def test_retry_after_longer_than_allowed_fails_fast():
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    client, sleeps = _client(max_wait_s=60)
    with pytest.raises(UnavailableError):
        client.request("GET", URL)
    assert sleeps == []


@responses.activate
def test_401_fails_fast_with_the_platform_message():
    responses.get(URL, status=401, json={"error": {"message": "User Not Authenticated",
                                                   "detail": "Required to provide Auth "
                                                             "information"},
                                         "status": "failure"})
    client, sleeps = _client()
    with pytest.raises(AuthError, match="User Not Authenticated"):
        client.request("GET", URL)
    assert sleeps == []


@responses.activate
def test_other_4xx_is_a_data_error():
    responses.get(URL, status=400, json={"errorMessages": ["bad jql"], "errors": {}})
    client, _ = _client()
    with pytest.raises(DataError, match="bad jql"):
        client.request("GET", URL)


@responses.activate(registry=OrderedRegistry)
def test_truncated_body_is_retried():
    responses.get(URL, body='{"result": [{"sys_id": "a"', content_type="application/json")
    responses.get(URL, json={"result": [{"sys_id": "a"}]})
    client, sleeps = _client()
    _, body = client.request("GET", URL)
    assert body["result"][0]["sys_id"] == "a" and len(sleeps) == 1


@responses.activate(registry=OrderedRegistry)
def test_connection_errors_are_retried_for_reads_only():
    responses.get(URL, body=requests.ConnectionError("reset"))
    responses.get(URL, json={"ok": True})
    client, _ = _client()
    assert client.request("GET", URL)[1] == {"ok": True}
    responses.post(URL, body=requests.ConnectionError("reset"))
    with pytest.raises(UnavailableError):
        client.request("POST", URL, json={})


@responses.activate
def test_post_is_not_retried_on_5xx():
    responses.post(URL, status=502)
    client, sleeps = _client()
    with pytest.raises(UnavailableError, match="not retried"):
        client.request("POST", URL, json={})
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_jira_quota_429_fails_fast():
    responses.get(URL, status=429, headers={"RateLimit-Reason": "jira-quota-tenant-based"})
    client, sleeps = _client()
    with pytest.raises(UnavailableError):
        client.request("GET", URL)
    assert sleeps == []


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("garbage") is None


def _tls_failure(cause: Exception) -> requests.exceptions.SSLError:
    """What requests raises for a TLS failure while connecting (urllib3's wrapping)."""
    import urllib3

    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(
        None, URL, urllib3.exceptions.SSLError(cause)))


@responses.activate
def test_an_untrusted_certificate_is_a_config_error_at_once(tmp_path):
    import ssl

    from fiveo_sync.errors import ConfigError

    bundle = tmp_path / "corp-ca.pem"
    responses.get(URL, body=_tls_failure(ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed")))
    sleeps: list[float] = []
    client = HttpClient("servicenow", build_session(verify=str(bundle)), RetryPolicy(),
                        sleep=sleeps.append)
    with pytest.raises(ConfigError) as caught:
        client.request("GET", URL)
    assert caught.value.exit_code == 78 and sleeps == []
    assert "TLS certificate verification failed" in str(caught.value)
    assert f"the CA bundle {bundle}" in str(caught.value) and "http.ca_bundle" in str(caught.value)


@responses.activate(registry=OrderedRegistry)
def test_a_handshake_cut_off_is_an_ordinary_retried_connection_error():
    import ssl

    responses.get(URL, body=_tls_failure(ssl.SSLEOFError(8, "EOF occurred in violation")))
    responses.get(URL, json={"result": []})
    client, sleeps = _client()
    assert client.request("GET", URL)[1] == {"result": []}
    assert len(sleeps) == 1
