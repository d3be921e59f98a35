"""JQL as admins write it, sent by the jira library over verified HTTPS, checked by hand.

Every query goes through ``JIRA.enhanced_search_issues`` (Cloud) or ``JIRA.search_issues``
(Data Center) unchanged; the keys it returns must equal a filter written here over the
sandbox's own data (issues, changelogs, sprints, comments). A few issues are created through
the API first so that sets such as "no description" or "assigned to me" are neither empty
nor everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from jira import JIRA, JIRAError

from connectors.jira.sandbox import JiraSandbox
from connectors.jira.sandbox.accounts import ADMIN
from connectors.jira.sandbox.data import ISSUE_TYPES

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
IN_PROGRESS, IN_REVIEW, DONE, TO_DO = "3", "10001", "10002", "10000"
_CLIENTS: dict[int, JIRA] = {}
CREATED = (("Fixing the checkout totals", "Totals on the checkout page are off by a cent."),
           ("Login fixes for the portal", None),
           ("Refactor reports", "No user-visible change."),
           ("Document alerts", None))


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with JiraSandbox(tls=True, deployment=request.param, now=NOW, jira_issues=500) as sb:
        client = _client(sb)
        project = sb.world.products[0].key
        keys = []
        for summary, description in CREATED:
            fields: dict[str, Any] = {"project": {"key": project}, "summary": summary,
                                      "issuetype": {"name": "Task"}}
            if description:
                fields["description"] = description
            keys.append(client.create_issue(fields=fields, prefetch=False).key)
        # The sandbox has no assignee write yet: set it on the data as a user would.
        for key, who in zip(keys, (ADMIN, ADMIN, None, 3), strict=True):
            _assign(sb, key, who)
        _CLIENTS[id(sb)] = client
        try:
            yield sb
        finally:
            # An unclosed session warns when collected (an error under filterwarnings).
            _CLIENTS.pop(id(sb)).close()


def _assign(sb: JiraSandbox, key: str, who: int | None) -> None:
    issue = sb.data.find(key)
    assert issue is not None
    with sb.data.lock:
        issue.assignee = who
        sb.data.version += 1


def _client(sb: JiraSandbox) -> JIRA:
    if sb.cloud:
        auth: dict[str, Any] = {"basic_auth": (sb.credentials["email"],
                                               sb.credentials["api_token"])}
    else:
        auth = {"token_auth": sb.credentials["pat"]}
    return JIRA(server=sb.url, max_retries=0, timeout=30, options={"verify": sb.ca_bundle},
                **auth)


def _search(sb: JiraSandbox, jql: str) -> list[str]:
    client = _CLIENTS[id(sb)]
    if sb.cloud:
        found = client.enhanced_search_issues(jql, maxResults=0, fields="key")
    else:
        found = client.search_issues(jql, maxResults=False, fields="key")
    return sorted(i.key for i in found)


# -- the hand-written side ---------------------------------------------------------------

def _words(text: Any) -> list[str]:
    return re.findall(r"[a-z0-9]+", str(text or "").lower())


def _comments(sb: JiraSandbox, issue: Any) -> list[str]:
    return [str(c.body) for c in sb.data.extras.comments(issue)]


def _changes(sb: JiraSandbox, issue: Any) -> list[tuple[datetime, int, str, str]]:
    return [(h.created, h.author, item[3], item[5]) for h in sb.data.histories(issue)
            for item in h.items if item[0] == "status"]


def _intervals(sb: JiraSandbox, issue: Any) -> list[tuple[datetime, datetime | None, str, int]]:
    """(from, until, status, set by): the status the issue had over time."""
    changes = _changes(sb, issue)
    start, value, setter = issue.created, changes[0][2] if changes else issue.status, \
        issue.reporter
    out = []
    for when, author, _old, new in changes:
        out.append((start, when, value, setter))
        start, value, setter = when, new, author
    return out + [(start, None, value, setter)]


def _was(sb: JiraSandbox, issue: Any, statuses: set[str], *, before: datetime | None = None,
         after: datetime | None = None, low: datetime | None = None,
         high: datetime | None = None, by: int | None = None) -> bool:
    for start, until, value, setter in _intervals(sb, issue):
        if value not in statuses or (by is not None and setter != by):
            continue
        if before is not None and start >= before:
            continue
        if after is not None and until is not None and until <= after:
            continue
        if low is not None and (start > high or (until is not None and until < low)):
            continue
        return True
    return False


def _day(sb: JiraSandbox, offset: int = 0) -> datetime:
    """Midnight, ``offset`` days from today, in the searching user's zone."""
    today = sb.now().astimezone(sb.zone).date()
    return datetime.combine(today + timedelta(days=offset), time(), tzinfo=sb.zone)


