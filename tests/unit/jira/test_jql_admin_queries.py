"""The sandbox's JQL for what admins write: text, EMPTY, users, dates, sprints, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from connectors.jira.sandbox.accounts import ADMIN
from connectors.jira.sandbox.data import History, Issue, Sprint
from connectors.jira.sandbox.jql import JqlError, Parser
from connectors.jira.sandbox.jql_dates import call_date_function, parse_date
from connectors.jira.sandbox.jql_text import build_text_matcher
from connectors.world import Person

AUCKLAND = ZoneInfo("Pacific/Auckland")
# Wednesday 2025-03-05 10:30 in Auckland (NZDT, UTC+13).
NOW = datetime(2025, 3, 4, 21, 30, tzinfo=UTC)
T0 = datetime(2025, 2, 1, 0, 0, tzinfo=UTC)
PEOPLE = tuple(Person(f"user{i}", f"User {i}", f"user{i}@example.org", f"sys{i}",
                      f"acc{i:02d}", "UTC") for i in range(5))


def _issue(number: int = 1, **kw) -> Issue:
    base = dict(id=10000 + number, key=f"PAY-{number}", project="PAY", number=number,
                type="Story", status="10002", created=T0, updated=T0 + timedelta(days=9),
                resolved=T0 + timedelta(days=9), labels=[], sprints=[], points=None,
                summary="Story 1: Fix login", assignee=1, reporter=2, parent=None)
    base.update(kw)
    return Issue(**base)


def _status(when: datetime, author: int, old: str, new: str) -> History:
    names = {"10000": "To Do", "3": "In Progress", "10001": "In Review", "10002": "Done"}
    return History(int(when.timestamp()), when, author,
                   (("status", "jira", "status", old, names[old], new, names[new]),))


# To Do -> In Progress (Feb 3, by user3) -> Done (Feb 10, by user4).
HISTORY = [_status(T0 + timedelta(days=2), 3, "10000", "3"),
           _status(T0 + timedelta(days=9), 4, "3", "10002")]
SPRINTS = {1: Sprint(1, "PAY Sprint 1", 7, "closed", T0, T0, T0, T0, None),
           2: Sprint(2, "PAY Sprint 2", 7, "active", T0, T0, None, T0, None),
           3: Sprint(3, "PAY Sprint 3", 7, "future", None, None, None, T0, None)}


class FakeData:
    """The parts of the sandbox Dataset that JQL reads."""

    def __init__(self, histories: dict[int, list[History]]) -> None:
        self.world = SimpleNamespace(people=PEOPLE)
        self.sprints = SPRINTS
        self._histories = histories
        self.extras = SimpleNamespace(comments=lambda issue: [
            SimpleNamespace(body="Reproduced on the checkout page")] if issue.number == 3
            else [])

    def histories(self, issue: Issue) -> list[History]:
        return self._histories.get(issue.id, [])


def _where(jql: str, *, cloud: bool = True, histories=None):
    data = FakeData(histories if histories is not None else {10001: HISTORY})
    parser = Parser(AUCKLAND, NOW, {"PAY"}, {s.name.lower(): s.id for s in SPRINTS.values()},
                    data=data, user=ADMIN, cloud=cloud)
    return parser.parse(jql).where


def _matching(jql: str, issues: list[Issue], **kw) -> list[str]:
    where = _where(jql, **kw)
    return [i.key for i in issues if where(i)]


# -- text ------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "text", "expected"), [
    ("fix", "Fixes the login", True),
    ("fix", "Fixed login", True),
    ("fixing", "we fix it", True),
    ("FIX", "fix", True),
    ("fix", "prefix matters", False),
    ("check", "checkout flow", False),
    ("check*", "Checkout flow", True),
    ("che?", "checkout flow", True),
    ("login fix", "Fix login", True),           # AND, any order
    ("login fix", "Fix signup", False),
    ("login OR signup", "signup page", True),
    ("login -signup", "login and signup", False),
    ("the login", "Login", True),               # stop words ignored
    ('"fix login"', "Fix login today", True),   # phrase: consecutive
    ('"login fix"', "Fix login today", False),
    ("story's", "Stories", True),
    ("-login", "anything", False),              # only exclusions: nothing
])
def test_text_search_rule(query, text, expected):
    assert build_text_matcher(query, "summary")(text) is expected


def test_text_search_rejects_a_leading_wildcard():
    with pytest.raises(JqlError, match="The text query '\\*fix' for field 'summary' is not "
                                       "allowed to start with '\\*'."):
        build_text_matcher("*fix", "summary")


def test_text_field_reads_summary_description_and_comments():
    issues = [_issue(1, summary="Fix login"),
              _issue(2, summary="Other", extra={"description": "Checkout totals are wrong"}),
              _issue(3, summary="Other"),
              _issue(4, summary="Other", extra={"description": {"type": "doc", "content": [
                  {"type": "paragraph", "content": [{"type": "text", "text": "checkout"}]}]}})]
    assert _matching('text ~ "checkout"', issues) == ["PAY-2", "PAY-3", "PAY-4"]
    assert _matching('summary ~ "checkout"', issues) == []
    assert _matching('summary !~ "fix"', issues) == ["PAY-2", "PAY-3", "PAY-4"]


# -- EMPTY, users, resolution ------------------------------------------------------------

def test_empty_and_null_are_the_same_test_and_not_equals_skips_empty_fields():
    issues = [_issue(1, assignee=None, extra={"description": ""}),
              _issue(2, assignee=3, extra={"description": "x"}),
              _issue(3, assignee=ADMIN)]
    for jql in ("assignee is EMPTY", "assignee = EMPTY", "assignee = null",
                "assignee IS NULL"):
        assert _matching(jql, issues) == ["PAY-1"]
    assert _matching("assignee is not EMPTY", issues) == ["PAY-2", "PAY-3"]
    assert _matching("description is EMPTY", issues) == ["PAY-1", "PAY-3"]
    assert _matching("assignee != acc03", issues) == ["PAY-3"]
    assert _matching("assignee not in (acc03)", issues) == ["PAY-3"]


def test_users_by_account_id_name_email_or_display_name_and_current_user():
    issues = [_issue(1, assignee=3), _issue(2, assignee=ADMIN), _issue(3, assignee=None)]
    for value in ("acc03", "user3", '"User 3"', "user3@example.org"):
        assert _matching(f"assignee = {value}", issues) == ["PAY-1"]
    assert _matching("assignee = currentUser()", issues) == ["PAY-2"]
    assert _matching("assignee in (currentUser(), acc03)", issues) == ["PAY-1", "PAY-2"]
    assert _matching("reporter = user2", issues) == ["PAY-1", "PAY-2", "PAY-3"]


def test_resolution_unresolved_is_empty():
    issues = [_issue(1), _issue(2, resolved=None, status="3")]
    assert _matching("resolution = Unresolved", issues) == ["PAY-2"]
    assert _matching("resolution is EMPTY", issues) == ["PAY-2"]
    assert _matching("resolution = Done", issues) == ["PAY-1"]
    assert _matching("resolution != Unresolved", issues) == ["PAY-1"]


# -- sprints and issue types -------------------------------------------------------------

def test_sprint_functions_follow_sprint_states():
    issues = [_issue(1, sprints=[1]), _issue(2, sprints=[1, 2]), _issue(3, sprints=[3]),
              _issue(4, sprints=[])]
    assert _matching("sprint in openSprints()", issues) == ["PAY-2"]
    assert _matching("sprint in closedSprints()", issues) == ["PAY-1", "PAY-2"]
    assert _matching("sprint in futureSprints()", issues) == ["PAY-3"]
    assert _matching("sprint not in closedSprints()", issues) == ["PAY-3"]
    assert _matching("sprint is EMPTY", issues) == ["PAY-4"]


def test_issue_type_functions_split_on_subtask():
    issues = [_issue(1, type="Bug"), _issue(2, type="Sub-task"), _issue(3, type="Epic")]
    assert _matching("issuetype in standardIssueTypes()", issues) == ["PAY-1", "PAY-3"]
    assert _matching("issuetype in subTaskIssueTypes()", issues) == ["PAY-2"]


# -- dates -------------------------------------------------------------------------------

def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AUCKLAND)


@pytest.mark.parametrize(("call", "expected"), [
    (("now", []), NOW.astimezone(AUCKLAND)),
    (("startOfDay", []), _local("2025-03-05 00:00")),
    (("startOfDay", ["-1"]), _local("2025-03-04 00:00")),
    (("endOfDay", []), _local("2025-03-05 23:59:59.999")),
    (("startOfWeek", []), _local("2025-03-02 00:00")),     # Sunday
    (("endOfWeek", []), _local("2025-03-08 23:59:59.999")),  # Saturday
    (("startOfMonth", ["+14d"]), _local("2025-03-15 00:00")),
    (("startOfMonth", ["-1"]), _local("2025-02-01 00:00")),
    (("endOfMonth", []), _local("2025-03-31 23:59:59.999")),
    (("endOfMonth", ["-1M"]), _local("2025-02-28 23:59:59.999")),
    (("startOfYear", []), _local("2025-01-01 00:00")),
    (("endOfYear", ["1y"]), _local("2026-12-31 23:59:59.999")),
    (("startOfDay", ["-90m"]), _local("2025-03-04 22:30")),
])
def test_date_functions_in_the_user_zone(call, expected):
    assert call_date_function(call[0], call[1], AUCKLAND, NOW) == expected


@pytest.mark.parametrize(("text", "delta"), [
    ("-30d", timedelta(days=-30)), ("-2w", timedelta(weeks=-2)), ("-4h", timedelta(hours=-4)),
    ("-15m", timedelta(minutes=-15)), ("4w 2d", timedelta(weeks=4, days=2)),
    ("-1M", timedelta(minutes=-1)),  # Jira lower-cases periods: M is minutes here
    ("-30", timedelta(minutes=-30)), ("-2days", timedelta(days=-2)),
])
def test_relative_periods_are_jira_durations(text, delta):
    assert parse_date("updated", text, True, AUCKLAND, NOW) == NOW + delta


def test_date_clauses_use_functions_and_periods():
    issues = [_issue(1, updated=_local("2025-03-04 09:00")),
              _issue(2, updated=_local("2025-03-03 23:59"))]
    assert _matching("updated >= startOfDay(-1)", issues) == ["PAY-1"]
    assert _matching("updated > -2d", issues) == ["PAY-1", "PAY-2"]
    assert _matching('updated < "2025-03-04"', issues) == ["PAY-2"]


# -- WAS and CHANGED ---------------------------------------------------------------------

@pytest.mark.parametrize(("jql", "expected"), [
    ('status WAS "In Progress"', True),
    ('status WAS "In Review"', False),
    ('status WAS NOT "In Review"', True),
    ('status WAS IN ("In Review", "In Progress")', True),
    ('status WAS NOT IN ("In Review", "In Progress")', False),
    ('status WAS "In Progress" BEFORE "2025-02-03"', False),   # only from Feb 3, 00:00 UTC
    ('status WAS "In Progress" BEFORE "2025-02-04"', True),
    ('status WAS "In Progress" AFTER "2025-02-11"', False),
    ('status WAS Done AFTER "2025-02-11"', True),
    ('status WAS "In Progress" DURING ("2025-02-05", "2025-02-06")', True),
    ('status WAS "To Do" DURING ("2025-02-05", "2025-02-06")', False),
    ('status WAS "In Progress" ON "2025-02-08"', True),
    ('status WAS "In Progress" BY user3', True),
    ('status WAS "In Progress" BY user4', False),
    ('status WAS "To Do" BY user2', True),                    # the reporter set the first one
    ("status CHANGED", True),
    ('status CHANGED FROM "To Do" TO "In Progress"', True),
    ('status CHANGED FROM "To Do" TO Done', False),
    ("status CHANGED TO Done AFTER -30d", True),
    ("status CHANGED TO Done AFTER -20d", False),
    ('status CHANGED BY acc04 BEFORE "2025-02-11"', True),
    ('status CHANGED DURING ("2025-02-04", "2025-02-09")', False),
    ('status CHANGED ON "2025-02-10"', True),                 # Feb 10 13:00 in Auckland
    ("resolution WAS Unresolved", True),
    ("status CHANGED BY currentUser()", False),
])
def test_history_operators(jql, expected):
    issue = _issue(1)
    resolution = History(1, T0 + timedelta(days=9), 4,
                         (("resolution", "jira", "resolution", None, None, "10000", "Done"),))
    assert _where(jql, histories={10001: HISTORY + [resolution]})(issue) is expected


def test_an_issue_that_never_changed_was_its_current_status():
    issue = _issue(1, status="10000", resolved=None)
    assert _where('status WAS "To Do"', histories={})(issue)
    assert not _where("status CHANGED", histories={})(issue)


# -- what stays unsupported: Jira's own words --------------------------------------------

@pytest.mark.parametrize(("jql", "message"), [
    ("xyz = 1", "Field 'xyz' does not exist or you do not have permission to view it."),
    ("assignee = foo()", "Unable to find JQL function 'foo()'."),
    ("assignee in membersOf(jira-users)", "Unable to find JQL function 'membersOf(jira-users)'."),
    ("issue in linkedIssues(PAY-1, blocks)",
     "Unable to find JQL function 'linkedIssues(PAY-1, blocks)'."),
    ("assignee = now()", "A value provided by the function 'now' is invalid for the field "
                         "'assignee'."),
    ("created > currentUser()", "A date for the field 'created' provided by the function "
                                "'currentUser' is not valid."),
    ("created > now(1)", "Function 'now' expected '0' arguments but received '1'."),
    ("created > startOfDay(1, 2)", "Function 'startOfDay' expected between '0' and '1' "
                                   "arguments but received '2'."),
    ("created > startOfDay(yesterday)", "Duration for function 'startOfDay' should have the "
                                        "format (+/-)n(yMwdhm), e.g. -1M for a month ago."),
    ('summary = "fix"', "The operator '=' is not supported by the 'summary' field."),
    ("project ~ PAY", "The operator '~' is not supported by the 'project' field."),
    ("labels WAS x", "The operator 'WAS' is not supported by the 'labels' field."),
    ("summary CHANGED", "The operator 'CHANGED' is not supported by the 'summary' field."),
    ("assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."),
    ('status WAS "Blocked"', "The value 'Blocked' does not exist for the field 'status'."),
    ("resolution = Fixed", "The value 'Fixed' does not exist for the field 'resolution'."),
    ('created > "yesterday"', "Date value 'yesterday' for field 'created' is invalid."),
])
def test_unsupported_jql_answers_with_jira_wording(jql, message):
    with pytest.raises(JqlError) as caught:
        _where(jql)
    assert str(caught.value).startswith(message)
