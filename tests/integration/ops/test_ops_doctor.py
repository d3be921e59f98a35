"""fiveo-sync doctor against both sandboxes over verified HTTPS, with full and read-only users."""

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.doctor import PROBE_PREFIX
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.cli import main

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2025, 4, 3, tzinfo=UTC)
# The shipped portfolio describes build_world(seed=7, scale="small").
SEED = 7


@pytest.fixture(scope="module")
def servicenow():
    with ServiceNowSandbox(seed=SEED, scale="small", now=NOW, tls=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def jira(request):
    with JiraSandbox(seed=SEED, scale="small", now=NOW, deployment=request.param,
                     tls=True) as sandbox:
        yield sandbox


def configure(tmp_path, monkeypatch, *, servicenow=None, jira=None, role="full",
              mode="table", servicenow_url=None, password=None) -> Path:
    """A settings file without secrets plus a FIVEO_SECRETS_DIR, as deploy/ sets them up."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    lines = [f"mappings: {{dir: {REPO / 'mappings'}}}",
             f"state: {{path: {tmp_path / 'state.sqlite'}}}",
             "http: {timeout_s: 5}"]
    # The sandboxes share one throwaway CA: trust it with verification on.
    bundle = next((s.ca_bundle for s in (servicenow, jira) if s is not None), None)
    if bundle is not None:
        lines[-1] = f"http: {{timeout_s: 5, verify: true, ca_bundle: '{bundle}'}}"
    if servicenow is not None or servicenow_url:
        user, secret = ("nobody", "x")
        if servicenow is not None:
            user, secret = servicenow.credentials["integration" if role == "full" else "readonly"]
        lines += ["servicenow:", f"  instance_url: {servicenow_url or servicenow.url}",
                  f"  username: {user}", f"  write: {{mode: {mode}}}"]
        (secrets / "servicenow__password").write_text((password or secret) + "\n")
    if jira is not None:
        credentials = jira.credentials if role == "full" else jira.readonly_credentials
        lines += ["jira:", f"  url: {jira.url}"]
        if "email" in credentials:
            lines.append(f"  email: {credentials['email']}")
            (secrets / "jira__api_token").write_text(password or credentials["api_token"])
        else:
            (secrets / "jira__pat").write_text(password or credentials["pat"])
    config = tmp_path / "fiveo-sync.yaml"
    config.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("FIVEO_SECRETS_DIR", str(secrets))
    return config


def doctor(config: Path, capsys, *extra: str) -> tuple[int, list[str], str]:
    code = main(["--config", str(config), "--log-format", "json", "doctor", *extra])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def lines_of(out: list[str], status: str) -> list[str]:
    return [line for line in out if line.startswith(status)]


@pytest.mark.parametrize("mode", ["table", "import_set"])
def test_servicenow_passes_with_full_rights_and_leaves_no_probe(servicenow, tmp_path,
                                                                monkeypatch, capsys, mode):
    config = configure(tmp_path, monkeypatch, servicenow=servicenow, mode=mode)
    code, out, err = doctor(config, capsys, "--source", "servicenow")
    assert code == 0, "\n".join(out)
    assert not lines_of(out, "FAILED")
    names = [line.split(":")[0].split(None, 2)[2] for line in lines_of(out, "ok")]
    for expected in ("reachable", "credentials", "read incident", "read change_request",
                     "read task_sla", "read sys_audit_delete", "read u_fiveo_indicator"):
        assert expected in names
    assert out[-1].startswith("doctor:") and out[-1].endswith("all passed")
    keys = [row["u_key"] for row in servicenow.table("u_fiveo_indicator")]
    assert not [k for k in keys if k.startswith(PROBE_PREFIX)]
    password = servicenow.credentials["integration"][1]
    assert password not in "\n".join(out) + err


def test_servicenow_read_only_user_is_told_which_right_is_missing(servicenow, tmp_path,
                                                                  monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, servicenow=servicenow, role="readonly")
    code, out, _ = doctor(config, capsys, "--source", "servicenow")
    assert code == 77
    failed = lines_of(out, "FAILED")
    assert failed == ["FAILED servicenow create in u_fiveo_indicator: HTTP 403: create denied"]
    fix = out[out.index(failed[0]) + 1]
    assert "fix: grant create and write on u_fiveo_indicator" in fix
    assert any("read incident: readable" in line for line in out)


def test_servicenow_read_only_user_in_import_set_mode(servicenow, tmp_path, monkeypatch,
                                                      capsys):
    config = configure(tmp_path, monkeypatch, servicenow=servicenow, role="readonly",
                       mode="import_set")
    code, out, _ = doctor(config, capsys, "--source", "servicenow")
    assert code == 77
    (failed,) = lines_of(out, "FAILED")
    assert "import into u_fiveo_indicator_import" in failed and "403" in failed


def test_wrong_password_is_a_credentials_failure(servicenow, tmp_path, monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, servicenow=servicenow, password="wrong-password")
    code, out, _ = doctor(config, capsys, "--source", "servicenow")
    assert code == 77
    assert any(line.startswith("ok     servicenow reachable") for line in out)
    (failed,) = lines_of(out, "FAILED")
    assert "servicenow credentials: HTTP 401" in failed


def test_unreachable_instance_exits_69(tmp_path, monkeypatch, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port any more
    config = configure(tmp_path, monkeypatch, servicenow_url=f"http://127.0.0.1:{port}")
    code, out, _ = doctor(config, capsys)
    assert code == 69
    (failed,) = lines_of(out, "FAILED")
    assert failed.startswith("FAILED servicenow reachable:")
    assert "fix: check servicenow.instance_url" in out[out.index(failed) + 1]


def test_jira_passes_with_full_rights(jira, tmp_path, monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, jira=jira)
    writes_before = len(jira.writes)
    code, out, _ = doctor(config, capsys, "--source", "jira")
    assert len(jira.writes) == writes_before  # doctor never writes to Jira
    zone = next(line for line in out if "user time zone" in line)
    assert zone.startswith("ok") and str(jira.zone) in zone
    boards = [line for line in out if "story points board" in line]
    assert len(boards) == 6 and all(line.startswith("ok") for line in boards)
    assert code == 0, "\n".join(out)
    assert len([line for line in out if "permissions " in line]) == 4


def test_jira_read_only_account_is_told_which_permission_is_missing(jira, tmp_path,
                                                                     monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, jira=jira, role="readonly")
    code, out, _ = doctor(config, capsys, "--source", "jira")
    assert code == 77
    failed = lines_of(out, "FAILED")
    assert failed and all("permissions" in line for line in failed)
    assert all("Create Issues" in line and "Edit Issues" in line for line in failed)


def test_jira_wrong_token_is_a_credentials_failure(jira, tmp_path, monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, jira=jira, password="not-the-token")
    code, out, _ = doctor(config, capsys, "--source", "jira")
    assert code == 77
    (failed,) = lines_of(out, "FAILED")
    assert "jira       credentials" in failed


def test_both_platforms_with_full_rights(servicenow, jira, tmp_path, monkeypatch, capsys):
    config = configure(tmp_path, monkeypatch, servicenow=servicenow, jira=jira)
    code, out, _ = doctor(config, capsys)
    assert out[0].startswith("ok     settings   mappings")
    assert {line.split()[1] for line in out[:-1] if not line.startswith(" ")} == {
        "settings", "servicenow", "jira"}
    assert code == 0, "\n".join(out)
