from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.jira.executor import fetch_current
from connectors.jira.sandbox import JiraSandbox
from fiveo_sync.commands.push import push_all
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.result import IndicatorResult

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> |*_{x}"
PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "Payments",
                  "products": ["payments-web"]}],
    "products": [{"id": "payments-web", "name": HOSTILE, "jira_projects": ["PAY"]},
                 {"id": "mail", "name": "Mail Platform", "jira_projects": ["MAIL"]}]})


def _result(scope_type, scope, view, status="met", value=34.0):
    return IndicatorResult(
        indicator="optimise.velocity", name="Velocity", o="optimise", view=view,
        scope_type=scope_type, scope=scope, breakdown="all", period="2025-02",
        period_kind="month", period_start=datetime(2025, 2, 1, tzinfo=UTC),
        period_end=datetime(2025, 3, 1, tzinfo=UTC), value=value, unit="SP", n=10, excluded=0,
        target="≥ 30", target_low=30.0, target_high=None, direction="up", status=status,
        baseline=None, trend="none", delta=None, sources=("jira",))


class SandboxEndpoint:
    def __init__(self, sandbox: JiraSandbox):
        session = build_session(verify=sandbox.ca_bundle)
        creds = sandbox.credentials
        if "pat" in creds:
            session.headers["Authorization"] = f"Bearer {creds['pat']}"
        else:
            session.auth = (creds["email"], creds["api_token"])
        self.http = HttpClient("jira", session, RetryPolicy(max_attempts=4, backoff_s=0),
                               sleep=lambda _s: None)
        self.base_url = sandbox.url

    def close(self):
        self.http.session.close()


def _push(sandbox, results):
    settings = SimpleNamespace(servicenow=None, jira=SimpleNamespace(
        deployment="auto", scorecard=SimpleNamespace(label="fiveo-scorecard",
                                                     issue_type="Task")))
    endpoint = SandboxEndpoint(sandbox)
    try:
        return push_all(settings, None, results, dry_run=False, clock=lambda: NOW,
                        connectors={"jira": endpoint},
                        mappings=SimpleNamespace(portfolio=PORTFOLIO))
    finally:
        endpoint.close()


def _scorecards(sandbox):
    endpoint = SandboxEndpoint(sandbox)
    flavour = "adf" if sandbox.cloud else "wiki"
    try:
        return fetch_current(endpoint.http, sandbox.url, flavour=flavour,
                             label="fiveo-scorecard",
                             projects={"PAY": "payments-web", "MAIL": "mail"})
    finally:
        endpoint.close()


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_one_scorecard_per_product_then_unchanged_then_comment(deployment):
    results = [_result("product", "payments-web", "product"),
               _result("service", "payments", "combined", value=12.0),
               _result("product", "mail", "product")]
    with JiraSandbox(seed=3, deployment=deployment, now=NOW, jira_issues=40,
                     tls=True) as sandbox:
        first = _push(sandbox, results)
        assert first.failed_targets == {}
        assert Counter(o.action for o in first.reports[0].outcomes) == {"created": 2}
        cards = _scorecards(sandbox)
        assert set(cards) == {"payments-web", "mail"}
        pay = cards["payments-web"]
        assert pay.summary == f"5 O scorecard — {HOSTILE}"
        assert {r["scope"] for r in pay.scorecard["results"]} == {"payments-web", "payments"}

        second = _push(sandbox, results)
        assert Counter(o.action for o in second.reports[0].outcomes) == {"unchanged": 2}

        results[0] = _result("product", "payments-web", "product", status="missed", value=20.0)
        third = _push(sandbox, results)
        assert Counter(o.action for o in third.reports[0].outcomes) == {
            "updated": 1, "unchanged": 1}
        again = _scorecards(sandbox)
        assert again["payments-web"].issue_key == pay.issue_key  # never duplicated
        comments = [w for w in sandbox.writes if w[0] == "comment"]
        assert len(comments) == 1 and "met → missed" in str(comments[0][2])
        writes_before = len(sandbox.writes)
        fourth = _push(sandbox, results)
        assert Counter(o.action for o in fourth.reports[0].outcomes) == {"unchanged": 2}
        assert len(sandbox.writes) == writes_before
