"""Issue 15, the improvement loop end to end against both sandboxes (over verified HTTPS).

A service series (payments, ServiceNow) and a product series (payments-web, Jira) of
hand-made results are pushed month by month, as the scheduled job would after each
complete month: missed twice → exactly one item each, naming the periods, values, target
and the evidence link; a rerun → the same item, nothing written; still missed → the same
item updated; met twice → resolved with the note; an item closed by hand is not
re-created while its episode lasts; a new miss after that opens a new item. The full run
of the demo world then creates items whose descriptions carry evidence links (those of the
service whose owner left assigned to the fallback owner), and a second run writes none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.commands.push import push_all
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.improvement import jira_label
from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner

NOW = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)
SN_KEY = "fiveo-improvement:operate.mttr:service:payments:all:2025-01"
JIRA_KEY = "fiveo-improvement:optimise.velocity:product:payments-web:all:2025-01"


def _result(period: str, status: str, value: float, **over) -> IndicatorResult:
    month = int(period[5:])
    base = dict(
        indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
        view="service", scope_type="service", scope="payments", breakdown="all",
        period=period, period_kind="month", period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025, month + 1, 1, tzinfo=UTC), value=value, unit="h", n=3,
        excluded=0, target="≤ 24", target_low=None, target_high=24.0, direction="down",
        status=status, baseline=None, trend="none", delta=None, sources=("servicenow",))
    base.update(over)
    return IndicatorResult(**base)


class Loop:
    """Both sandboxes and a push of a hand-made history at a chosen moment."""

    def __init__(self, sn: ServiceNowSandbox, jira: JiraSandbox, out: Path) -> None:
        self.sn, self.jira, self.out = sn, jira, out
        self.settings = build_demo_settings(sn, jira, DemoOptions(out_dir=out))
        self.mappings = load_mappings(self.settings.mappings.dir)
        self.incidents = [r["sys_id"] for r in sn.table("incident")[:3]]

    def history(self, statuses: str) -> list[IndicatorResult]:
        """One month per letter from 2025-01: x missed, m met."""
        out = []
        for i, letter in enumerate(statuses):
            period, status = f"2025-{i + 1:02d}", "missed" if letter == "x" else "met"
            out.append(_result(period, status, 30.0 + i if letter == "x" else 10.0,
                               evidence={"incident": tuple(sorted(self.incidents))}))
            out.append(_result(period, status, 20.0 if letter == "x" else 40.0,
                               indicator="optimise.velocity", name="Velocity", o="optimise",
                               view="product", scope_type="product", scope="payments-web",
                               unit="SP", target="≥ 30", target_low=30.0, target_high=None,
                               direction="up", sources=("jira",),
                               evidence={"work_item": ("PAY-1", "PAY-2")}))
        return out

    def push(self, statuses: str):
        months = len(statuses)
        moment = datetime(2025, months + 1, 10, tzinfo=UTC)  # the month after: all complete
        return push_all(self.settings, None, self.history(statuses), dry_run=False,
                        clock=lambda: moment, mappings=self.mappings, log=get_logger("t"))

    def sn_items(self) -> list[dict]:
        return self.sn.table("sn_cim_register")

    def jira_items(self) -> list[dict]:
        auth = (self.jira.credentials["email"], self.jira.credentials["api_token"])
        reply = requests.get(f"{self.jira.url}/rest/api/3/search/jql", auth=auth, timeout=30,
                             verify=self.jira.ca_bundle, params={
                                 "jql": "labels = fiveo-improvement ORDER BY key ASC",
                                 "fields": "summary,labels,status,description,comment"})
        assert reply.status_code == 200, reply.text[:300]
        return reply.json()["issues"]


@pytest.fixture
def loop(tmp_path: Path):
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, deployment="cloud", tls=True) as jira:
        yield Loop(sn, jira, tmp_path / "out")


def _key_of(issue: dict) -> str:
    """The item key a Jira item's description names (``item <key>, digest``)."""
    match = re.search(r"item (fiveo-improvement:\S+?), digest", str(issue["fields"]["description"]))
    assert match, issue["key"]
    return match.group(1)


