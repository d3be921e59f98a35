"""Owners who left (issue 15): detection, the acting owner, first-seen moments, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.names import NameBook, PersonRecord, build_people
from fiveo_sync.ownership import (
    FIRST_SEEN_KEY,
    build_cmdb_owners,
    build_ownership,
    load_ownership,
)
from fiveo_sync.report.governance import build_governance_body, build_owner_banner
from fiveo_sync.views import build_views
from fiveo_sync.writers.context import build_publish_context

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
STAMP = "2026-12-02T08:00:00Z"
PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [
        {"id": "payments", "business_service": "Payments", "owner": "alice.martin"},
        {"id": "hr", "business_service": "HR", "owner": "bob.smith"},
        {"id": "email", "business_service": "Email", "owner": "gone.user"},
        {"id": "billing", "business_service": "Billing"},  # no owner here, no CMDB owner
    ],
    "products": [{"id": "pay-web", "jira_projects": ["PAY"], "owner": "acc-1"},
                 {"id": "mail", "jira_projects": ["MAIL"], "owner": "acc-2"}],
    "governance": {"fallback_owner": "sami.lindqvist", "improvement_manager": "rosa.okafor"},
})
PEOPLE = {
    ("servicenow", "alice.martin"): PersonRecord(
        "alice.martin", "Alice Martin", True, "2026-01-01 00:00:00", "servicenow"),
    ("servicenow", "bob.smith"): PersonRecord(
        "bob.smith", "Bob Smith", False, "2026-10-03 09:30:00", "servicenow"),
    ("jira", "acc-1"): PersonRecord("acc-1", "Chloe Lindqvist", False, None, "jira"),
    ("jira", "acc-2"): PersonRecord("acc-2", "Farid Haddad", True, None, "jira"),
    # A Jira account with a service owner's name does not answer for the service.
    ("jira", "gone.user"): PersonRecord("gone.user", "Gone User", True, None, "jira"),
}
NAMES = NameBook({"sami.lindqvist": "Sami Lindqvist", "alice.martin": "Alice Martin"})


def _states(first_seen=None, platforms=("servicenow", "jira"), portfolio=PORTFOLIO):
    return build_ownership(portfolio, PEOPLE, NAMES, now=NOW, first_seen=first_seen,
                           platforms=platforms)


def test_active_missing_inactive_and_not_found():
    states, _ = _states()
    assert {key: s.state for key, s in states.items()} == {
        ("service", "payments"): "active", ("service", "hr"): "inactive",
        ("service", "email"): "not_found", ("service", "billing"): "missing",
        ("product", "pay-web"): "inactive", ("product", "mail"): "active"}
    assert not states[("service", "payments")].flagged
    assert states[("service", "payments")].acting_owner is None


def test_a_flagged_product_gets_the_jira_fallback_owner_where_one_is_set():
    # fallback_owner is a ServiceNow user_name: a product's Jira item needs a Jira account.
    both = PORTFOLIO.model_copy(update={"governance": PORTFOLIO.governance.model_copy(
        update={"jira_fallback_owner": "acc-9"})})
    states, _ = build_ownership(both, PEOPLE, NameBook({"acc-9": "Sami L."}), now=NOW,
                                platforms=("servicenow", "jira"))
    assert states[("product", "pay-web")].acting_owner == "acc-9"
    assert states[("product", "pay-web")].acting_owner_name == "Sami L."
    assert states[("service", "hr")].acting_owner == "sami.lindqvist"
    assert _states()[0][("product", "pay-web")].acting_owner == "sami.lindqvist"  # default


def test_inactive_servicenow_owner_is_dated_by_the_deactivating_update():
    hr = _states()[0][("service", "hr")]
    assert (hr.owner, hr.owner_name, hr.since) == ("bob.smith", "Bob Smith",
                                                  "2026-10-03T09:30:00Z")
    assert hr.sentence() == ("owner Bob Smith (bob.smith) is inactive since 2026-10-03; "
                             "acting owner: Sami Lindqvist (sami.lindqvist)")


def test_the_fallback_owner_is_shown_and_defaults_to_the_improvement_manager():
    states, _ = _states()
    assert {s.acting_owner for s in states.values() if s.flagged} == {"sami.lindqvist"}
    assert states[("service", "billing")].sentence() == (
        f"no owner is set since {STAMP[:10]}; acting owner: Sami Lindqvist (sami.lindqvist)")
    manager_only = PORTFOLIO.model_copy(update={"governance": PORTFOLIO.governance.model_copy(
        update={"fallback_owner": None})})
    states, _ = _states(portfolio=manager_only)
    assert states[("service", "hr")].acting_owner == "rosa.okafor"
    no_governance = PORTFOLIO.model_copy(update={"governance": type(PORTFOLIO.governance)()})
    hr = _states(portfolio=no_governance)[0][("service", "hr")]
    assert hr.acting_owner is None and "acting owner: none configured" in hr.sentence()


def test_first_seen_moments_are_kept_and_an_active_owner_forgets_them():
    _, seen = _states()
    assert seen == {"service:hr:inactive:bob.smith": STAMP,
                    "service:email:not_found:gone.user": STAMP,
                    "service:billing:missing:": STAMP,
                    "product:pay-web:inactive:acc-1": STAMP}
    earlier = {**seen, "service:email:not_found:gone.user": "2026-11-20T06:00:00Z",
               "service:payments:not_found:alice.martin": "2026-01-01T00:00:00Z"}
    states, kept = _states(first_seen=earlier)
    assert states[("service", "email")].since == "2026-11-20T06:00:00Z"
    assert states[("product", "pay-web")].since == STAMP  # Jira: first seen inactive
    assert "service:payments:not_found:alice.martin" not in kept  # Alice is back


def test_nothing_pulled_from_a_platform_is_unknown_not_flagged():
    states, _ = _states(platforms=("servicenow",))
    product = states[("product", "pay-web")]
    assert product.state == "inactive"  # found in what was pulled: still a verdict
    unpulled = build_ownership(PORTFOLIO, {}, NAMES, now=NOW, platforms=())[0]
    assert unpulled[("product", "mail")].state == "unknown"
    assert not unpulled[("product", "mail")].flagged
    assert unpulled[("service", "billing")].state == "missing"  # missing needs no data


def test_a_cmdb_owned_by_sys_id_stands_in_for_a_missing_portfolio_owner():
    cmdb = [{"sys_id": "s1", "name": "Billing", "owned_by": {"value": "u9", "link": "x"}},
            {"sys_id": "s2", "name": "Other", "owned_by": "u1"}]
    owners = build_cmdb_owners(PORTFOLIO, cmdb)
    assert owners == {"billing": "u9"}
    people = {**PEOPLE, ("servicenow", "u9"): PersonRecord("erin.berg", "Erin Berg", False,
                                           "2026-11-01 10:00:00", "servicenow")}
    billing = build_ownership(PORTFOLIO, people, NAMES, now=NOW, cmdb_owners=owners)[0][
        ("service", "billing")]
    assert (billing.state, billing.owner, billing.since) == (
        "inactive", "erin.berg", "2026-11-01T10:00:00Z")


class FakeStore:
    """Pulled payloads and metadata, as the state store holds them."""

    def __init__(self, streams):
        self.streams, self.meta = streams, {}

    def iter_payloads(self, source, stream):
        yield from self.streams.get((source, stream), [])

    def count_records(self, source, stream):
        return len(self.streams.get((source, stream), []))

    def get_meta(self, name):
        return self.meta.get(name)

    def set_meta(self, name, value):
        self.meta[name] = value


def _issue(updated, active):
    return {"fields": {"updated": updated, "assignee": {
        "accountId": "acc-1", "displayName": "Chloe Lindqvist", "active": active}}}


def test_people_from_the_store_the_latest_jira_issue_decides():
    store = FakeStore({
        ("servicenow", "sys_user"): [
            {"sys_id": "u2", "user_name": "bob.smith", "name": "Bob Smith", "active": "false",
             "sys_updated_on": "2026-10-03 09:30:00"},
            {"sys_id": "u1", "user_name": "alice.martin", "name": "Alice Martin"}],
        ("jira", "issue"): [_issue("2026-11-01T10:00:00.000+0100", False),
                            _issue("2026-01-01T10:00:00.000+0000", True)]})
    people = build_people(store, {"acc-1"})
    sn = {ident: record for (platform, ident), record in people.items()
          if platform == "servicenow"}
    assert sn["u2"].ident == "bob.smith" and not sn["bob.smith"].active
    assert sn["u1"].active  # no active field stored (pulled before it was asked for)
    assert not people[("jira", "acc-1")].active  # the stale older snapshot does not win


def test_load_ownership_records_first_seen_once():
    store = FakeStore({("servicenow", "sys_user"): [
        {"sys_id": "u2", "user_name": "bob.smith", "name": "Bob Smith", "active": "false",
         "sys_updated_on": "2026-10-03 09:30:00"}], ("jira", "issue"): [_issue("x", True)]})
    states = load_ownership(store, PORTFOLIO, NAMES, NOW)
    assert states[("service", "email")].state == "not_found"
    first = dict(store.meta[FIRST_SEEN_KEY])
    later = load_ownership(store, PORTFOLIO, NAMES, datetime(2026, 12, 9, tzinfo=UTC))
    assert later[("service", "email")].since == STAMP
    assert store.meta[FIRST_SEEN_KEY] == first


def test_views_results_json_and_records_carry_the_state():
    states, _ = _states()
    views = {v.id: v for v in build_views([], PORTFOLIO, now=NOW, names=NAMES,
                                           ownership=states)}
    assert views["hr"].ownership.state == "inactive"
    assert views["hr"].ownership.to_dict()["text"].startswith("owner Bob Smith (bob.smith)")
    context = build_publish_context(PORTFOLIO, NAMES, None, ownership=states)
    assert context.owner_state("service", "hr").state == "inactive"
    assert context.owner_state("service", "nowhere") is None


def test_hostile_names_stay_text_on_the_banner_and_the_governance_page():
    hostile = '<script>alert("x")</script>'
    people = {**PEOPLE, ("servicenow", "bob.smith"): PersonRecord("bob.smith", hostile, False,
                                                  "2026-10-03 09:30:00", "servicenow")}
    portfolio = PORTFOLIO.model_copy(update={"services": (PORTFOLIO.services[1].model_copy(
        update={"name": "<b>HR</b>"}),)})
    states, _ = build_ownership(portfolio, people, NAMES, now=NOW)
    (view,) = build_views([], portfolio, now=NOW, names=NAMES, ownership=states)[:1]
    banner = build_owner_banner(view)
    body = build_governance_body([(view, "service-hr.html")], f"{hostile} (x)")
    for html in (banner, body):
        assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>HR</b>" not in body and "&lt;b&gt;HR&lt;/b&gt;" in body


def test_people_are_read_again_only_when_the_store_changed(tmp_path, monkeypatch):
    from connectors.base import Page, RawRecord
    from fiveo_sync import names
    from fiveo_sync.state import StateStore

    reads = []
    real = names._jira_people
    monkeypatch.setattr(names, "_jira_people", lambda store, wanted: reads.append(1) or
                        real(store, wanted))
    with StateStore(tmp_path / "state.sqlite") as store:
        store.save_page(Page("jira", "issue", [RawRecord(
            "1", "2026-01-01T10:00:00Z", _issue("2026-01-01T10:00:00.000+0000", True))]))
        assert build_people(store, {"acc-1"})[("jira", "acc-1")].active
        assert build_people(store, {"acc-1"})[("jira", "acc-1")].active
        assert len(reads) == 1  # the second answer came from the last reading
        store.save_page(Page("jira", "issue", [RawRecord(
            "1", "2026-11-01T09:00:00Z", _issue("2026-11-01T10:00:00.000+0100", False))]))
        assert not build_people(store, {"acc-1"})[("jira", "acc-1")].active
        assert len(reads) == 2
