"""Jira scorecards that do not nag: no write when nothing changed, edits without
notifications, one comment (the one notification) per run that changes a headline status.

The sandbox records every write that would notify watchers (``sandbox.notifications``):
edits without ``notifyUsers=false``, comments, created issues.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.commands.push import push_all
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.result import IndicatorResult

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "Payments",
                  "products": ["payments-web"]}],
    "products": [{"id": "payments-web", "name": "Payments Web", "jira_projects": ["PAY"]},
                 {"id": "mail", "name": "Mail Platform", "jira_projects": ["MAIL"]}]})


def _result(scope, month, status, value):
    start = datetime(2025, month, 1, tzinfo=UTC)
    return IndicatorResult(
        indicator="optimise.velocity", name="Velocity", o="optimise", view="product",
        scope_type="product", scope=scope, breakdown="all", period=f"2025-{month:02d}",
        period_kind="month", period_start=start,
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC), value=value, unit="SP", n=10,
        excluded=0, target="≥ 30", target_low=30.0, target_high=None, direction="up",
        status=status, baseline=None, trend="none", delta=None, sources=("jira",))


def _push(sandbox, results):
    session = build_session(verify=sandbox.ca_bundle)
    if "pat" in sandbox.credentials:
        session.headers["Authorization"] = f"Bearer {sandbox.credentials['pat']}"
    else:
        session.auth = (sandbox.credentials["email"], sandbox.credentials["api_token"])
    endpoint = SimpleNamespace(http=HttpClient("jira", session, RetryPolicy(backoff_s=0),
                                               sleep=lambda _s: None), base_url=sandbox.url)
    settings = SimpleNamespace(servicenow=None, jira=SimpleNamespace(
        deployment="auto", scorecard=SimpleNamespace(label="fiveo-scorecard",
                                                     issue_type="Task")))
    try:
        pushed = push_all(settings, None, results, dry_run=False, clock=lambda: NOW,
                          connectors={"jira": endpoint},
                          mappings=SimpleNamespace(portfolio=PORTFOLIO))
    finally:
        session.close()
    assert pushed.failed_targets == {}
    return Counter(o.action for o in pushed.reports[0].outcomes)


def _new(log, before):
    return log[before:]


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_scorecards_write_and_notify_only_when_a_headline_status_changes(deployment):
    # February is complete (the headline); March to date is partial.
    results = {"feb": _result("payments-web", 2, "met", 34.0),
               "mar": _result("payments-web", 3, "met", 31.0),
               "mail": _result("mail", 2, "met", 40.0)}
    with JiraSandbox(seed=3, deployment=deployment, now=NOW, jira_issues=40,
                     tls=True) as sandbox:
        assert _push(sandbox, list(results.values())) == {"created": 2}
        assert Counter(kind for _, kind in sandbox.notifications) == {"create": 2}

        # Nothing changed: no write at all, so nothing to notify.
        writes, notes = len(sandbox.writes), len(sandbox.notifications)
        assert _push(sandbox, list(results.values())) == {"unchanged": 2}
        assert _new(sandbox.writes, writes) == []
        assert _new(sandbox.notifications, notes) == []

        # The period to date changes status: the scorecard is edited quietly, no comment.
        results["mar"] = _result("payments-web", 3, "missed", 12.0)
        writes = len(sandbox.writes)
        assert _push(sandbox, list(results.values())) == {"updated": 1, "unchanged": 1}
        assert sorted(kind for kind, _, _ in _new(sandbox.writes, writes)) == [
            "property", "update"]
        assert _new(sandbox.notifications, notes) == []

        # The complete period's status changes (late data): one comment, the one
        # notification of the run.
        results["feb"] = _result("payments-web", 2, "missed", 20.0)
        writes = len(sandbox.writes)
        assert _push(sandbox, list(results.values())) == {"updated": 1, "unchanged": 1}
        comments = [w for w in _new(sandbox.writes, writes) if w[0] == "comment"]
        assert len(comments) == 1
        assert "met → missed (2025-02)" in str(comments[0][2]).replace("\\", "")
        (note,) = _new(sandbox.notifications, notes)
        assert note == (comments[0][1], "comment")

        # And the same results again: still nothing.
        writes, notes = len(sandbox.writes), len(sandbox.notifications)
        assert _push(sandbox, list(results.values())) == {"unchanged": 2}
        assert _new(sandbox.writes, writes) == []
        assert _new(sandbox.notifications, notes) == []
