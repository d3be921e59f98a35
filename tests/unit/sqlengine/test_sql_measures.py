"""Each record measure compiled to SQL gives the hand-computed value, n and excluded.

Rows and scopes: ``conftest.py``. ``now`` is 2025-03-20 12:34 UTC and restatement_days 0, so
the only period reported without data is the current one (2025-03, or week 2025-W12).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

HOURS = {"kind": "duration", "start": "opened_at", "end": "resolved_at", "unit": "h"}
NOT_CANCELED = [{"op": "ne", "field": "state", "value": "canceled"}]
BY_RESOLVED = {"kind": "month", "timestamp": "resolved_at"}
EMPTY_MARCH = {("pay", "all", "2025-03"): (None, 0, 0), ("mail", "all", "2025-03"): (None, 0, 0)}


@pytest.mark.parametrize(("measure", "pay", "mail"), [
    # pay: 2 h, 6 h, 1 h; i4 (negative) and i5 (never opened) excluded
    ({"kind": "median", "of": HOURS}, 2.0, 4.0),
    ({"kind": "mean", "of": HOURS}, 3.0, 4.0),
    # type 7: h = 2 × 0.85 = 1.7 → 2 + 0.7 × (6 − 2)
    ({"kind": "percentile", "q": 85, "of": HOURS}, 4.8, 4.0),
])
def test_statistics_of_durations(cells, measure, pay, mail):
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED, measure=measure)
    assert got == {("pay", "all", "2025-01"): (pytest.approx(pay), 3, 2),
                   ("mail", "all", "2025-01"): (mail, 1, 0), **EMPTY_MARCH}


def test_breakdown_per_value_seen(cells):
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "median", "of": HOURS}, breakdown={"field": "priority"})
    assert got == {("pay", "all", "2025-01"): (2.0, 3, 2),
                   ("pay", "priority=1", "2025-01"): (1.5, 2, 0),
                   ("pay", "priority=2", "2025-01"): (6.0, 1, 1),
                   ("pay", "priority=3", "2025-01"): (None, 0, 1),
                   ("mail", "all", "2025-01"): (4.0, 1, 0),
                   ("mail", "priority=2", "2025-01"): (4.0, 1, 0), **EMPTY_MARCH}


def test_breakdown_with_configured_values_reports_them_even_when_empty(cells):
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "median", "of": HOURS},
                breakdown={"field": "priority", "values": [1, "9"]})
    empty = (None, 0, 0)
    assert got == {("pay", "all", "2025-01"): (2.0, 3, 2),
                   ("pay", "priority=1", "2025-01"): (1.5, 2, 0),
                   ("pay", "priority=9", "2025-01"): empty,
                   ("mail", "all", "2025-01"): (4.0, 1, 0),
                   ("mail", "priority=1", "2025-01"): empty,
                   ("mail", "priority=9", "2025-01"): empty,
                   **{(s, b, "2025-03"): empty for s in ("pay", "mail")
                      for b in ("all", "priority=1", "priority=9")}}


def test_count_places_by_timestamp_and_drops_empty_ones(cells):
    got = cells(source="incident", filters=NOT_CANCELED,
                period={"kind": "month", "timestamp": "opened_at"}, measure={"kind": "count"})
    assert got == {("pay", "all", "2025-01"): (4.0, 4, 0), ("pay", "all", "2025-03"): (3.0, 3, 0),
                   ("mail", "all", "2025-01"): (1.0, 1, 0), ("mail", "all", "2025-03"): (0.0, 0, 0)}


def test_sum_counts_empty_values_as_zero(cells):
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "sum", "field": "reopen_count"})
    assert got == {("pay", "all", "2025-01"): (3.0, 5, 0), ("mail", "all", "2025-01"): (0.0, 1, 0),
                   ("pay", "all", "2025-03"): (0.0, 0, 0), ("mail", "all", "2025-03"): (0.0, 0, 0)}


def test_ratio_is_a_share_of_the_denominator(cells):
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "ratio",
                         "numerator": [{"op": "gt", "field": "reopen_count", "value": 0}]})
    assert got == {("pay", "all", "2025-01"): (40.0, 5, 0), ("mail", "all", "2025-01"): (0.0, 1, 0),
                   **EMPTY_MARCH}


@pytest.mark.parametrize(("zone", "expected"), [
    # c4 ends Sunday 5 January 23:30 UTC: week 1 in UTC, Monday 6 January (week 2) in Berlin
    ("UTC", {("pay", "all", "2025-W01"): (1.0, 1, 0), ("pay", "all", "2025-W02"): (3.0, 3, 0)}),
    ("Europe/Berlin", {("pay", "all", "2025-W02"): (3.0, 4, 0)}),
])
def test_distinct_local_dates_per_iso_week(cells, zone, expected):
    got = cells(source="change", params={"reporting_timezone": zone},
                period={"kind": "week", "timestamp": "work_end"},
                measure={"kind": "distinct_count", "field": "work_end", "as_date": True})
    assert got == {**expected, ("pay", "all", "2025-W12"): (0.0, 0, 0),
                   ("mail", "all", "2025-W12"): (0.0, 0, 0)}


CAUSED = {"source": "incident", "field": "caused_by", "key": "id", "filters": NOT_CANCELED}


def test_related_share_searches_related_records_in_every_scope(cells):
    # c1 caused i1; c2 only the canceled i6; c3 caused i8 of the mail service
    got = cells(source="change", filters=[{"op": "eq", "field": "state", "value": "closed"}],
                period={"kind": "month", "timestamp": "closed_at"},
                measure={"kind": "related_share", "related": [CAUSED]})
    assert got == {("pay", "all", "2025-01"): (pytest.approx(200 / 3), 3, 0),
                   ("pay", "all", "2025-02"): (0.0, 1, 0), **EMPTY_MARCH}


@pytest.mark.parametrize(("numerator", "share"), [([], 50.0), ([{"op": "eq", "field": "type",
                                                                  "value": "Story"}], 0.0)])
def test_related_share_through_a_set_field(cells, numerator, share):
    got = cells(source="work_item", view="product",
                period={"kind": "month", "timestamp": "created"},
                measure={"kind": "related_share", "numerator": numerator, "related": [
                    {"source": "incident", "field": "jira_keys", "key": "key"}]})
    assert got == {("pay-app", "all", "2025-01"): (share, 2, 0),
                   ("pay-app", "all", "2025-03"): (None, 0, 0)}


def test_linked_duration_pairs_placed_by_the_related_record(cells):
    # c1 → i1: 6 Jan 23:30 to 10 Jan 10:00 = 82.5 h; c3 → i8: 8 Jan 08:00 to 15 Jan 10:00 = 170 h
    got = cells(source="change", filters=[{"op": "exists", "field": "work_end"}],
                period=BY_RESOLVED,
                measure={"kind": "linked_duration", "related": CAUSED, "start": "work_end",
                         "end": "resolved_at", "unit": "h", "stat": "median"})
    assert got == {("pay", "all", "2025-01"): (126.25, 2, 0), **EMPTY_MARCH}


def test_sla_scoped_and_broken_down_through_its_incident(cells):
    got = cells(source="sla", filters=[{"op": "eq", "field": "kind", "value": "response"}],
                period={"kind": "month", "timestamp": "end_time"},
                measure={"kind": "median", "of": {"kind": "duration", "start": "start_time",
                                                  "end": "end_time", "unit": "min"}},
                breakdown={"field": "task.priority"})
    assert got == {("pay", "all", "2025-01"): (20.0, 2, 0),
                   ("pay", "priority=1", "2025-01"): (30.0, 1, 0),
                   ("pay", "priority=2", "2025-01"): (10.0, 1, 0),
                   ("mail", "all", "2025-01"): (20.0, 1, 0),
                   ("mail", "priority=2", "2025-01"): (20.0, 1, 0), **EMPTY_MARCH}


def test_scope_by_support_groups(cells):
    # pay's group grp-a handled i1 (pay), i8 (mail) and i9 (no service); mail has no groups
    got = cells(source="incident", scope_by="support_groups", filters=NOT_CANCELED,
                period={"kind": "month", "timestamp": "opened_at"},
                measure={"kind": "ratio", "numerator": [{"op": "exists", "field": "service"}]})
    assert got == {("pay", "all", "2025-01"): (pytest.approx(200 / 3), 3, 0),
                   ("mail", "all", "2025-01"): (100.0, 1, 0), **EMPTY_MARCH}


def test_snapshot_ages_are_measured_at_the_start_of_the_hour(cells):
    # now 12:34 → 12:00: i10 is 2 days old, i11 1.5 days
    got = cells(source="incident", snapshot=True, period={"kind": "month"},
                filters=[{"op": "in", "field": "state", "values": ["in_progress"]}],
                measure={"kind": "mean", "of": {"kind": "duration", "start": "opened_at",
                                                "end": "now", "unit": "d"}})
    assert got == {("pay", "all", "2025-03"): (1.75, 2, 0),
                   ("mail", "all", "2025-03"): (None, 0, 0)}


def test_final_periods_the_history_holds_are_not_computed_again(cells):
    # pay's January is final and held: only mail's January (not held) and the window remain,
    # breakdown cells included; the current period is computed although it is held too.
    got = cells(source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "median", "of": HOURS}, breakdown={"field": "priority"},
                done=[("pay", "2025-01"), ("pay", "2025-03"), ("mail", "2024-12")])
    assert got == {("mail", "all", "2025-01"): (4.0, 1, 0),
                   ("mail", "priority=2", "2025-01"): (4.0, 1, 0), **EMPTY_MARCH}


def test_a_held_period_inside_the_restatement_window_is_computed_again(cells):
    # now 2025-02-10 with a 20-day window: January is still open for restatement
    # (pay: i1–i5 resolved in January; mail: i8).
    got = cells(now=datetime(2025, 2, 10, tzinfo=UTC), params={"restatement_days": 20},
                source="incident", filters=NOT_CANCELED, period=BY_RESOLVED,
                measure={"kind": "count"}, done=[("pay", "2025-01"), ("mail", "2025-01")])
    assert got[("pay", "all", "2025-01")][1] == 5
    assert got[("mail", "all", "2025-01")][1] == 1
