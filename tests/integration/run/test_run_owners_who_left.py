"""Issue 15, owners who left: an inactive owner is flagged in every view a person reads.

Both sandboxes describe a world where Pablo Duarte, owner of the service
``hr-self-service``, and Chloe Lindqvist, owner of the product ``payments-web``, have
left: ServiceNow says ``sys_user.active=false`` (updated when deactivated), Jira renders
their accounts with ``active: false``. After one run the console report, results.json, the
dashboard (the element's page, the governance page, the portfolio heatmap), the ServiceNow
indicator records and the Jira scorecard must all say so and name the acting owner.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.commands.report import render_table
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.logs import get_logger
from fiveo_sync.names import build_name_book
from fiveo_sync.ownership import FIRST_SEEN_KEY, load_ownership
from fiveo_sync.runner import Runner
from fiveo_sync.state import StateStore
from fiveo_sync.views import load_owner_views

NOW = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)
LEFT = "2025-02-08T09:30:00Z"  # build_world: leavers left 60 days before now, at 09:30
ACTING = "Sami Lindqvist (sami.lindqvist)"  # the shipped portfolio's fallback owner
LEAVERS = ("pablo.duarte", "chloe.lindqvist")


class Ran:
    """The sandboxes after one run, the run's settings, the views it stored."""

    def __init__(self, sn: ServiceNowSandbox, jira: JiraSandbox, out_dir: Path) -> None:
        self.sn, self.jira, self.out_dir = sn, jira, out_dir
        self.settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out_dir))
        self.clock_at_run = sn.clock()
        report = Runner(self.settings, clock=sn.clock, log=get_logger("test")).run()
        assert report.exit_code == 0, report.summary()
        self.finished_at = sn.clock()
        self.mappings = load_mappings(self.settings.mappings.dir)
        with StateStore(self.settings.state.path) as store:
            self.views = {v.id: v for v in load_owner_views(
                store, self.mappings.portfolio, self.settings, sn.clock())}
        self.account = next(p.jira_account_id for p in jira.world.people
                            if p.user_name == "chloe.lindqvist")


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    out = tmp_path_factory.mktemp("owners-who-left")
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True, leavers=LEAVERS) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, deployment="cloud", tls=True,
                        leavers=LEAVERS) as jira:
        yield Ran(sn, jira, out / "out")


def test_the_sandboxes_say_the_owners_left(ran):
    (user,) = [u for u in ran.sn.table("sys_user") if u["user_name"] == "pablo.duarte"]
    assert user["active"] == "false" and user["sys_updated_on"] == "2025-02-08 09:30:00"
    (alice,) = [u for u in ran.sn.table("sys_user") if u["user_name"] == "alice.martin"]
    assert alice["active"] == "true"


def test_console_report_flags_the_inactive_owners_under_the_heading(ran):
    text = render_table([ran.views["hr-self-service"], ran.views["payments-web"],
                         ran.views["payments"]], colour=False)
    lines = text.splitlines()
    heading = next(i for i, line in enumerate(lines) if "HR Self-Service (hr-self-service)" in line)
    assert lines[heading + 1] == (f"  ! owner Pablo Duarte (pablo.duarte) is inactive since "
                                  f"2025-02-08; acting owner: {ACTING}")
    product = next(i for i, line in enumerate(lines) if "(payments-web), owner:" in line)
    assert lines[product + 1].startswith(
        f"  ! owner Chloe Lindqvist ({ran.account}) is inactive since ")
    service = next(i for i, line in enumerate(lines) if "Payments (payments), owner:" in line)
    assert not lines[service + 1].startswith("  !")  # Alice Martin is still here