def _counts(pushed, target: str) -> dict[str, int]:
    report = next(r for r in pushed.reports if r.target == target)
    return {a: report.count(a) for a in ("created", "updated", "unchanged") if report.count(a)}


def test_missed_twice_opens_one_item_per_platform_then_updates_and_resolves_it(loop):
    assert loop.push("xm").failed_targets == {}
    assert loop.sn_items() == [] and loop.jira_items() == []  # one miss is not an item

    pushed = loop.push("xmx")
    assert pushed.failed_targets == {}
    (item,) = loop.sn_items()
    assert item["correlation_id"] == SN_KEY and item["state"] == "new"
    assert item["number"].startswith("CIM")
    assert item["short_description"] == (
        "Improve Time to resolve, median (MTTR) of Payments: target ≤ 24 missed in 2 "
        "complete periods since 2025-01")
    text = item["description"]
    assert "- 2025-01: 30 h (missed)" in text and "- 2025-03: 32 h (missed)" in text
    assert "- 2025-02: 10 h (met)" in text and "Target: ≤ 24" in text
    assert "evidence: " + loop.sn.url + "/incident_list.do?sysparm_query=sys_idIN" in text
    assert "Owner: " in text and "(alice.martin)" in text
    (issue,) = loop.jira_items()
    fields = issue["fields"]
    assert issue["key"].startswith("PAY-")
    assert set(fields["labels"]) == {"fiveo-improvement", jira_label(JIRA_KEY)}
    assert fields["summary"].startswith("Improve Velocity of ")
    assert "/issues/?jql=key%20in%20%28PAY-1%2C%20PAY-2%29" in str(fields["description"])

    jira_writes = len(loop.jira.writes)
    again = loop.push("xmx")  # a rerun: the same items, nothing written to them
    assert _counts(again, "servicenow-improvement") == {"unchanged": 1}
    assert _counts(again, "jira-improvement") == {"unchanged": 1}
    assert [w for w in loop.jira.writes[jira_writes:] if w[1] == issue["key"]] == []
    assert loop.sn_items() == [item]  # not even touched (sys_mod_count, sys_updated_on)

    still = loop.push("xmxx")  # still missed: the same items, updated
    assert _counts(still, "servicenow-improvement") == {"updated": 1}
    assert _counts(still, "jira-improvement") == {"updated": 1}
    (item,) = loop.sn_items()
    assert "- 2025-04: 33 h (missed)" in item["description"]
    assert "missed in 3 complete periods" in item["short_description"]
    assert [i["key"] for i in loop.jira_items()] == [issue["key"]]

    met = loop.push("xmxxmm")  # met twice in a row: resolved with the note
    assert _counts(met, "servicenow-improvement") == {"updated": 1}
    (item,) = loop.sn_items()
    assert item["state"] == "closed"
    assert item["close_notes"] == ("Target ≤ 24 met again in 2 consecutive complete "
                                   "periods (2025-05: 10 h, 2025-06: 10 h); resolved by "
                                   "fiveo-sync.")
    (done,) = loop.jira_items()
    assert done["fields"]["status"]["statusCategory"]["key"] == "done"
    comments = str(done["fields"]["comment"])
    assert "Target ≥ 30 met again in 2 consecutive complete periods" in comments

    after = loop.push("xmxxmm")  # nothing left to do for a resolved episode
    assert _counts(after, "servicenow-improvement") == {}
    assert len(loop.sn_items()) == 1 and len(loop.jira_items()) == 1


