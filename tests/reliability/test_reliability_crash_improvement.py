"""Issue 15: a ``run`` killed with SIGKILL while it writes improvement items, then rerun.

The child is killed when its log shows the N-th improvement item written to a platform
(it keeps writing the next ones until the signal lands, so the kill falls anywhere in the
following requests). The rerun must end with exactly one item per key on each platform —
no CIM record and no Jira issue twice — and a third run must find nothing to create.
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from .reliability_cli import events, run_cli, save, start_cli, wall_now
from .reliability_crash import run_until
from .reliability_world import start_platforms

KILL_POINTS = [("improvement_written", 2, "servicenow"), ("improvement_written", 1, "jira")]


def _jira_labels(platforms) -> list[str]:
    jira = platforms.jira
    auth = (jira.credentials["email"], jira.credentials["api_token"])
    reply = requests.get(f"{jira.url}/rest/api/3/search/jql", auth=auth, timeout=30,
                         verify=jira.ca_bundle, params={
                             "jql": "labels = fiveo-improvement", "fields": "labels",
                             "maxResults": "1000"})
    assert reply.status_code == 200, reply.text[:300]
    return [label for issue in reply.json()["issues"] for label in issue["fields"]["labels"]
            if label.startswith("fiveo-imp-")]


def _created(stderr: str, target: str) -> int:
    for name, record in events(iter(stderr.splitlines())):
        if name == "run_finished":
            return int(record["writes_by_target"][target]["created"])
    raise AssertionError("no run_finished event")


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: f"{p[0]}#{p[1]}@{p[2]}")
def test_sigkill_while_writing_items_then_rerun_leaves_one_item_per_key(point, tmp_path,
                                                                        artifacts_dir):
    event, nth, platform = point
    folder = artifacts_dir / "crash-improvement" / f"{platform}-{nth}"
    with start_platforms(tmp_path / "out") as platforms:
        started = wall_now()
        child = start_cli(platforms, started, "run")
        killed, log = run_until(child, event, nth, platform)
        save(folder, "killed", "", log)
        assert killed, f"the run ended (exit {child.returncode}) before {event}#{nth}"

        code, out, err = run_cli(platforms, started, "run")
        save(folder, "rerun", out, err)
        assert code == 0, err[-2000:]
        # The kill left items to write: the rerun created the rest (found, not duplicated).
        assert _created(err, f"{platform}-improvement") > 0
        keys = Counter(row["correlation_id"] for row in platforms.sn.table("sn_cim_register"))
        labels = Counter(_jira_labels(platforms))
        assert keys and labels
        assert [k for k, n in keys.items() if n > 1] == []
        assert [k for k, n in labels.items() if n > 1] == []

        code, out, err = run_cli(platforms, started, "run")
        assert code == 0, err[-2000:]
        assert _created(err, "servicenow-improvement") == 0
        assert _created(err, "jira-improvement") == 0
        assert Counter(r["correlation_id"] for r in platforms.sn.table("sn_cim_register")) == keys
