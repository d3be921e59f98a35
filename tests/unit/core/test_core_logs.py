import io
import json
import logging

import pytest

from fiveo_sync import logs
from fiveo_sync.redaction import redact_url, register_secret
from fiveo_sync.settings import load_settings

ENV_SECRET = "env-Secret-1234"
FILE_SECRET = "file-Secret-5678"


@pytest.fixture
def settings_with_secrets(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "jira__api_token").write_text(FILE_SECRET)
    monkeypatch.setenv("FIVEO_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("FIVEO_JIRA__URL", "https://acme.atlassian.net")
    monkeypatch.setenv("FIVEO_JIRA__EMAIL", "svc@acme.example")
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "https://acme.service-now.com")
    monkeypatch.setenv("FIVEO_SERVICENOW__PASSWORD", ENV_SECRET)
    return load_settings()


def _emit_everything(log):
    log.info("request_sent", url=f"https://acme.service-now.com/api?password={ENV_SECRET}",
             headers={"Authorization": f"Basic {FILE_SECRET}", "Accept": "json"})
    log.info("odd_place", note=f"token was {FILE_SECRET} and {ENV_SECRET}")
    log.info(f"event text with {ENV_SECRET}")
    logging.getLogger("urllib3.connectionpool").warning(
        "GET /rest?api_token=%s HTTP/1.1", FILE_SECRET)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_never_reach_the_log(settings_with_secrets, fmt):
    stream = io.StringIO()
    logs.configure(fmt, stream=stream)
    _emit_everything(logs.get_logger("test"))
    output = stream.getvalue()
    assert output.count("\n") >= 4
    assert ENV_SECRET not in output
    assert FILE_SECRET not in output
    assert "***" in output


def test_json_lines_have_one_shape_for_stdlib_and_structlog(settings_with_secrets):
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.get_logger("fiveo_sync.test").info("page_fetched", rows=3)
    logging.getLogger("urllib3.connectionpool").warning("retrying %s", "x")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in lines:
        assert {"event", "level", "logger", "timestamp"} <= line.keys()
    assert lines[0]["rows"] == 3
    assert lines[1]["logger"] == "urllib3.connectionpool"


def test_redact_url_masks_user_info_and_secret_params():
    register_secret("verysecretvalue")
    url = "https://user:pw@host/x?sysparm_query=a%3Db&access_token=abc&page=2"
    cleaned = redact_url(url)
    assert "pw@" not in cleaned and "abc" not in cleaned
    assert "page=2" in cleaned and "sysparm_query=a=b" in cleaned