def _local(sb: JiraSandbox, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=sb.zone)


def _month_start(sb: JiraSandbox, months: int = 0) -> datetime:
    local = sb.now().astimezone(sb.zone)
    index = local.year * 12 + local.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=sb.zone)


def _week_start(sb: JiraSandbox) -> datetime:
    day = _day(sb)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _top_author(sb: JiraSandbox) -> int:
    counts: dict[int, int] = {}
    for issue in sb.data.iter_issues():
        for _when, author, _old, _new in _changes(sb, issue):
            counts[author] = counts.get(author, 0) + 1
    return max(sorted(counts), key=lambda a: counts[a])


def _user(sb: JiraSandbox, index: int) -> str:
    person = sb.world.people[index]
    return person.jira_account_id if sb.cloud else person.user_name


FIX = {"fix", "fixes", "fixed", "fixing"}
MS = timedelta(milliseconds=1)
Case = tuple[str, Callable[[JiraSandbox, Any], bool]]
CASES: list[Case] = [
    ('summary ~ "fix"', lambda sb, i: bool(FIX & set(_words(i.summary)))),
    ('text ~ "checkout"', lambda sb, i: "checkout" in _words(i.summary) + _words(
        i.extra.get("description")) + [w for c in _comments(sb, i) for w in _words(c)]),
    ('text ~ "staging"', lambda sb, i: any("staging" in _words(c) for c in _comments(sb, i))),
    ("description is EMPTY", lambda sb, i: not i.extra.get("description")),
    ("description is not EMPTY", lambda sb, i: bool(i.extra.get("description"))),
    ("assignee is EMPTY", lambda sb, i: i.assignee is None),
    ("assignee is not EMPTY", lambda sb, i: i.assignee is not None),
    ("assignee = EMPTY", lambda sb, i: i.assignee is None),
    ("assignee = null", lambda sb, i: i.assignee is None),
    ("assignee = currentUser()", lambda sb, i: i.assignee == ADMIN),
    ("resolution = Unresolved", lambda sb, i: i.resolved is None),
    ('status WAS "In Progress"', lambda sb, i: _was(sb, i, {IN_PROGRESS})),
    ('status WAS NOT "In Progress"', lambda sb, i: not _was(sb, i, {IN_PROGRESS})),
    ('status WAS IN ("In Review", "Done") BEFORE "2024-12-01"',
     lambda sb, i: _was(sb, i, {IN_REVIEW, DONE}, before=_local(sb, "2024-12-01"))),
    ('status WAS NOT IN ("To Do") AFTER "2025-03-01"',
     lambda sb, i: not _was(sb, i, {TO_DO}, after=_local(sb, "2025-03-01"))),
    ('status WAS "In Review" DURING ("2025-02-01", "2025-02-07")',
     lambda sb, i: _was(sb, i, {IN_REVIEW}, low=_local(sb, "2025-02-01"),
                        high=_local(sb, "2025-02-07"))),
    ('status WAS Done ON "2025-02-20"',
     lambda sb, i: _was(sb, i, {DONE}, before=_local(sb, "2025-02-21"),
                        after=_local(sb, "2025-02-20"))),
    ("status CHANGED", lambda sb, i: bool(_changes(sb, i))),
    ('status CHANGED FROM "To Do" TO "In Progress" AFTER "2025-02-15"',
     lambda sb, i: any(o == TO_DO and n == IN_PROGRESS and w > _local(sb, "2025-02-15")
                       for w, _a, o, n in _changes(sb, i))),
    ("status changed to Done after -30d",
     lambda sb, i: any(n == DONE and w > sb.now() - timedelta(days=30)
                       for w, _a, _o, n in _changes(sb, i))),
    ('status CHANGED BEFORE "2024-10-01"',
     lambda sb, i: any(w < _local(sb, "2024-10-01") for w, _a, _o, _n in _changes(sb, i))),
    ('status CHANGED DURING ("2025-01-01", "2025-01-31")',
     lambda sb, i: any(_local(sb, "2025-01-01") <= w <= _local(sb, "2025-01-31")
                       for w, _a, _o, _n in _changes(sb, i))),
    ("updated >= startOfDay(-1)", lambda sb, i: i.updated >= _day(sb, -1)),
    ("updated <= endOfDay(-1)", lambda sb, i: i.updated <= _day(sb) - MS),
    ("created <= endOfMonth(-1)", lambda sb, i: i.created <= _month_start(sb) - MS),
    ("created >= startOfMonth()", lambda sb, i: i.created >= _month_start(sb)),
    ("created >= startOfMonth(-2) AND created <= endOfMonth(-2)",
     lambda sb, i: _month_start(sb, -2) <= i.created <= _month_start(sb, -1) - MS),
    ("created >= startOfWeek()", lambda sb, i: i.created >= _week_start(sb)),
    ("created <= endOfWeek(-1)",
     lambda sb, i: i.created <= _week_start(sb) - MS),
    ("created >= startOfYear()",
     lambda sb, i: i.created >= datetime(_day(sb).year, 1, 1, tzinfo=sb.zone)),
    ("created <= endOfYear(-1)",
     lambda sb, i: i.created < datetime(_day(sb).year, 1, 1, tzinfo=sb.zone)),
    ("updated >= startOfDay() AND updated <= now()", lambda sb, i: i.updated >= _day(sb)),
    ("created >= -30d", lambda sb, i: i.created >= sb.now() - timedelta(days=30)),
    ("created >= -2w", lambda sb, i: i.created >= sb.now() - timedelta(weeks=2)),
    ("updated >= -4h", lambda sb, i: i.updated >= sb.now() - timedelta(hours=4)),
    ("sprint in openSprints()", lambda sb, i: any(
        sb.data.sprints[s].state == "active" for s in i.sprints)),
    ("sprint in closedSprints()", lambda sb, i: any(
        sb.data.sprints[s].state == "closed" for s in i.sprints)),
    ("sprint in futureSprints()", lambda sb, i: any(
        sb.data.sprints[s].state == "future" for s in i.sprints)),
    ("sprint is EMPTY", lambda sb, i: not i.sprints),
    ("issuetype in standardIssueTypes()", lambda sb, i: not ISSUE_TYPES[i.type][1]),
    ("issuetype in subTaskIssueTypes()", lambda sb, i: ISSUE_TYPES[i.type][1]),
]


