"""Issue 7, security: TLS verification is on by default, a private CA works, off needs a flag.

The sessions checked are the ones the connectors build from settings (the only HTTP
sessions of a run); a real handshake against a loopback HTTPS server with a self-signed
certificate shows what the setting means on the wire. Turning verification off logs
``tls_verification_disabled`` as a warning on every run (checked on the Runner).
"""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from fiveo_sync.logs import get_logger
from fiveo_sync.platforms import build_connectors
from fiveo_sync.runner import Runner, RunOptions
from fiveo_sync.settings import HttpSettings, MappingsSettings, Settings, StateSettings

from .security_platforms import SHIPPED_MAPPINGS, WORLD_NOW


def _settings(url: str = "https://acme.service-now.com", jira_url: str = "https://a.atlassian.net",
              **http: object) -> Settings:
    return Settings(servicenow={"instance_url": url, "username": "svc", "password": "pw"},
                    jira={"url": jira_url, "deployment": "datacenter", "pat": "p"},
                    http=HttpSettings(**http))


def _sessions(settings: Settings) -> dict[str, object]:
    connectors = build_connectors(settings, clock=lambda: None)
    try:
        return {"servicenow": connectors["servicenow"].client.session,
                "jira": connectors["jira"].api.session}
    finally:
        for connector in connectors.values():
            connector.close()


def test_verification_is_on_by_default_in_every_session():
    assert HttpSettings().verify is True
    sessions = _sessions(_settings())
    assert {name: s.verify for name, s in sessions.items()} == {"servicenow": True,
                                                                  "jira": True}
    # Proxies from the environment never see the credentials either (SECURITY.md).
    assert all(s.trust_env is False for s in sessions.values())


def test_a_custom_ca_bundle_reaches_every_session(tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    sessions = _sessions(_settings(ca_bundle=bundle))
    assert {s.verify for s in sessions.values()} == {str(bundle)}


def test_verification_off_needs_the_explicit_setting():
    sessions = _sessions(_settings(verify=False))
    assert {s.verify for s in sessions.values()} == {False}


# -- on the wire ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def https_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603, S607 - fixed arguments
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b'{"result": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_is_refused_by_default(https_server):
    url, _cert = https_server
    for name, session in _sessions(_settings(url, url)).items():
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            session.get(f"{url}/api/now/table/incident", timeout=10)
        session.close()
        assert name


def test_the_private_ca_bundle_makes_the_same_server_trusted(https_server):
    url, cert = https_server
    for session in _sessions(_settings(url, url, ca_bundle=cert)).values():
        assert session.get(f"{url}/api/now/table/incident", timeout=10).json() == {
            "result": []}
        session.close()


# -- the warning -----------------------------------------------------------------------------

def test_verification_off_warns_on_every_run_and_only_then(tmp_path):
    # No connectors are injected: the warning belongs to the run itself, before any request.
    secure = _settings().model_copy(update={
        "state": StateSettings(path=tmp_path / "s.db"),
        "mappings": MappingsSettings(dir=SHIPPED_MAPPINGS)})
    insecure = secure.model_copy(update={"http": HttpSettings(verify=False)})
    log = get_logger("test")
    with capture_logs() as logs:
        for _ in range(2):
            report = Runner(insecure, clock=lambda: WORLD_NOW, log=log, connectors={}).run(
                RunOptions(dry_run=True))
            assert report.exit_code == 0
    warnings = [e for e in logs if e["event"] == "tls_verification_disabled"]
    assert len(warnings) == 2
    assert {e["log_level"] for e in warnings} == {"warning"}
    with capture_logs() as logs:
        Runner(secure, clock=lambda: WORLD_NOW, log=log, connectors={}).run(
            RunOptions(dry_run=True))
    assert [e["event"] for e in logs if e["event"] == "run_finished"] == ["run_finished"]
    assert not [e for e in logs if e["event"] == "tls_verification_disabled"]
