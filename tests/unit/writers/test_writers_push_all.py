from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import responses

from connectors.http import HttpClient, RetryPolicy, build_session
from fiveo_sync.commands.push import push_all
from fiveo_sync.engine.portfolio_spec import PortfolioSpec

SN = "https://acme.service-now.com"
JIRA = "https://acme.atlassian.net"
NOW = datetime(2025, 4, 2, tzinfo=UTC)


class FakeConnector:
    def __init__(self, platform, base_url):
        self.http = HttpClient(platform, build_session(), RetryPolicy(max_attempts=2),
                               sleep=lambda _s: None)
        self.base_url = base_url


def _settings():
    return SimpleNamespace(
        servicenow=SimpleNamespace(write=SimpleNamespace(
            mode="table", table="u_fiveo_indicator", staging_table="x")),
        jira=SimpleNamespace(deployment="cloud", scorecard=SimpleNamespace(
            label="fiveo-scorecard", issue_type="Task")))


@pytest.fixture
def mappings():
    portfolio = PortfolioSpec.model_validate({
        "version": 1, "kind": "portfolio",
        "services": [{"id": "payments", "business_service": "Payments",
                      "products": ["payments-web"]}],
        "products": [{"id": "payments-web", "name": "Payments Web",
                      "jira_projects": ["PAY"]}]})
    return SimpleNamespace(portfolio=portfolio)


def test_failing_servicenow_does_not_stop_jira_dry_run(make_result, mappings):
    results = [make_result(),
               make_result(view="product", scope_type="product", scope="payments-web")]
    connectors = {"servicenow": FakeConnector("servicenow", SN),
                  "jira": FakeConnector("jira", JIRA)}
    with responses.RequestsMock() as mocked:
        mocked.get(f"{SN}/api/now/v2/table/u_fiveo_indicator", status=503, body="down")
        mocked.get(f"{JIRA}/rest/api/3/search/jql", json={"issues": [], "isLast": True})
        pushed = push_all(_settings(), None, [r.to_dict() for r in results], dry_run=True,
                          clock=lambda: NOW, connectors=connectors, mappings=mappings)
    assert list(pushed.failed_targets) == ["servicenow"]
    assert "unavailable" in pushed.failed_targets["servicenow"]
    (jira,) = pushed.reports
    assert jira.target == "jira" and [o.action for o in jira.outcomes] == ["created"]
    assert [op.key for op in pushed.plan] == ["payments-web"]
    assert all(c.request.method == "GET" for c in mocked.calls)  # a dry run writes nothing
