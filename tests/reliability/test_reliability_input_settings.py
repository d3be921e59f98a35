"""Issue 7, bad input: broken settings are located (file:line:col or variable) and exit 78.

Each case goes through ``fiveo_sync.cli.main`` as an operator would type it; each has a
valid neighbour that exits 0, so a check that refused everything would fail here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fiveo_sync.cli import main

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def _validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
              yaml_text: str, env: dict[str, str] | None = None,
              secrets: dict[str, str] | None = None) -> tuple[int, list[str]]:
    config = tmp_path / "fiveo.yaml"
    config.write_text(f"mappings:\n  dir: {MAPPINGS}\nstate:\n  path: {tmp_path / 's.db'}\n"
                      + yaml_text)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    if secrets:
        folder = tmp_path / "secrets"
        folder.mkdir()
        for name, value in secrets.items():
            (folder / name).write_text(value + "\n")
        monkeypatch.setenv("FIVEO_SECRETS_DIR", str(folder))
    code = main(["--config", str(config), "--log-format", "json", "validate"])
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines()
             if not line.startswith("{")]  # JSON log lines are not the operator's message
    return code, lines


SN = "servicenow:\n  instance_url: https://acme.service-now.com\n  username: svc\n"
JIRA_CLOUD = "jira:\n  url: https://acme.atlassian.net\n  email: bot@acme.example\n"

# (id, settings YAML, environment, secret files, the one expected problem line)
BAD = [
    ("url-without-scheme",
     "servicenow:\n  instance_url: acme.service-now.com\n", {}, {},
     "fiveo.yaml:6:3: servicenow.instance_url: 'acme.service-now.com' is not an absolute "
     "URL; write it as https://host"),
    ("jira-url-without-scheme-from-env",
     "", {"FIVEO_JIRA__URL": "acme.atlassian.net", "FIVEO_JIRA__PAT": "p"}, {},
     "environment FIVEO_JIRA__URL: jira.url: must start with http:// or https://"),
    ("plain-http-to-remote-host",
     "servicenow:\n  instance_url: http://snow.acme.example\n", {}, {},
     "fiveo.yaml:6:3: servicenow.instance_url: plain http:// to snow.acme.example would send "
     "credentials unencrypted; use https:// (or set http.allow_insecure_http: true)"),
    ("plain-http-jira-from-env",
     "", {"FIVEO_JIRA__URL": "http://jira.acme.example", "FIVEO_JIRA__PAT": "p"}, {},
     "environment FIVEO_JIRA__URL: jira.url: plain http:// to jira.acme.example would send "
     "credentials unencrypted; use https:// (or set http.allow_insecure_http: true)"),
    ("missing-ca-bundle",
     "http:\n  ca_bundle: /nonexistent/corp-ca.pem\n", {}, {},
     "fiveo.yaml:6:3: http.ca_bundle: CA bundle /nonexistent/corp-ca.pem does not exist or "
     "is not a file"),
    ("basic-with-client-secret",
     SN + "  auth: basic\n", {}, {"servicenow__password": "pw", "servicenow__client_secret": "cs"},
     "secrets/servicenow__client_secret:1:1: servicenow.client_secret: servicenow.auth is "
     "basic, which sends no OAuth client secret; remove it or set servicenow.auth to an "
     "oauth_* mode"),
    ("client-credentials-with-password",
     "servicenow:\n  instance_url: https://acme.service-now.com\n"
     "  auth: oauth_client_credentials\n  client_id: app\n",
     {"FIVEO_SERVICENOW__PASSWORD": "pw", "FIVEO_SERVICENOW__CLIENT_SECRET": "cs"}, {},
     "environment FIVEO_SERVICENOW__PASSWORD: servicenow.password: servicenow.auth is "
     "oauth_client_credentials, which runs as the OAuth application's user and sends no "
     "password; remove it or set servicenow.auth to basic or oauth_password"),
    ("jira-api-token-and-pat",
     JIRA_CLOUD, {"FIVEO_JIRA__API_TOKEN": "t"}, {"jira__pat": "p"},
     "secrets/jira__pat:1:1: jira.pat: both jira.api_token (Cloud) and jira.pat (Data "
     "Center) are set; keep only the one for your deployment"),
]

GOOD = [
    ("https", SN, {}, {"servicenow__password": "pw"}),
    ("plain-http-loopback", "servicenow:\n  instance_url: http://127.0.0.1:8080\n", {}, {}),
    ("plain-http-explicitly-allowed",
     "servicenow:\n  instance_url: http://snow.acme.example\nhttp:\n"
     "  allow_insecure_http: true\n", {}, {}),
    ("oauth-password-uses-all-four", SN + "  auth: oauth_password\n  client_id: app\n", {},
     {"servicenow__password": "pw", "servicenow__client_secret": "cs"}),
    ("client-credentials-alone",
     "servicenow:\n  instance_url: https://acme.service-now.com\n"
     "  auth: oauth_client_credentials\n  client_id: app\n", {},
     {"servicenow__client_secret": "cs"}),
    ("jira-cloud-token-only", JIRA_CLOUD, {"FIVEO_JIRA__API_TOKEN": "t"}, {}),
    ("jira-dc-pat-only", "jira:\n  url: https://jira.acme.example\n", {}, {"jira__pat": "p"}),
]


@pytest.mark.parametrize(("yaml_text", "env", "secrets", "expected"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_settings_are_located_and_exit_78(tmp_path, monkeypatch, capsys, yaml_text, env,
                                               secrets, expected):
    code, lines = _validate(tmp_path, monkeypatch, capsys, yaml_text, env, secrets)
    assert code == 78, lines
    assert len(lines) == 1, lines
    assert lines[0].endswith(expected), lines[0]


@pytest.mark.parametrize(("yaml_text", "env", "secrets"), [case[1:] for case in GOOD],
                         ids=[case[0] for case in GOOD])
def test_neighbouring_good_settings_pass(tmp_path, monkeypatch, capsys, yaml_text, env,
                                         secrets):
    code, lines = _validate(tmp_path, monkeypatch, capsys, yaml_text, env, secrets)
    assert code == 0, lines
    assert lines and lines[-1].startswith("ok: "), lines


@pytest.mark.parametrize(("yaml_text", "expected"), [
    (SN + "  password: hunter2-in-yaml\n",
     "fiveo.yaml:8:3: servicenow.password: a secret does not belong in the settings file: set "
     "FIVEO_SERVICENOW__PASSWORD or put it in the file servicenow__password of "
     "FIVEO_SECRETS_DIR"),
    (JIRA_CLOUD + "  api_token: hunter2-in-yaml\n",
     "fiveo.yaml:8:3: jira.api_token: a secret does not belong in the settings file: set "
     "FIVEO_JIRA__API_TOKEN or put it in the file jira__api_token of FIVEO_SECRETS_DIR"),
], ids=["servicenow-password", "jira-api-token"])
def test_a_secret_in_the_settings_file_is_refused_without_echoing_it(
        tmp_path, monkeypatch, capsys, yaml_text, expected):
    # deploy/SECURITY.md: secrets come from the environment or secret files only.
    code, lines = _validate(tmp_path, monkeypatch, capsys, yaml_text)
    assert code == 78
    assert [line[line.index("fiveo.yaml:"):] for line in lines] == [expected]
    assert "hunter2" not in "\n".join(lines)


def test_conflicting_auth_stops_a_run_before_any_request(tmp_path, monkeypatch, capsys):
    # The scheduled command, not only validate: exit 78 on stderr, located, nothing sent.
    config = tmp_path / "fiveo.yaml"
    config.write_text(f"mappings:\n  dir: {MAPPINGS}\nstate:\n  path: {tmp_path / 's.db'}\n"
                      "jira:\n  url: https://jira.invalid\n  email: bot@acme.example\n")
    monkeypatch.setenv("FIVEO_JIRA__API_TOKEN", "token-value-1")
    monkeypatch.setenv("FIVEO_JIRA__PAT", "pat-value-2")
    code = main(["--config", str(config), "--log-format", "json", "run"])
    err = capsys.readouterr().err
    assert code == 78
    assert "environment FIVEO_JIRA__PAT: jira.pat: both jira.api_token" in err
    assert "token-value-1" not in err and "pat-value-2" not in err
    assert not (tmp_path / "s.db").exists()
