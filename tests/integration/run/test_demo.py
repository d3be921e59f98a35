"""`fiveo-sync demo`: no configuration, both sandboxes, two runs, real values shown."""

from __future__ import annotations

import json
import re
import subprocess
import sys


def test_demo_runs_twice_and_shows_owner_views_without_log_lines(tmp_path):
    out_dir = tmp_path / "demo"
    # As `fiveo-sync demo | cat`: stdout (and stderr) are pipes, not a terminal.
    done = subprocess.run([sys.executable, "-m", "fiveo_sync", "demo", "--out", str(out_dir)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "1. Full run" in out and "2. Incremental run" in out
    full, incremental = re.findall(r"pulled ([\d,]+) records", out)
    assert int(full.replace(",", "")) > 5000
    # 3 incidents resolved + 1 raised in ServiceNow; 1 bug raised + 1 issue edited in Jira.
    assert int(incremental) == 6
    assert re.search(r"operate\.mttr\s+\S+\s+\S+\s+\d+\.\d\d h", out)  # a real value
    assert "== service " in out and "== product " in out
    # No log line on the console; the log is in the demo's folder, and the narrative says so.
    for line in (out + done.stderr).splitlines():
        assert not line.lstrip().startswith("{"), line
    assert done.stderr == ""
    log_file = out_dir / "demo.log"
    assert f"Log:         {log_file.resolve()}" in out
    events = [json.loads(line)["event"] for line in log_file.read_text().splitlines()]
    assert events.count("run_finished") == 2
    views = json.loads((out_dir / "results.json").read_text())["views"]
    assert {v["kind"] for v in views} == {"service", "product"}
    assert (out_dir / "index.html").is_file()
    # An ownerless service (docs/ownership.md): the hr-self-service owner left.
    assert re.search(r"service HR Self-Service \(hr-self-service\): owner Pablo Duarte "
                     r"\(pablo\.duarte\) is inactive since \d{4}-\d\d-\d\d; acting owner: "
                     r"Sami Lindqvist \(sami\.lindqvist\)", out)
    hr = next(v for v in views if v["id"] == "hr-self-service")
    assert hr["ownership"]["state"] == "inactive"
    assert "Pablo Duarte" in (out_dir / "governance.html").read_text(encoding="utf-8")
    # Verified TLS: both sandboxes on https, their one CA bundle named for clients to use.
    assert "ServiceNow sandbox: https://127.0.0.1:" in out and "sandbox (cloud): https://" in out
    bundle = out_dir / "sandbox-ca.pem"
    assert f"CA bundle:   {bundle.resolve()}" in out
    assert bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")