@pytest.mark.parametrize(("jql", "expected"), CASES, ids=[c[0] for c in CASES])
def test_admin_jql_returns_what_a_hand_written_filter_selects(sandbox, jql, expected):
    # Bounded as Cloud requires; the bound itself is a plain clause the filter repeats.
    bounded = f"project in ({', '.join(sandbox.data.projects)}) AND ({jql})"
    want = sorted(i.key for i in sandbox.data.iter_issues() if expected(sandbox, i))
    got = _search(sandbox, bounded)
    assert got == want
    assert 0 < len(want) < len(sandbox.data.issues), "choose data that discriminates"


def test_history_by_a_user(sandbox):
    author = _top_author(sandbox)
    name = _user(sandbox, author)
    want = sorted(i.key for i in sandbox.data.iter_issues()
                  if _was(sandbox, i, {IN_PROGRESS}, by=author))
    assert _search(sandbox, f'status WAS "In Progress" BY {name}') == want
    changed = sorted(i.key for i in sandbox.data.iter_issues()
                     if any(a == author for _w, a, _o, _n in _changes(sandbox, i)))
    assert _search(sandbox, f"status CHANGED BY {name}") == changed
    assert 0 < len(want) and 0 < len(changed) < len(sandbox.data.issues)


def test_a_relative_capital_m_is_minutes_as_jira_lower_cases_periods(sandbox):
    key = f"{sandbox.world.products[1].key}-2"
    _CLIENTS[id(sandbox)].issue(key).update(fields={"summary": "Touched just now"})
    want = sorted(i.key for i in sandbox.data.iter_issues()
                  if i.updated >= sandbox.now() - timedelta(minutes=1))
    month = [i for i in sandbox.data.iter_issues()
             if i.updated >= sandbox.now() - timedelta(days=30)]
    assert key in want and len(want) < len(month)
    assert _search(sandbox, "updated >= -1M") == want


@pytest.mark.parametrize(("jql", "message"), [
    ("xyz = 1", "Field 'xyz' does not exist or you do not have permission to view it."),
    ("assignee = foo()", "Unable to find JQL function 'foo()'."),
    ("assignee in membersOf(developers)",
     "Unable to find JQL function 'membersOf(developers)'."),
    ('summary = "fix"', "The operator '=' is not supported by the 'summary' field."),
    ("created > startOfDay(1q)", "Duration for function 'startOfDay' should have the format "
                                 "(+/-)n(yMwdhm), e.g. -1M for a month ago."),
    ('status WAS "Blocked"', "The value 'Blocked' does not exist for the field 'status'."),
])
def test_unsupported_jql_is_a_400_with_jira_wording(sandbox, jql, message):
    with pytest.raises(JIRAError) as caught:
        _search(sandbox, f"project = {sandbox.world.products[0].key} AND {jql}")
    assert caught.value.status_code == 400
    assert message in str(caught.value.text)