def test_results_json_has_an_ownership_object_per_view(ran):
    document = json.loads((ran.out_dir / "results.json").read_text(encoding="utf-8"))
    views = {v["id"]: v["ownership"] for v in document["views"]}
    hr = views["hr-self-service"]
    assert (hr["state"], hr["owner"], hr["owner_name"], hr["since"]) == (
        "inactive", "pablo.duarte", "Pablo Duarte", LEFT)
    assert (hr["acting_owner"], hr["acting_owner_name"]) == ("sami.lindqvist", "Sami Lindqvist")
    product = views["payments-web"]
    assert (product["state"], product["owner"]) == ("inactive", ran.account)
    # Jira says nothing about when: the first run that saw it.
    since = datetime.strptime(product["since"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert ran.clock_at_run - timedelta(seconds=1) <= since <= ran.finished_at
    assert views["payments"]["state"] == "active" and views["payments"]["flagged"] is False
    assert views["payments"]["acting_owner"] is None


def test_dashboard_banner_heatmap_flag_and_governance_page(ran):
    page = (ran.out_dir / "service-hr-self-service.html").read_text(encoding="utf-8")
    assert 'class="owner-banner"' in page and 'data-owner-state="inactive"' in page
    assert "owner Pablo Duarte (pablo.duarte) is inactive since 2025-02-08" in page
    assert 'class="owner-banner"' not in (ran.out_dir / "service-payments.html").read_text(
        "utf-8")
    heatmap = (ran.out_dir / "portfolio.html").read_text(encoding="utf-8")
    row = heatmap.split('data-view="hr-self-service"', 1)[1].split("</tr>", 1)[0]
    assert "owner inactive" in row
    payments_row = heatmap.split('data-view="payments"', 1)[1].split("</tr>", 1)[0]
    assert "owner-flag" not in payments_row
    governance = (ran.out_dir / "governance.html").read_text(encoding="utf-8")
    assert 'href="governance.html"' in (ran.out_dir / "index.html").read_text("utf-8")
    rows = governance.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("</tr>")[:-1]
    flagged = {r.split('data-view="', 1)[1].split('"', 1)[0]: r for r in rows}
    assert set(flagged) == {"hr-self-service", "payments-web"}
    hr = flagged["hr-self-service"]
    assert "Pablo Duarte" in hr and "2025-02-08" in hr and "Sami Lindqvist" in hr
    assert "Continual improvement manager: Sami Lindqvist (sami.lindqvist)" in governance


def test_servicenow_records_carry_the_owner_state(ran):
    rows = ran.sn.table("u_fiveo_indicator")
    states = {(r["u_scope"], r["u_owner_state"]) for r in rows if r["u_status"] != "retired"}
    assert ("hr-self-service", "inactive") in states
    assert {s for scope, s in states if scope == "hr-self-service"} == {"inactive"}
    assert {s for scope, s in states if scope == "payments"} == {"active"}
    hr = next(r for r in rows if r["u_scope"] == "hr-self-service")
    assert hr["u_owner_name"] == "Pablo Duarte" and hr["u_owner_id"] == "pablo.duarte"


def _adf_text(node) -> list[str]:
    if isinstance(node, dict):
        own = [node.get("text", "")] if node.get("type") == "text" else []
        return own + [t for child in node.get("content") or () for t in _adf_text(child)]
    return []


def test_jira_scorecard_intro_names_the_inactive_owner_and_the_acting_owner(ran):
    auth = (ran.jira.credentials["email"], ran.jira.credentials["api_token"])
    label = ran.settings.jira.scorecard.label
    reply = requests.post(f"{ran.jira.url}/rest/api/3/search/jql", auth=auth, timeout=30,
                          verify=ran.jira.ca_bundle,
                          json={"jql": f'labels = "{label}"', "fields": ["description",
                                                                        "project"]})
    assert reply.status_code == 200, reply.text[:300]
    texts = {i["fields"]["project"]["key"]: "\n".join(_adf_text(i["fields"]["description"]))
             for i in reply.json()["issues"]}
    assert f"Attention: owner Chloe Lindqvist ({ran.account}) is inactive since " in texts["PAY"]
    assert f"acting owner: {ACTING}." in texts["PAY"]
    assert "Attention:" not in texts["MAIL"]


def test_first_seen_moment_is_kept_by_later_views(ran):
    with StateStore(ran.settings.state.path) as store:
        seen = store.get_meta(FIRST_SEEN_KEY)
        key = f"product:payments-web:inactive:{ran.account}"
        assert key in seen
        names = build_name_book(store)
        later = load_ownership(store, ran.mappings.portfolio, names,
                               ran.sn.clock() + timedelta(days=3))
        assert later[("product", "payments-web")].since == seen[key]
        assert later[("service", "hr-self-service")].since == LEFT
        assert store.get_meta(FIRST_SEEN_KEY) == seen


def test_data_center_deactivated_user_is_flagged_by_user_name(tmp_path):
    # Data Center names users by user name; the portfolio copy names owners the same way.
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True, leavers=LEAVERS) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, deployment="datacenter", tls=True,
                        leavers=LEAVERS) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(out_dir=tmp_path,
                                                             deployment="datacenter"))
        assert Runner(settings, clock=sn.clock, log=get_logger("test")).run().exit_code == 0
        document = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    views = {v["id"]: v["ownership"] for v in document["views"]}
    assert (views["payments-web"]["state"], views["payments-web"]["owner"]) == (
        "inactive", "chloe.lindqvist")
    assert views["mail-platform"]["state"] == "active"
