from __future__ import annotations

import json

import pytest
from responses import matchers

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.jira.executor import IssuePacer, detect_flavour, execute_plan, fetch_current
from fiveo_sync import logs
from fiveo_sync.writers.jira import CurrentScorecard, ScorecardTarget, build_jira_plan

BASE = "https://acme.atlassian.net"
V3 = f"{BASE}/rest/api/3"
V2 = f"{BASE}/rest/api/2"
PROP = "properties/fiveo.scorecard"
TARGET = ScorecardTarget("payments-web", "Payments Web", "PAY", ("payments",))


@pytest.fixture
def http():
    return HttpClient("jira", build_session(), RetryPolicy(max_attempts=3),
                      sleep=lambda _s: None)


def _results(make_result, status="met"):
    return [make_result(view="product", scope_type="product", scope="payments-web",
                        indicator="optimise.velocity", name="Velocity", o="optimise",
                        unit="SP", value=34.0, status=status, sources=("jira",))]


def test_detect_flavour(http, mocked):
    mocked.get(f"{V2}/serverInfo", json={"deploymentType": "Cloud"})
    mocked.get(f"{V2}/serverInfo", json={"deploymentType": "Server"})
    assert detect_flavour(http, BASE) == "adf"
    assert detect_flavour(http, BASE) == "wiki"
    assert detect_flavour(http, BASE, "datacenter") == "wiki"


def test_fetch_current_cloud_prefers_property_then_adopts_unclaimed(http, mocked):
    jql = 'labels = "fiveo-scorecard" AND project in ("MAIL", "PAY") ORDER BY key ASC'
    mocked.get(f"{V3}/search/jql", match=[matchers.query_param_matcher(
        {"jql": jql, "fields": "summary,labels,project", "maxResults": "100"})], json={
        "issues": [{"id": "10", "key": "PAY-1", "fields": {
            "summary": "edited", "labels": ["fiveo-scorecard"], "project": {"key": "PAY"}}}],
        "nextPageToken": "t2", "isLast": False})
    mocked.get(f"{V3}/issue/PAY-1/{PROP}", json={"key": "fiveo.scorecard",
                                                 "value": {"product": "payments-web",
                                                           "digest": "d"}})
    mocked.get(f"{V3}/search/jql", match=[matchers.query_param_matcher(
        {"nextPageToken": "t2"}, strict_match=False)], json={
        "issues": [{"id": "20", "key": "MAIL-4", "fields": {
            "summary": "5 O scorecard — Mail", "labels": ["fiveo-scorecard"],
            "project": {"key": "MAIL"}}}], "isLast": True})
    mocked.get(f"{V3}/issue/MAIL-4/{PROP}", status=404, json={
        "errorMessages": ["The property with key 'fiveo.scorecard' does not exist."]})
    found = fetch_current(http, BASE, flavour="adf", label="fiveo-scorecard",
                          projects={"PAY": "payments-web", "MAIL": "mail"})
    assert found["payments-web"] == CurrentScorecard(
        "PAY-1", "edited", ("fiveo-scorecard",), {"product": "payments-web", "digest": "d"})
    assert found["mail"].issue_key == "MAIL-4" and found["mail"].scorecard is None


def test_fetch_current_datacenter_pages_with_start_at(http, mocked):
    issue = {"id": "1", "key": "PAY-1", "fields": {"summary": "s", "labels": ["l"],
                                                   "project": {"key": "PAY"}}}
    mocked.get(f"{V2}/search", match=[matchers.query_param_matcher(
        {"startAt": "0"}, strict_match=False)], json={"issues": [issue], "total": 2})
    mocked.get(f"{V2}/issue/PAY-1/{PROP}", json={"value": {"product": "payments-web"}})
    twin = {**issue, "id": "2", "key": "PAY-2"}
    mocked.get(f"{V2}/search", match=[matchers.query_param_matcher(
        {"startAt": "1"}, strict_match=False)], json={"issues": [twin], "total": 2})
    mocked.get(f"{V2}/issue/PAY-2/{PROP}", json={"value": {"product": "payments-web"}})
    found = fetch_current(http, BASE, flavour="wiki", label="l", projects={"PAY": "payments-web"})
    assert found["payments-web"].issue_key == "PAY-1"  # the oldest of two claims wins


