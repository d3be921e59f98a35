"""Bad credentials through the CLI: exit 77, the platform's own words, no secret."""

from __future__ import annotations

import pytest

from fiveo_sync.cli import main


@pytest.fixture
def env_for(monkeypatch, tmp_path):
    def apply(platforms, source, secret):
        monkeypatch.setenv("FIVEO_STATE__PATH", str(tmp_path / "state.sqlite"))
        monkeypatch.setenv("FIVEO_HTTP__MAX_ATTEMPTS", "2")
        # The sandboxes serve HTTPS from their shared CA: trust it, verification on.
        monkeypatch.setenv("FIVEO_HTTP__CA_BUNDLE", str(platforms.settings.http.ca_bundle))
        if source == "servicenow":
            user, _ = platforms.sn.credentials["integration"]
            monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", platforms.sn.url)
            monkeypatch.setenv("FIVEO_SERVICENOW__USERNAME", user)
            monkeypatch.setenv("FIVEO_SERVICENOW__PASSWORD", secret)
        else:
            monkeypatch.setenv("FIVEO_JIRA__URL", platforms.jira.url)
            monkeypatch.setenv("FIVEO_JIRA__EMAIL", platforms.jira.credentials["email"])
            monkeypatch.setenv("FIVEO_JIRA__API_TOKEN", secret)
    return apply


@pytest.mark.parametrize(("source", "message"), [
    ("servicenow", "User Not Authenticated"),
    ("jira", "Client must be authenticated to access this resource."),
])
def test_bad_credentials_exit_77_without_the_secret(platforms, env_for, capsys, source,
                                                    message):
    secret = "Wr0ng-Secret-Value-42"
    env_for(platforms, source, secret)
    code = main(["--log-format", "json", "pull", "--source", source])
    out, err = capsys.readouterr()
    assert code == 77
    assert message in err
    assert secret not in out + err
