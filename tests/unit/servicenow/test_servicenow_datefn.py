"""The sandbox's GlideSystem date helpers and the date operators of its query parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.servicenow.sandbox.datefn import ScriptContext, evaluate, relative_moment

CTX = ScriptContext(datetime(2025, 3, 31, 12, 30, 15, tzinfo=UTC), "u-sys-id", "fiveo.integration")


@pytest.mark.parametrize(("script", "expected"), [
    ("gs.daysAgo(1)", "2025-03-30 12:30:15"),
    ("gs.daysAgoStart(31)", "2025-02-28 00:00:00"),
    ("gs.daysAgoEnd(0)", "2025-03-31 23:59:59"),
    ("gs.hoursAgoStart(2)", "2025-03-31 10:00:00"),
    ("gs.hoursAgoEnd(2)", "2025-03-31 10:59:59"),
    ("gs.minutesAgoStart(1)", "2025-03-31 12:29:00"),
    ("gs.monthsAgo(1)", "2025-02-28 12:30:15"),  # clamped to February's last day
    ("gs.monthsAgoStart(3)", "2024-12-01 00:00:00"),
    ("gs.monthsAgoEnd(1)", "2025-02-28 23:59:59"),
    ("gs.quartersAgoStart(1)", "2024-10-01 00:00:00"),
    ("gs.quartersAgoEnd(1)", "2024-12-31 23:59:59"),
    ("gs.yearsAgo(1)", "2024-03-31 12:30:15"),
    ("gs.yesterday()", "2025-03-30 12:30:15"),
    ("gs.beginningOfToday()", "2025-03-31 00:00:00"),
    ("gs.endOfYesterday()", "2025-03-30 23:59:59"),
    ("gs.beginningOfThisWeek()", "2025-03-31 00:00:00"),  # a Monday
    ("gs.endOfLastWeek()", "2025-03-30 23:59:59"),
    ("gs.beginningOfNextMonth()", "2025-04-01 00:00:00"),
    ("gs.endOfLastMonth()", "2025-02-28 23:59:59"),
    ("gs.beginningOfThisQuarter()", "2025-01-01 00:00:00"),
    ("gs.endOfNextQuarter()", "2025-06-30 23:59:59"),
    ("gs.beginningOfLastYear()", "2024-01-01 00:00:00"),
    ("gs.endOfThisYear()", "2025-12-31 23:59:59"),
    ("gs.dateGenerate('2024-02-29','end')", "2024-02-29 23:59:59"),
    ("gs.dateGenerate('2024-02-29','06:07:08')", "2024-02-29 06:07:08"),
    ('gs.dateGenerate("2024-02-29 06:07:08")', "2024-02-29 06:07:08"),
    ("gs.getUserID()", "u-sys-id"),
    ("gs.getUserName()", "fiveo.integration"),
])
def test_gs_functions(script, expected):
    assert evaluate("javascript:" + script, CTX) == expected


@pytest.mark.parametrize("script", ["gs.noSuchThing()", "gs.daysAgo(x)", "new GlideDateTime()",
                                    "gs.dateGenerate('not a date','start')"])
def test_scripts_the_sandbox_does_not_run_are_none(script):
    assert evaluate("javascript:" + script, CTX) is None


def test_plain_values_pass_through_and_scripts_need_a_context():
    assert evaluate("2025-01-01 00:00:00", None) == "2025-01-01 00:00:00"
    assert evaluate("javascript:gs.daysAgo(1)", None) is None


@pytest.mark.parametrize(("operand", "expected"), [
    ("@hour@ago@3", "2025-03-31 09:30:15"),
    ("@dayofweek@ago@7", "2025-03-24 12:30:15"),
    ("@minute@ahead@30", "2025-03-31 13:00:15"),
    ("@month@ago@1", "2025-02-28 12:30:15"),
    ("@year@ago@1", "2024-03-31 12:30:15"),
    ("@fortnight@ago@1", None),
    ("@hour@ago", None),
])
def test_relative_operands(operand, expected):
    assert relative_moment(operand, CTX) == expected
