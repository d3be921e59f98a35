"""A run with history reads only the rows placed since the bound the last computation allows.

Incidents of service ``pay`` counted per month of ``resolved_at``; now is 2025-03-20 and the
restatement window only the current month. The history holds pay's January and February.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical.schema import PREVIOUS, TABLES
from fiveo_sync.engine.scope import Scope
from fiveo_sync.engine.spec import IndicatorSpec, merge_parameters
from fiveo_sync.sqlengine import (
    SinceLast,
    compile_indicator,
    run_compiled,
    since_bound,
    touched_scopes,
)

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
THEN = datetime(2025, 3, 19, 12, 0, tzinfo=UTC)
PAY = Scope("service", "service", "pay", "pay", frozenset(), frozenset(), frozenset())
DONE = [("pay", "2025-01"), ("pay", "2025-02")]
COUNT = {"id": "observe.resolved", "name": "resolved", "view": "service", "unit": "count",
         "direction": "up", "target": {"kind": "min", "value": 0}, "source": "incident",
         "period": {"kind": "month", "timestamp": "resolved_at"}, "measure": {"kind": "count"}}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def conn():
    conn = duckdb.connect()
    for table in (*TABLES, *PREVIOUS.values()):
        conn.execute(table.ddl())
    rows = [("k-a", "a", "2025-01-10"), ("k-b", "b", "2025-02-05"), ("k-c", "c", "2024-11-03"),
            ("k-d", "d", "2025-03-01")]
    for key, ident, resolved in rows:
        values = {"raw_source": "servicenow", "raw_stream": "incident", "raw_key": key,
                  "id": ident, "state": "closed", "service": "pay",
                  "resolved_at": _t(resolved)}
        conn.execute(f"INSERT INTO incidents ({', '.join(values)}) VALUES "  # noqa: S608
                     f"({', '.join('?' * len(values))})", list(values.values()))
    yield conn
    conn.close()


def _compiled(**over):
    spec = IndicatorSpec.model_validate({**COUNT, **over})
    params = {**merge_parameters(), "restatement_days": 0}
    return compile_indicator(spec, params, [PAY], NOW, DONE)


def _periods(conn, compiled, since):
    return {c.period: c.n for c in run_compiled(conn, compiled, since)}


def _last(rows, indicators=("observe.resolved",)):
    return SinceLast(THEN, rows, frozenset(indicators))


def test_nothing_changed_reads_only_the_window(conn):
    compiled = _compiled()
    since = since_bound(conn, compiled, _last({}))
    assert since == _t("2025-03-01")
    # November 2024 lies before the bound: it was computed when its row was placed.
    assert _periods(conn, compiled, since) == {"2025-03": 1}
    assert _periods(conn, compiled, None) == {"2024-11": 1, "2025-03": 1}


def test_a_changed_row_with_an_old_stamp_is_read(conn):
    # k-c was just moved to November 2024, a period the history does not hold.
    compiled = _compiled()
    since = since_bound(conn, compiled, _last({"incidents": frozenset({"k-c", "k-gone"})}))
    assert since == _t("2024-11-01")
    assert _periods(conn, compiled, since) == {"2024-11": 1, "2025-03": 1}


def test_a_changed_row_in_a_held_final_period_is_not_read_again(conn):
    # k-a (January, held) was edited: its cell stays as computed, nothing older is read.
    compiled = _compiled()
    assert since_bound(conn, compiled, _last({"incidents": frozenset({"k-a"})})) == \
        _t("2025-03-01")


def test_the_last_clock_bounds_rows_that_were_still_in_the_future(conn):
    compiled = _compiled()
    earlier = SinceLast(_t("2024-10-01"), {}, frozenset({"observe.resolved"}))
    assert since_bound(conn, compiled, earlier) == _t("2024-10-01")


@pytest.mark.parametrize(("rows", "indicators"), [
    ({"incidents": None}, ("observe.resolved",)),   # the table was derived again whole
    ({}, ()),                                       # the indicator is new or was edited
])
def test_every_row_is_read_when_the_change_is_unknown(conn, rows, indicators):
    assert since_bound(conn, _compiled(), _last(rows, indicators)) is None
    assert since_bound(conn, _compiled(), None) is None


def test_a_changed_incident_bounds_the_slas_it_holds(conn):
    # SLAs placed by their own end time but scoped through their incident's service: an
    # edited incident moves its SLAs (here s-1, ended in December, a period not held).
    for key, task, end in (("s-1", "a", "2024-12-05"), ("s-2", "b", "2024-10-05")):
        conn.execute("INSERT INTO slas (raw_source, raw_stream, raw_key, id, task, end_time) "
                     "VALUES ('servicenow', 'task_sla', ?, ?, ?, ?)", [key, key, task, _t(end)])
    compiled = _compiled(source="sla", filters=[{"op": "eq", "field": "task.state",
                                                 "value": "closed"}],
                         period={"kind": "month", "timestamp": "end_time"})
    assert compiled.prefilter.tables == ("slas", "incidents")
    assert since_bound(conn, compiled, _last({"incidents": frozenset({"k-a"})})) == \
        _t("2024-12-01")
    assert since_bound(conn, compiled, _last({"slas": frozenset()})) == _t("2025-03-01")
    assert since_bound(conn, compiled, _last({"incidents": None})) is None  # derived whole


def test_placement_not_by_the_records_own_stamp_has_no_prefilter():
    assert _compiled(snapshot=True).prefilter is None
    # reading now (here an age): kept apart, so no unchanged row can change with the clock
    age = {"kind": "mean", "of": {"kind": "duration", "start": "opened_at", "end": "now",
                                  "unit": "d"}}
    assert _compiled(measure=age).prefilter is None
    assert _compiled().prefilter is not None


# -- reusing the last computation's results ------------------------------------------------


def reusable(conn, compiled, last) -> bool:
    """Whether none of the indicator's scopes is touched: its last results are reused."""
    return touched_scopes(conn, compiled, last) == frozenset()


