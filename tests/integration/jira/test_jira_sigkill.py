"""A `fiveo-sync pull` killed with SIGKILL mid-pull, then rerun, stores what a clean pull does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.state import StateStore
from tests.integration.jira.conftest import assert_store_matches

REPO = Path(__file__).resolve().parents[3]
# Streams whose records (some or all) carry the pull's clock as their version: snapshots,
# boards, and on Data Center undated future sprints (no createdDate there).
CLOCKED = {"field", "status", "board", "sprint", "sprint_scope"}


def _config(sb: JiraSandbox, tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    lines = [f"mappings: {{dir: {REPO / 'mappings'}}}",
             f"state: {{path: {tmp_path / (name + '.sqlite')}}}",
             # Verified TLS against the sandbox's throwaway CA, as against a private CA.
             f"http: {{timeout_s: 10, verify: true, ca_bundle: '{sb.ca_bundle}'}}",
             "jira:", f"  url: {sb.url}", "  page_size: 50",
             f"  projects: [{', '.join(p.key for p in sb.world.products)}]"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVEO_")}
    if sb.cloud:
        lines.append(f"  email: {sb.credentials['email']}")
        env["FIVEO_JIRA__API_TOKEN"] = sb.credentials["api_token"]
    else:
        env["FIVEO_JIRA__PAT"] = sb.credentials["pat"]
    config = tmp_path / f"{name}.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config, env


def _pull(sb: JiraSandbox, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    config, env = _config(sb, tmp_path, name)
    return subprocess.Popen(
        [sys.executable, "-m", "fiveo_sync", "--config", str(config), "--log-format", "json",
         "-v", "pull", "--source", "jira"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]


def _content(store: StateStore, stream: str) -> dict[str, object]:
    records = store.iter_records("jira", stream)
    if stream == "sprint_scope":
        return {r.key: (r.payload["board_id"], r.payload["items"]) for r in records}
    if stream in CLOCKED:
        return {r.key: r.payload for r in records}
    return {r.key: (r.updated, r.payload) for r in records}


@pytest.mark.slow
@pytest.mark.parametrize(("deployment", "kill_in"), [
    ("cloud", "issue"), ("datacenter", "issue"), ("cloud", "sprint_scope")])
def test_sigkill_mid_pull_then_rerun_gives_the_same_store(deployment, kill_in, tmp_path):
    # The CLI reads the wall clock: anchor the sandbox's data at the real now.
    with JiraSandbox(tls=True, deployment=deployment, now=datetime.now(UTC),
                     jira_issues=1500) as sb:
        sb.latency_ms = 5  # keep the victim busy long enough to be killed mid-stream
        victim = _pull(sb, tmp_path, "killed")
        assert victim.stderr is not None
        pages = 0
        for line in victim.stderr:
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "page_committed" and event.get("stream") == kill_in:
                pages += 1
                if pages == 3:
                    victim.send_signal(signal.SIGKILL)
                    break
        victim.wait(timeout=30)
        victim.stderr.close()
        assert victim.returncode == -signal.SIGKILL, "the pull ended before it was killed"
        sb.latency_ms = 0
        with StateStore(tmp_path / "killed.sqlite") as killed:
            assert killed.count_records("jira", kill_in) > 0
        _finish(_pull(sb, tmp_path, "killed"))
        _finish(_pull(sb, tmp_path, "clean"))
        with StateStore(tmp_path / "killed.sqlite") as killed, \
                StateStore(tmp_path / "clean.sqlite") as clean:
            for stream in ("field", "status", "board", "sprint", "sprint_scope", "issue"):
                assert _content(killed, stream) == _content(clean, stream), stream
            assert_store_matches(sb, killed)