def test_create_posts_issue_then_property(http, mocked, make_result):
    plan = build_jira_plan([TARGET], _results(make_result), {}, flavour="adf", label="l")
    mocked.post(f"{V3}/issue", status=201, json={"id": "100", "key": "PAY-9"})
    prop = plan.ops[0].fields["property"]
    mocked.put(f"{V3}/issue/PAY-9/{PROP}", status=201,
               match=[matchers.json_params_matcher(json.loads(json.dumps(prop)))])
    report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert [(o.action, o.detail) for o in report.outcomes] == [("created", "PAY-9")]
    sent = json.loads(mocked.calls[0].request.body)["fields"]
    assert sent["project"] == {"key": "PAY"} and sent["issuetype"] == {"name": "Task"}
    assert sent["labels"] == ["l"] and sent["description"]["type"] == "doc"


def test_status_change_comments_once_and_honours_per_issue_429(http, mocked, make_result):
    (created,) = build_jira_plan([TARGET], _results(make_result), {}, flavour="wiki",
                                 label="l").ops
    held = CurrentScorecard("PAY-9", created.fields["summary"], ("l",),
                            created.fields["property"])
    plan = build_jira_plan([TARGET], _results(make_result, "missed"),
                           {"payments-web": held}, flavour="wiki", label="l")
    marker = plan.ops[0].fields["comment_marker"]
    mocked.put(f"{V2}/issue/PAY-9", status=429, body="<html>slow down</html>",
               headers={"Retry-After": "0", "RateLimit-Reason": "jira-per-issue-on-write"})
    mocked.put(f"{V2}/issue/PAY-9", status=204)
    mocked.get(f"{V2}/issue/PAY-9/comment", json={"comments": [{"body": "other"}]})
    mocked.post(f"{V2}/issue/PAY-9/comment", status=201, json={"id": "1"})
    mocked.put(f"{V2}/issue/PAY-9/{PROP}", status=200)
    slept = []
    pacer = IssuePacer(0.15, sleep=slept.append, monotonic=lambda: 100.0)
    report = execute_plan(http, BASE, plan, flavour="wiki", pacer=pacer)
    assert [o.action for o in report.outcomes] == ["updated"]
    comment = json.loads(mocked.calls[3].request.body)["body"]
    assert f"fiveo:{marker}" in comment and "met → missed" in comment
    assert slept == [0.15, 0.15]  # three writes to one issue, spaced

    # A rerun after a crash before the property write finds its comment and skips it.
    mocked.put(f"{V2}/issue/PAY-9", status=204)
    mocked.get(f"{V2}/issue/PAY-9/comment", json={"comments": [{"body": comment}]})
    mocked.put(f"{V2}/issue/PAY-9/{PROP}", status=200)
    report = execute_plan(http, BASE, plan, flavour="wiki", pacer=IssuePacer(0))
    assert [o.action for o in report.outcomes] == ["updated"]


def test_unavailable_jira_stops_target(http, mocked, make_result):
    plan = build_jira_plan([TARGET], _results(make_result), {}, flavour="adf", label="l")
    for _ in range(http.policy.max_attempts):
        mocked.post(f"{V3}/issue", status=500, json={"errorMessages": ["boom"]})
        mocked.get(f"{V3}/search/jql", json={"issues": [], "isLast": True})
    report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert report.failed and "500" in report.error and report.outcomes == []
    # A POST without an answer is sent again only after a search found no scorecard.
    methods = [c.request.method for c in mocked.calls]
    assert methods == ["POST", "GET"] * http.policy.max_attempts


