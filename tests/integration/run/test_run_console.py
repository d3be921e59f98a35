"""The console of ``fiveo-sync run``: JSON log lines for schedulers, progress for people.

Without a terminal the log is JSON lines on stderr (ending with one ``run_finished``) and
stdout stays empty; ``--log-file`` moves the lines to the file; on a terminal (a
pseudo-terminal here) the run draws its progress and a summary, and no log line.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync import logs
from fiveo_sync.cli import main
from fiveo_sync.demo import DemoOptions, build_demo_settings


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Sandboxes on the wall clock (the CLI reads it) and the settings as FIVEO_ variables."""
    out = tmp_path_factory.mktemp("console")
    now = datetime.now(UTC).replace(microsecond=0)
    with ServiceNowSandbox(seed=5, scale="small", now=now, tls=True) as sn, \
            JiraSandbox(seed=5, scale="small", now=now, tls=True) as jira:
        s = build_demo_settings(sn, jira, DemoOptions(out_dir=out / "report"))
        env = {
            "FIVEO_SERVICENOW__INSTANCE_URL": s.servicenow.instance_url,
            "FIVEO_SERVICENOW__USERNAME": s.servicenow.username or "",
            "FIVEO_SERVICENOW__PASSWORD": s.servicenow.password.get_secret_value(),
            "FIVEO_JIRA__URL": s.jira.url, "FIVEO_JIRA__DEPLOYMENT": s.jira.deployment,
            "FIVEO_JIRA__EMAIL": s.jira.email or "",
            "FIVEO_JIRA__API_TOKEN": s.jira.api_token.get_secret_value(),
            "FIVEO_STATE__PATH": str(out / "state.sqlite"),
            "FIVEO_MAPPINGS__DIR": str(s.mappings.dir),
            "FIVEO_REPORT__DIR": str(out / "report"),
            "FIVEO_HTTP__VERIFY": "true",
            "FIVEO_HTTP__CA_BUNDLE": str(s.http.ca_bundle),
        }
        yield out, env


@pytest.fixture
def fiveo_env(world, monkeypatch):
    _, env = world
    for name in [k for k in os.environ if k.startswith("FIVEO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    logs.configure("json", stream=sys.stderr)  # close the test's log file


def _json_lines(text):
    lines = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            lines.append(record)
    return lines


def test_log_file_takes_the_json_lines_and_stderr_stays_clean(world, fiveo_env, capsys):
    out, _ = world
    log_file = out / "logs" / "run.log"
    assert main(["--log-file", str(log_file), "run"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _json_lines(captured.err) == []
    events = _json_lines(log_file.read_text())
    assert [e["event"] for e in events].count("run_finished") == 1
    assert events[-1]["event"] == "run_finished"
    assert events[-1]["status"] == "ok"
    assert any(e["event"] == "stream_pulled" for e in events)


def test_without_a_terminal_run_writes_json_lines_to_stderr(world, fiveo_env, capsys):
    code = main(["run"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    assert captured.out == ""
    events = _json_lines(captured.err)
    assert len(events) == len(captured.err.splitlines())  # nothing but JSON lines
    finished = [e for e in events if e["event"] == "run_finished"]
    assert len(finished) == 1 and finished[0] is events[-1]
    assert finished[0]["exit_code"] == 0


def _run_on_a_terminal(args, env, timeout=120.0):
    """Run the CLI with stdin, stdout and stderr on a pseudo-terminal; return its output."""
    master, slave = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "fiveo_sync", *args], stdin=slave,
                             stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif child.poll() is not None:
                break
    finally:
        os.close(master)
        code = child.wait(timeout=10)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_run_shows_progress_and_a_summary(world, fiveo_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVEO_")}
    env.update(fiveo_env, NO_COLOR="1", TERM="xterm", COLUMNS="120")
    code, text = _run_on_a_terminal(["run", "--full"], env)
    assert code == 0, text[-2000:]
    assert _json_lines(text) == []
    assert not re.search("\x1b\\[[0-9;]*3[0-9]m", text)  # NO_COLOR: no colour codes
    text = re.sub("\x1b\\[[0-9;?]*[A-Za-z]", "", text)  # bold and cursor moves
    # The live display: streams with their records and pages while they are pulled.
    assert "servicenow incident" in text and "jira issue" in text
    assert " records" in text and " pages" in text
    assert "computing indicators" in text
    # The summary stays on the terminal.
    assert "fiveo-sync run ok in " in text
    assert "pulled " in text and " streams; computed " in text
    assert "servicenow " in text.split("fiveo-sync run ok", 1)[1]
    assert "dashboard " in text
