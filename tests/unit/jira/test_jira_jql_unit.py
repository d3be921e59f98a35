"""JQL: the connector's zone-correct literals and the sandbox's parser."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.jira.ids import compress_ids, expand_ids
from connectors.jira.jql import build_census_jql, build_issue_jql, format_jql_datetime
from connectors.jira.sandbox.data import Issue
from connectors.jira.sandbox.jql import JqlError, Parser

AUCKLAND = ZoneInfo("Pacific/Auckland")


def test_literal_is_written_in_the_user_zone_and_floored_to_the_minute():
    moment = datetime(2024, 5, 2, 6, 11, 59, tzinfo=UTC)
    assert format_jql_datetime(moment, AUCKLAND) == '"2024-05-02 18:11"'
    assert format_jql_datetime(moment, ZoneInfo("America/Los_Angeles")) == '"2024-05-01 23:11"'


def test_ambiguous_fall_back_time_is_never_read_later_than_the_bookmark():
    # 2024-04-07 02:30 happens twice in Auckland (NZDT -> NZST at 03:00 local).
    first = datetime(2024, 4, 6, 13, 30, tzinfo=UTC)   # 02:30 NZDT
    second = datetime(2024, 4, 6, 14, 30, tzinfo=UTC)  # 02:30 NZST
    assert format_jql_datetime(first, AUCKLAND) == '"2024-04-07 01:30"'
    assert format_jql_datetime(second, AUCKLAND) == '"2024-04-07 02:30"'


def test_incremental_query_is_bounded_and_ordered():
    jql = build_issue_jql(["WEB", "PAY"], datetime(2024, 5, 2, 6, 10, tzinfo=UTC), AUCKLAND)
    assert jql == ('project in ("PAY", "WEB") AND updated >= "2024-05-02 18:10" '
                   "ORDER BY updated ASC, key ASC")
    assert build_census_jql(["PAY"], 10) == 'project in ("PAY") AND id > 10 ORDER BY id ASC'


def test_id_ranges_round_trip():
    ids = {1, 2, 3, 7, 9, 10}
    assert compress_ids(ids) == [[1, 3], [7, 7], [9, 10]]
    assert set(expand_ids(compress_ids(ids))) == ids


def _issue(**kw):
    base = dict(id=10001, key="PAY-1", project="PAY", number=1, type="Story", status="3",
                created=datetime(2024, 5, 1, tzinfo=UTC),
                updated=datetime(2024, 5, 2, 6, 10, 30, tzinfo=UTC), resolved=None,
                labels=["backend"], sprints=[37], points=3.0, summary="s", assignee=0,
                reporter=0, parent=None)
    base.update(kw)
    return Issue(**base)


def _parser(zone=AUCKLAND):
    return Parser(zone, datetime(2024, 5, 3, tzinfo=UTC), {"PAY", "WEB"},
                  {"pay sprint 7": 37})


@pytest.mark.parametrize(("jql", "expected"), [
    ('project = PAY AND updated >= "2024-05-02 18:10"', True),
    ('project = PAY AND updated >= "2024/05/02 18:11"', False),
    ("updated >= 1714630200000", True),
    ("updated > 1714630231000", False),
    ("project in (WEB, PAY) AND (status = 'In Progress' OR labels = x)", True),
    ('statusCategory = indeterminate AND sprint = "PAY Sprint 7"', True),
    ("issuetype = Bug OR key = PAY-1", True),
    ("NOT labels = backend", False),
    ("id > 10000 AND id < 10002", True),
])
def test_sandbox_parser_evaluates_the_subset(jql, expected):
    query = _parser().parse(jql)
    assert query.where is not None and query.where(_issue()) is expected


def test_zone_less_dates_are_read_in_the_user_zone():
    honolulu = ZoneInfo("Pacific/Honolulu")  # UTC-10
    issue = _issue(updated=datetime(2024, 5, 2, 6, 10, 30, tzinfo=UTC))
    utc_literal = 'updated >= "2024-05-02 06:10"'  # what a UTC-minded client sends
    assert _parser(ZoneInfo("UTC")).parse(utc_literal).where(issue)
    assert not _parser(honolulu).parse(utc_literal).where(issue)
    local = f"updated >= {format_jql_datetime(datetime(2024, 5, 2, 6, 10, tzinfo=UTC), honolulu)}"
    assert _parser(honolulu).parse(local).where(issue)


@pytest.mark.parametrize(("jql", "message"), [
    ("foo = 1", "Field 'foo' does not exist"),
    ('updated >= "02/05/2024"', "Valid formats include"),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
    ("project ~~ PAY", "Expecting operator"),
    ("project = PAY ORDER BY a, b", "Field 'a' does not exist"),
    ("project = PAY ORDER BY key, id, created, updated, status, project, resolved, key",
     "at most 7"),
])
def test_sandbox_parser_rejects_with_jira_wording(jql, message):
    with pytest.raises(JqlError, match=message):
        _parser().parse(jql)


def test_order_by_only_is_unbounded():
    assert _parser().parse("ORDER BY updated ASC").where is None
