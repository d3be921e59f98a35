"""Golden cases of the complete-periods-first rule (docs/owner-views.md).

Hand-written expectations: for month, ISO week and sprint series, at the first instant of a
period and mid-period, which result is the headline (last complete period) and which is
the partial one (current period to date) — in the rule itself, the owner views, the
ServiceNow record's ``u_period_state`` and the Jira scorecard rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.headline import period_state, split_series
from fiveo_sync.views import build_views
from fiveo_sync.writers.jira import build_scorecard_rows
from fiveo_sync.writers.servicenow import build_record


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _result(period: str, kind: str, start: str, end: str, status: str = "met",
            value: float = 1.0, scope: str = "payments") -> IndicatorResult:
    return IndicatorResult(
        indicator="operate.mttr", name="MTTR", o="operate", view="service",
        scope_type="service", scope=scope, breakdown="all", period=period, period_kind=kind,
        period_start=_at(start), period_end=_at(end), value=value, unit="h", n=10,
        excluded=0, target="≤ 24", target_low=None, target_high=24.0, direction="down",
        status=status, baseline=None, trend="none", delta=None, sources=("servicenow",))


MONTHS = [
    _result("2026-10", "month", "2026-10-01", "2026-11-01", "missed"),
    _result("2026-11", "month", "2026-11-01", "2026-12-01", "met"),
    _result("2026-12", "month", "2026-12-01", "2027-01-01", "missed"),
]
WEEKS = [  # ISO weeks 2026-W48 (Mon 23 Nov) and 2026-W49 (Mon 30 Nov)
    _result("2026-W48", "week", "2026-11-23", "2026-11-30", "at_risk"),
    _result("2026-W49", "week", "2026-11-30", "2026-12-07", "met"),
]
SPRINTS = [  # sprint-12 closed on 1 Dec at 10:00; sprint-13 still running
    _result("sprint-11", "sprint", "2026-11-03", "2026-11-17T10:00:00", "met"),
    _result("sprint-12", "sprint", "2026-11-17T10:00:00", "2026-12-01T10:00:00", "missed"),
    _result("sprint-13", "sprint", "2026-12-01T10:00:00", "2026-12-15T10:00:00", "met"),
]

CASES = [
    # (series, now, headline period, partial period)
    (MONTHS, "2026-12-01T00:00:00", "2026-11", "2026-12"),  # first instant of December
    (MONTHS, "2026-12-02T00:00:00", "2026-11", "2026-12"),  # mid-period
    (MONTHS, "2026-11-30T23:59:59", "2026-10", "2026-11"),  # last second of November
    (MONTHS[:2], "2026-12-02T00:00:00", "2026-11", None),    # December has no result yet
    (WEEKS, "2026-11-30T00:00:00", "2026-W48", "2026-W49"),  # Monday 00:00 starts W49
    (WEEKS, "2026-12-02T12:00:00", "2026-W48", "2026-W49"),
    (WEEKS, "2026-11-29T23:59:59", None, "2026-W48"),        # no week complete yet
    (SPRINTS, "2026-12-02T00:00:00", "sprint-12", "sprint-13"),  # sprint-13 active
    (SPRINTS, "2026-12-01T09:59:59", "sprint-11", "sprint-12"),  # sprint-12 not closed
    (SPRINTS[:2], "2026-12-02T00:00:00", "sprint-12", None),  # the engine's usual case
]


def _period(result):
    return None if result is None else result.period


@pytest.mark.parametrize(("series", "now", "headline", "partial"), CASES)
def test_headline_is_the_last_complete_period(series, now, headline, partial):
    got = split_series(list(reversed(series)), _at(now))  # order of input does not matter
    assert (_period(got.headline), _period(got.partial)) == (headline, partial)


def _portfolio():
    service = SimpleNamespace(id="payments", name="Payments", owner=None, products=())
    return SimpleNamespace(services=[service], products=[])


def test_the_partial_period_never_decides_the_status_in_views():
    (view,) = build_views(MONTHS, _portfolio(), now=_at("2026-12-02T00:00:00"))
    (row,) = view.rows
    assert row.headline.period == "2026-11" and row.partial.period == "2026-12"
    assert row.status == "met"  # November's; December to date is "missed"
    assert [r.period for r in view.results] == ["2026-11"]


def test_a_series_without_a_complete_period_shows_only_its_partial():
    (view,) = build_views(WEEKS, _portfolio(), now=_at("2026-11-29T23:59:59"))
    (row,) = view.rows
    assert row.headline is None and row.partial.period == "2026-W48"
    assert row.status == "no_complete_period" and view.results == []


@pytest.mark.parametrize(("computed_at", "expected"), [
    ("2026-11-30T23:59:59", "partial"),
    ("2026-12-01T00:00:00", "complete"),  # the first instant after November
    ("2026-12-02T00:00:00", "complete"),
])
def test_servicenow_record_says_complete_or_partial(computed_at, expected):
    november = MONTHS[1]
    record = build_record(november, run_id="r", computed_at=_at(computed_at))
    assert record["u_period_state"] == expected == period_state(november, _at(computed_at))


def test_jira_scorecard_rows_lead_with_the_closed_sprint():
    (row,) = build_scorecard_rows(SPRINTS, _at("2026-12-02T00:00:00"))
    assert (row.headline.period, row.partial.period) == ("sprint-12", "sprint-13")
    assert row.headline.status == "missed"


def test_the_hand_written_periods_are_the_engines():
    from fiveo_sync.engine.periods import period_of

    for result in (*MONTHS, *WEEKS):
        period = period_of(result.period_kind, result.period_start, "UTC")
        assert (period.id, period.start, period.end) == (
            result.period, result.period_start, result.period_end)