def test_an_item_closed_by_hand_is_not_recreated_until_a_new_episode(loop):
    loop.push("xx")
    (item,) = loop.sn_items()
    (issue,) = loop.jira_items()
    user, password = loop.sn.credentials["integration"]
    reply = requests.patch(f"{loop.sn.url}/api/now/table/sn_cim_register/{item['sys_id']}",
                           json={"state": "canceled"}, auth=(user, password), timeout=30,
                           verify=loop.sn.ca_bundle)
    assert reply.status_code == 200, reply.text[:300]
    auth = (loop.jira.credentials["email"], loop.jira.credentials["api_token"])
    reply = requests.post(f"{loop.jira.url}/rest/api/3/issue/{issue['key']}/transitions",
                          json={"transition": {"id": "41"}}, auth=auth, timeout=30,
                          verify=loop.jira.ca_bundle)
    assert reply.status_code == 204, reply.text[:300]

    still = loop.push("xxx")  # still missed, but the owners closed the items: left alone
    assert _counts(still, "servicenow-improvement") == {"unchanged": 1}
    assert _counts(still, "jira-improvement") == {"unchanged": 1}
    assert [(i["state"], i["correlation_id"]) for i in loop.sn_items()] == [
        ("canceled", "fiveo-improvement:operate.mttr:service:payments:all:2025-01")]
    assert [i["key"] for i in loop.jira_items()] == [issue["key"]]
    assert "closed on the platform" in " ".join(op.reason for op in still.plan
                                                if op.key.startswith("fiveo-improvement"))

    loop.push("xxxmmxx")  # met again, then missed twice: a new episode, a new item each
    keys = sorted(i["correlation_id"] for i in loop.sn_items())
    assert keys == ["fiveo-improvement:operate.mttr:service:payments:all:2025-01",
                    "fiveo-improvement:operate.mttr:service:payments:all:2025-06"]
    assert len(loop.jira_items()) == 2


def test_dry_run_shows_the_items_and_writes_none(loop):
    moment = datetime(2025, 3, 10, tzinfo=UTC)
    pushed = push_all(loop.settings, None, loop.history("xx"), dry_run=True,
                      clock=lambda: moment, mappings=loop.mappings, log=get_logger("t"))
    planned = [(op.target, op.action, op.key) for op in pushed.plan
               if op.key.startswith("fiveo-improvement")]
    assert planned == [("jira", "create", JIRA_KEY), ("servicenow", "create", SN_KEY)]
    assert loop.sn_items() == [] and loop.jira_items() == []


def test_a_full_run_opens_items_from_the_demo_world_and_a_rerun_writes_none(loop):
    report = Runner(loop.settings, clock=loop.sn.clock, log=get_logger("t")).run()
    assert report.exit_code == 0, report.summary()
    items = loop.sn_items()
    assert items and len({i["correlation_id"] for i in items}) == len(items)
    assert any("evidence: https://" in i["description"] for i in items)
    assert loop.jira_items()
    # The hr-self-service owner left: the fallback owner (portfolio governance) gets its items.
    (fallback,) = [u for u in loop.sn.table("sys_user") if u["user_name"] == "sami.lindqvist"]
    hr = [i for i in items if ":service:hr-self-service:" in i["correlation_id"]]
    assert hr, "the demo world's ownerless service has no improvement item"
    for item in hr:
        assert item["assigned_to"] == fallback["sys_id"]
        assert "is inactive; acting owner: " in item["description"]
        assert "(sami.lindqvist)." in item["description"]
    owned = [i for i in items if ":service:payments:" in i["correlation_id"]]
    (alice,) = [u for u in loop.sn.table("sys_user") if u["user_name"] == "alice.martin"]
    assert owned and all(i["assigned_to"] == alice["sys_id"] for i in owned)
    # The governance page lists every open item, by element, linked to the platform.
    page = (loop.out / "governance.html").read_text(encoding="utf-8")
    listed = re.findall(r'data-improvement="([^"]+)"', page)
    assert sorted(listed) == sorted([i["correlation_id"] for i in items]
                                    + [_key_of(issue) for issue in loop.jira_items()])
    assert f'<span class="tally">{len(listed)} open</span>' in page
    assert f"{loop.sn.url}/sn_cim_register_list.do?sysparm_query=correlation_id%3D" in page
    again = Runner(loop.settings, clock=loop.sn.clock, log=get_logger("t")).run()
    assert again.writes["servicenow-improvement"]["created"] == 0
    assert again.writes["servicenow-improvement"]["updated"] == 0
    assert again.writes["jira-improvement"] == {
        "created": 0, "updated": 0, "unchanged": len(loop.jira_items()), "marked": 0,
        "failed": 0}
    assert len(loop.sn_items()) == len(items)