def test_scorecard_created_before_its_answer_was_lost_is_adopted(http, mocked, make_result):
    plan = build_jira_plan([TARGET], _results(make_result), {}, flavour="adf", label="l")
    mocked.post(f"{V3}/issue", status=500, json={"errorMessages": ["boom"]})
    mocked.get(f"{V3}/search/jql", json={"issues": [{"id": "1", "key": "PAY-9"}],
                                         "isLast": True})
    mocked.put(f"{V3}/issue/PAY-9/properties/fiveo.scorecard", status=200)
    report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert [(o.action, o.detail) for o in report.outcomes] == [("created", "PAY-9")]
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "PUT"]


def test_pacer_waits_only_for_the_same_issue():
    slept = []
    clock = iter([0.0, 0.0, 0.10, 0.15])
    pacer = IssuePacer(0.15, sleep=slept.append, monotonic=lambda: next(clock))
    pacer.wait("A-1")
    pacer.wait("B-1")
    pacer.wait("A-1")
    assert slept == [pytest.approx(0.05)]


QUIET = matchers.query_param_matcher({"notifyUsers": "false"})
LOUD = matchers.query_param_matcher({})
DENIED = {"errorMessages": ["To discard the user notification either admin or project admin "
                            "permissions are required."], "errors": {}}


def _two_updates(make_result):
    targets = [TARGET, ScorecardTarget("mail", "Mail", "MAIL")]
    results = _results(make_result) + [make_result(
        view="product", scope_type="product", scope="mail", indicator="optimise.velocity",
        name="Velocity", o="optimise", unit="SP", value=20.0, sources=("jira",))]
    created = build_jira_plan(targets, results, {}, flavour="adf", label="l").ops
    held = {op.key: CurrentScorecard(f"{op.fields['project']}-1", op.fields["summary"],
                                     ("l",), {**op.fields["property"], "digest": "old"})
            for op in created}
    plan = build_jira_plan(targets, results, held, flavour="adf", label="l")
    assert [op.action for op in plan.ops] == ["update", "update"]
    return plan


def test_edits_ask_jira_not_to_notify_watchers(http, mocked, make_result):
    plan = _two_updates(make_result)
    for key in [op.ref for op in plan.ops]:
        mocked.put(f"{V3}/issue/{key}", status=204, match=[QUIET])
        mocked.put(f"{V3}/issue/{key}/{PROP}", status=200)
    report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert [o.action for o in report.outcomes] == ["updated", "updated"]


def test_without_project_admin_the_edit_is_sent_again_and_later_ones_go_without(
        http, mocked, make_result):
    logs.configure("json")
    plan = _two_updates(make_result)
    first, second = [op.ref for op in plan.ops]
    mocked.put(f"{V3}/issue/{first}", status=403, json=DENIED, match=[QUIET])
    mocked.put(f"{V3}/issue/{first}", status=204, match=[LOUD])
    mocked.put(f"{V3}/issue/{first}/{PROP}", status=200)
    mocked.put(f"{V3}/issue/{second}", status=204, match=[LOUD])  # remembered: no 2nd 403
    mocked.put(f"{V3}/issue/{second}/{PROP}", status=200)
    seen = []
    with logs.listen(seen.append):
        report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert [o.action for o in report.outcomes] == ["updated", "updated"]
    (warning,) = [e for e in seen if e["level"] == "warning"]
    assert warning["event"] == "jira_notifications_not_suppressed"
    assert warning["status"] == 403 and "project admin" in warning["message"]
    assert "Administer Projects" in warning["hint"]


def test_an_edit_refused_for_itself_fails_as_before(http, mocked, make_result):
    plan = _two_updates(make_result)
    no_edit = {"errorMessages": ["You do not have permission to edit issues in this "
                                 "project."], "errors": {}}
    first = plan.ops[0].ref
    mocked.put(f"{V3}/issue/{first}", status=403, json=no_edit, match=[QUIET])
    mocked.put(f"{V3}/issue/{first}", status=403, json=no_edit, match=[LOUD])
    report = execute_plan(http, BASE, plan, flavour="adf", pacer=IssuePacer(0))
    assert report.failed and "permission to edit" in report.error
