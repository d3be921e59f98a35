"""`fiveo-sync demo`: no configuration, both sandboxes, two runs, real values shown."""

from __future__ import annotations

import json
import re

from fiveo_sync.cli import main


def test_demo_runs_twice_and_shows_owner_views(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["--log-format", "json", "demo", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "1. Full run" in out and "2. Incremental run" in out
    full, incremental = re.findall(r"pulled ([\d,]+) records", out)
    assert int(full.replace(",", "")) > 5000
    # 3 incidents resolved + 1 raised in ServiceNow; 1 bug raised + 1 issue edited in Jira.
    assert int(incremental) == 6
    assert re.search(r"operate\.mttr\s+\S+\s+\S+\s+\d+\.\d\d h", out)  # a real value
    assert "== service " in out and "== product " in out
    views = json.loads((out_dir / "results.json").read_text())["views"]
    assert {v["kind"] for v in views} == {"service", "product"}
    assert (out_dir / "index.html").is_file()
