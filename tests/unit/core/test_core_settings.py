import pytest

from fiveo_sync.cli import main
from fiveo_sync.errors import MappingError
from fiveo_sync.settings import load_settings


def _problems(excinfo):
    return [f"{loc}: {msg}" for loc, msg in excinfo.value.problems]


def test_env_nesting_and_yaml_file(tmp_path, monkeypatch):
    config = tmp_path / "fiveo.yaml"
    config.write_text("http:\n  timeout_s: 12\nservicenow:\n  username: svc\n")
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "https://acme.service-now.com")
    monkeypatch.setenv("FIVEO_HTTP__TIMEOUT_S", "7")
    settings = load_settings(config)
    assert settings.servicenow.instance_url == "https://acme.service-now.com"
    assert settings.servicenow.username == "svc"
    assert settings.http.timeout_s == 7  # environment beats the file


def test_unknown_key_in_file_is_located(tmp_path, monkeypatch):
    config = tmp_path / "fiveo.yaml"
    config.write_text("servicenow:\n  username: svc\n  pasword: x\n")
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "https://acme.service-now.com")
    with pytest.raises(MappingError) as caught:
        load_settings(config)
    [problem] = _problems(caught)
    assert problem.endswith("fiveo.yaml:3:3: servicenow.pasword: unknown setting 'pasword' "
                            "(did you mean 'password'?)")


def test_unknown_env_variables_are_named(monkeypatch):
    monkeypatch.setenv("FIVEO_JIRA__URL", "https://acme.atlassian.net")
    monkeypatch.setenv("FIVEO_JIRA__TOKN", "x")
    monkeypatch.setenv("FIVEO_STAT__PATH", "x")
    with pytest.raises(MappingError) as caught:
        load_settings()
    problems = _problems(caught)
    assert ("environment FIVEO_STAT__PATH: unknown setting 'stat' (did you mean 'state'?)"
            in problems)
    assert ("environment FIVEO_JIRA__TOKN: jira.tokn: unknown setting 'tokn' "
            "(did you mean 'api_token'?)") in problems


@pytest.mark.parametrize(("url", "expected"), [
    ("acme.service-now.com", "is not an absolute URL"),
    ("http://acme.service-now.com", "plain http:// to acme.service-now.com"),
])
def test_unsafe_urls_are_refused(monkeypatch, url, expected):
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", url)
    with pytest.raises(MappingError) as caught:
        load_settings()
    [problem] = _problems(caught)
    assert problem.startswith("environment FIVEO_SERVICENOW__INSTANCE_URL: "
                              "servicenow.instance_url: ")
    assert expected in problem


def test_plain_http_to_loopback_is_allowed(monkeypatch):
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "http://127.0.0.1:8080")
    assert load_settings().servicenow.instance_url == "http://127.0.0.1:8080"


def test_plain_http_elsewhere_needs_explicit_permission(monkeypatch):
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "http://snow.internal")
    monkeypatch.setenv("FIVEO_HTTP__ALLOW_INSECURE_HTTP", "true")
    assert load_settings().http.allow_insecure_http is True


def test_missing_ca_bundle_is_located(tmp_path):
    config = tmp_path / "fiveo.yaml"
    config.write_text("http:\n  ca_bundle: /nonexistent/ca.pem\n")
    with pytest.raises(MappingError) as caught:
        load_settings(config)
    [problem] = _problems(caught)
    assert "fiveo.yaml:2:3: http.ca_bundle: CA bundle" in problem
    assert "/nonexistent/ca.pem" in problem


def test_secrets_dir_supplies_secret_values(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "servicenow__password").write_text("s3cret-from-file\n")
    monkeypatch.setenv("FIVEO_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "https://acme.service-now.com")
    settings = load_settings()
    assert settings.servicenow.password.get_secret_value() == "s3cret-from-file"
    assert "s3cret-from-file" not in repr(settings)


def test_yaml_tags_cannot_execute(tmp_path):
    config = tmp_path / "fiveo.yaml"
    config.write_text("http: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(MappingError) as caught:
        load_settings(config)
    [problem] = _problems(caught)
    assert "fiveo.yaml:1:7: http: YAML tag" in problem


def test_cli_exits_78_naming_key_and_file(tmp_path, monkeypatch, capsys):
    config = tmp_path / "fiveo.yaml"
    config.write_text("servicenow:\n  colour: blue\n")
    monkeypatch.setenv("FIVEO_SERVICENOW__INSTANCE_URL", "https://x.service-now.com")
    code = main(["--config", str(config), "pull"])
    assert code == 78
    err = capsys.readouterr().err
    assert "fiveo.yaml:2:3: servicenow.colour: unknown setting 'colour'" in err


def test_the_analytics_memory_limit_defaults_to_384_mb_and_refuses_too_little(tmp_path):
    config = tmp_path / "fiveo.yaml"
    config.write_text("state:\n  path: ./s.sqlite\n")
    assert load_settings(config).state.analytics_memory_mb == 384
    config.write_text("state:\n  path: ./s.sqlite\n  analytics_memory_mb: 16\n")
    with pytest.raises(MappingError) as caught:
        load_settings(config)
    [problem] = _problems(caught)
    assert "fiveo.yaml:3:3: state.analytics_memory_mb:" in problem
    assert "64" in problem