def test_nothing_it_reads_changed_so_the_last_results_are_reusable(conn):
    assert reusable(conn, _compiled(), _last({"changes": frozenset({"c-1"})}))


@pytest.mark.parametrize(("rows", "indicators"), [
    ({"incidents": frozenset({"k-a"})}, ("observe.resolved",)),   # a row it reads changed
    ({"incidents": None}, ("observe.resolved",)),                 # derived again whole
    ({}, ()),                                                     # new or edited
])
def test_a_change_to_what_it_reads_is_computed_again(conn, rows, indicators):
    assert not reusable(conn, _compiled(), _last(rows, indicators))
    assert not reusable(conn, _compiled(), None)


def test_a_row_stamped_after_the_last_clock_is_computed_again(conn):
    # Resolved on the 19th at 18:00: in the future at the last clock, placed now.
    conn.execute("INSERT INTO incidents (raw_source, raw_stream, raw_key, id, state, service, "
                 "resolved_at) VALUES ('servicenow', 'incident', 'k-e', 'e', 'closed', 'pay', "
                 "?)", [datetime(2025, 3, 19, 18, tzinfo=UTC)])
    assert not reusable(conn, _compiled(), _last({}))
    # Still in the future now: it changes nothing yet.
    conn.execute("UPDATE incidents SET resolved_at = ? WHERE raw_key = 'k-e'",
                 [datetime(2025, 3, 21, tzinfo=UTC)])
    assert reusable(conn, _compiled(), _last({}))


def test_a_change_to_a_joined_table_is_computed_again(conn):
    compiled = _compiled(source="sla", filters=[{"op": "eq", "field": "task.state",
                                                 "value": "closed"}],
                         period={"kind": "month", "timestamp": "end_time"})
    assert {"slas", "incidents"} <= compiled.reads
    assert not reusable(conn, compiled, _last({"incidents": frozenset({"k-a"})}))
    assert reusable(conn, compiled, _last({"problems": frozenset({"p-1"})}))


def test_queries_that_read_the_clock_are_never_reused(conn):
    age = {"kind": "mean", "of": {"kind": "duration", "start": "opened_at", "end": "now",
                                  "unit": "d"}}
    assert not reusable(conn, _compiled(measure=age), _last({}))
    assert not reusable(conn, _compiled(measure=age, snapshot=True), _last({}))
    # A snapshot count: the clock only picks its period (compared by the caller).
    assert reusable(conn, _compiled(snapshot=True), _last({}))
    assert not reusable(conn, _compiled(snapshot=True), _last({"incidents": frozenset()}))


# -- computing only the scopes a change reached --------------------------------------------

MAIL = Scope("service", "service", "mail", "mail", frozenset(), frozenset(), frozenset())


def _two_scopes(**over):
    spec = IndicatorSpec.model_validate({**COUNT, **over})
    params = {**merge_parameters(), "restatement_days": 0}
    return compile_indicator(spec, params, [PAY, MAIL], NOW, DONE)


def _replaced(conn, key, **values):
    """An incremental refresh of generation 1: keep the row's version, then change it."""
    conn.execute("INSERT INTO canonical_previous_incidents SELECT 1, * FROM incidents "
                 "WHERE raw_key = ?", [key])
    for column, value in values.items():
        conn.execute(f"UPDATE incidents SET {column} = ? WHERE raw_key = ?",  # noqa: S608
                     [value, key])


def _since_generation_0(rows):
    return SinceLast(THEN, rows, frozenset({"observe.resolved"}), 0)


