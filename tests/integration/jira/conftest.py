"""Helpers shared by the Jira integration tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from support.tls import verified_http

from connectors.jira import build_connector
from connectors.jira.sandbox import JiraSandbox
from connectors.jira.settings import JiraSettings
from fiveo_sync.state import StateStore

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def settings_for(sandbox: JiraSandbox, **overrides: Any) -> SimpleNamespace:
    creds = dict(sandbox.credentials)
    jira = JiraSettings(url=sandbox.url, projects=[p.key for p in sandbox.world.products],
                        **creds, **overrides)
    # Over TLS (sandboxes start with tls=True) the client trusts the sandbox CA, verify on.
    http = verified_http(sandbox) if sandbox.ca_bundle else None
    return SimpleNamespace(jira=jira, http=http, sync=None)


def pull(sandbox: JiraSandbox, store: StateStore, *, streams: tuple[str, ...] | None = None,
         **overrides: Any) -> dict[str, int]:
    """Run every stream once; return the sandbox requests made per stream."""
    connector = build_connector(settings_for(sandbox, **overrides), clock=sandbox.now,
                                sleep=lambda _s: None)
    per_stream = {}
    try:
        for stream in streams or connector.streams():
            before = sum(sandbox.counters.values())
            for page in connector.iter_pages(stream, store.get_bookmark("jira", stream)):
                store.save_page(page)
            per_stream[stream] = sum(sandbox.counters.values()) - before
    finally:
        connector.close()
    return per_stream


def stored_issues(store: StateStore) -> dict[str, Any]:
    return {r.key: r for r in store.iter_records("jira", "issue")}


def assert_store_matches(sandbox: JiraSandbox, store: StateStore) -> None:
    """Every sandbox issue stored with its state and its complete changelog; nothing else."""
    stored = stored_issues(store)
    assert set(stored) == {str(i) for i in sandbox.data.issues}
    render = sandbox.renderer("3" if sandbox.cloud else "2")
    for issue in sandbox.data.iter_issues():
        record = stored[str(issue.id)]
        fields = record.payload["fields"]
        assert record.payload["key"] == issue.key
        assert fields["status"]["id"] == issue.status
        assert fields["summary"] == issue.summary
        histories = sandbox.data.histories(issue)
        got = record.payload["changelog"]["histories"]
        assert [h["id"] for h in got] == [str(h.id) for h in histories]
        assert record.payload["changelog"]["total"] == len(histories)
        assert fields["updated"] == render.issue(
            issue, sandbox.data.projects[issue.project], sandbox.data.sprints,
            {"updated"}, None, None)["fields"]["updated"]


def repo_fixtures() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "fixtures" / "jira-recorded"
        if candidate.is_dir():
            return candidate
        candidate = parent / "shared" / "fixtures" / "jira-recorded"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/fixtures/jira-recorded not found beside the clone")