def test_a_row_moved_to_another_scope_touches_where_it_was_and_where_it_is(conn):
    _replaced(conn, "k-d", service="mail")  # resolved in March, the window
    touched = touched_scopes(conn, _two_scopes(), _since_generation_0(
        {"incidents": frozenset({"k-d"})}))
    assert touched == {"pay", "mail"}


def test_a_deleted_row_touches_the_scope_it_was_in(conn):
    _replaced(conn, "k-d")
    conn.execute("DELETE FROM incidents WHERE raw_key = 'k-d'")
    assert touched_scopes(conn, _two_scopes(), _since_generation_0(
        {"incidents": frozenset({"k-d"})})) == {"pay"}


def test_a_change_in_a_held_final_period_touches_no_scope(conn):
    # k-a resolved in January (held, final) and still is: nothing to compute again.
    _replaced(conn, "k-a", state="resolved")
    assert touched_scopes(conn, _two_scopes(), _since_generation_0(
        {"incidents": frozenset({"k-a"})})) == frozenset()


def test_a_changed_incident_touches_the_scopes_of_the_repeats_it_may_decide(conn):
    # mail's k-m repeats pay's k-p (same problem, opened five days before). k-p's problem
    # is edited: k-m may no longer be a repeat, so mail is touched as well as pay.
    for key, service, opened in (("k-p", "pay", "2025-03-05"), ("k-m", "mail", "2025-03-10"),
                                 ("k-x", "mail", "2025-02-01")):  # opened before: not one
        conn.execute("INSERT INTO incidents (raw_source, raw_stream, raw_key, id, state, "
                     "service, opened_at, problem) VALUES ('servicenow', 'incident', ?, ?, "
                     "'closed', ?, ?, 'PRB1')", [key, key, service, _t(opened)])
    _replaced(conn, "k-p", problem="PRB2")
    repeat = _two_scopes(measure={"kind": "repeat_share"},
                         period={"kind": "month", "timestamp": "opened_at"})
    last = _since_generation_0({"incidents": frozenset({"k-p"})})
    assert touched_scopes(conn, repeat, last) == {"pay", "mail"}
    # Without the repeat, only where k-p is and was.
    assert touched_scopes(conn, _two_scopes(period={"kind": "month",
                                                    "timestamp": "opened_at"}), last) == {"pay"}


def test_a_unit_crossing_the_clock_touches_its_scope(conn):
    conn.execute("INSERT INTO incidents (raw_source, raw_stream, raw_key, id, state, service, "
                 "resolved_at) VALUES ('servicenow', 'incident', 'k-e', 'e', 'closed', 'mail', "
                 "?)", [datetime(2025, 3, 19, 18, tzinfo=UTC)])
    assert touched_scopes(conn, _two_scopes(), _since_generation_0({})) == {"mail"}


def test_what_a_change_reaches_beyond_its_scopes_touches_every_scope(conn):
    _replaced(conn, "k-d", service="mail")
    last = _since_generation_0({"incidents": frozenset({"k-d"})})
    # Versions older than the kept ones: where the row was is unknown.
    assert touched_scopes(conn, _two_scopes(), SinceLast(
        THEN, last.rows, last.indicators)) is None
    # The table read for other records' outcomes changed (here the incidents themselves,
    # as related records): any incident's outcome may have moved.
    share = {"kind": "related_share",
             "related": [{"source": "incident", "field": "number", "key": "problem"}]}
    assert touched_scopes(conn, _two_scopes(measure=share), last) is None
    assert touched_scopes(conn, _two_scopes(measure=share), _since_generation_0(
        {"problems": frozenset({"p-1"})})) == frozenset()  # a table it does not read


def test_an_sla_crossing_the_clock_touches_its_incidents_scope(conn):
    # The crossing check reads only the SLAs stamped in the range and their incidents.
    compiled = _compiled(source="sla", filters=[{"op": "eq", "field": "task.state",
                                                 "value": "closed"}],
                         period={"kind": "month", "timestamp": "end_time"})
    last = SinceLast(THEN, {}, frozenset({"observe.resolved"}), 0)
    assert touched_scopes(conn, compiled, last) == frozenset()
    for key, end in (("s-1", datetime(2025, 3, 19, 18, tzinfo=UTC)),   # crossed
                     ("s-2", datetime(2025, 3, 21, tzinfo=UTC))):      # still ahead
        conn.execute("INSERT INTO slas (raw_source, raw_stream, raw_key, id, task, end_time) "
                     "VALUES ('servicenow', 'task_sla', ?, ?, 'd', ?)", [key, key, end])
    assert touched_scopes(conn, compiled, last) == {"pay"}
    conn.execute("DELETE FROM slas WHERE raw_key = 's-1'")
    assert touched_scopes(conn, compiled, last) == frozenset()
