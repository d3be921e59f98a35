"""The compute fast paths give exactly what the general code gives (issue 8, compute).

Each fast path (compiled filters, top-level field reads, str readers, memoised sprint sets
and period look-ups, streamed payloads) is checked against the general behaviour it
shortcuts, on the inputs where a careless shortcut would differ.
"""

import weakref
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from fiveo_sync.engine.filters import Filter, compile_filters, matches_all
from fiveo_sync.engine.index import DataIndex
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import (
    UnreadableValue,
    lookup_path,
    read_code,
    read_servicenow_datetime,
    read_servicenow_reference,
    read_text,
)
from fiveo_sync.engine.placement import PeriodCache
from fiveo_sync.engine.sprints import completed_sprints_by_key, sprint_sets
from fiveo_sync.records import (
    CanonicalData,
    Incident,
    Sprint,
    SprintScope,
    SprintScopeItem,
    WorkItem,
)

FILTERS = TypeAdapter(list[Filter])
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _incident(**changes):
    base = dict(id="i1", number="INC1", state="new", priority=2, opened_at=T0,
                resolved_at=None, service="payments", assignment_group="Payments L2",
                caused_by=None, rfc=None, problem=None, reopen_count=0, ci=None,
                category="software", major=False, jira_keys=frozenset())
    base.update(changes)
    return Incident(**base)


RECORDS = [
    _incident(),
    _incident(state="canceled", priority=None, category=None),
    _incident(priority=1, category="", jira_keys=frozenset({"PAY-1", "MAIL-2"})),
    _incident(state="resolved", resolved_at=T0 + timedelta(hours=5), category="  "),
]
PARAMS = {"mixed": ["1", 2, None], "texts": ["software", "network"], "empty": []}
FILTER_TABLE = [
    [{"op": "ne", "field": "state", "value": "canceled"}],
    [{"op": "eq", "field": "priority", "value": "1"}],
    [{"op": "in", "field": "priority", "param": "mixed"}],
    [{"op": "not_in", "field": "priority", "param": "mixed"}],
    [{"op": "in", "field": "category", "param": "texts"}],
    [{"op": "not_in", "field": "category", "param": "texts"}],
    [{"op": "in", "field": "category", "values": ["software", None]}],
    [{"op": "in", "field": "category", "param": "empty"}],
    [{"op": "in", "field": "jira_keys", "values": ["PAY-1"]}],
    [{"op": "exists", "field": "category"}],
    [{"op": "missing", "field": "resolved_at"}],
    [{"op": "gt", "field": "priority", "value": 1}, {"op": "le", "field": "priority",
                                                     "value": "2"}],
    [{"op": "lt", "field": "opened_at", "value": "now"}],
    [{"op": "matches", "field": "state", "pattern": "^re"}],
    [{"op": "any", "filters": [{"op": "eq", "field": "state", "value": "new"},
                               {"op": "not", "filter": {"op": "exists", "field": "priority"}}]}],
    [{"op": "all", "filters": [{"op": "eq", "field": "ghost", "value": None}]}],
    [],
]


@pytest.mark.parametrize("raw", FILTER_TABLE, ids=lambda raw: repr(raw)[:60])
def test_compiled_filters_agree_with_matches_all(raw):
    filters = FILTERS.validate_python(raw)
    index = DataIndex(CanonicalData(incidents=tuple(RECORDS)), T0 + timedelta(days=1))
    compiled = compile_filters(filters, index.get, PARAMS.get, plain_attributes=True)
    expected = [matches_all(filters, r, index.get, PARAMS.get) for r in RECORDS]
    assert [compiled(r) for r in RECORDS] == expected


def test_compiled_in_filter_compares_numbers_written_as_text():
    filters = FILTERS.validate_python([{"op": "in", "field": "priority", "param": "mixed"}])
    keep = compile_filters(filters, lambda r, f: getattr(r, f, None), PARAMS.get, True)
    assert [keep(r) for r in RECORDS] == [True, True, True, True]  # 2, None, 1, 2


def test_top_level_read_still_unwraps_a_display_value_record():
    record = {"display_value": "INC1 (display)", "value": {"number": "INC1"}}
    assert lookup_path(record, "number") == "INC1"
    assert lookup_path({"number": "INC2"}, "number") == "INC2"
    assert lookup_path({"fields": {"status": {"name": "Done"}}}, "fields.status.name") == "Done"


@pytest.mark.parametrize("reader", [read_text, read_servicenow_reference])
def test_text_readers_treat_blank_text_as_empty(reader):
    assert reader("") is None
    assert reader("   ") is None
    assert reader(" a ") == " a "
    assert reader({"value": "x", "display_value": "X"}) == "x"


def test_code_reader_normalises_numbers_in_text():
    assert read_code(" 7 ") == "7"
    assert read_code("3.0") == "3"
    assert read_code("-2.00") == "-2"
    assert read_code(" ") is None
    assert read_code(3.0) == "3"


@pytest.mark.parametrize("text", ["2025-02-30 10:00:00", "2025-13-01 00:00:00",
                                  "2025-01-01 24:00:00",
                                  "\u0662\u0660\u0662\u0665-\u0660\u0661-\u0660\u0662 "
                                  "\u0660\u0663:\u0660\u0664:\u0660\u0665"])
def test_servicenow_datetime_rejects_impossible_or_foreign_digit_dates(text):
    with pytest.raises(UnreadableValue):
        read_servicenow_datetime(text)


def test_servicenow_datetime_reads_utc():
    assert read_servicenow_datetime("2025-02-28 23:59:59") == datetime(2025, 2, 28, 23, 59, 59,
                                                                       tzinfo=UTC)


def test_utc_period_cache_converts_moments_in_other_zones():
    cache = PeriodCache("month", "UTC")
    plus_two = datetime(2025, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert cache.of(plus_two).id == "2025-02"
    assert cache.of(datetime(2025, 3, 1, 1, 0, tzinfo=UTC)).id == "2025-03"


def _item(key, resolution=None, category="done"):
    return WorkItem(key=key, project="PAY", type="Story", is_subtask=False,
                    status_category=category, resolution=resolution, created=T0, labels=frozenset(),
                    epic_key=None, story_points=3.0, sprints=(1,), status_history=(),
                    done_at=None, started_at=None)


def _sprint_data():
    items = (_item("PAY-1"), _item("PAY-2", resolution="Won't Do"))
    scope = tuple(SprintScopeItem(i.key, 3.0, "done") for i in items)
    return CanonicalData(
        work_items=items,
        sprints=(Sprint(1, 10, "closed", T0, T0 + timedelta(days=14), None),),
        sprint_scopes=(SprintScope(1, "start", T0, "snapshot", scope),
                       SprintScope(1, "close", T0 + timedelta(days=14), "sprint_report", scope)))


def test_sprint_sets_are_remembered_per_parameters_not_shared_across_them():
    index = DataIndex(_sprint_data(), T0 + timedelta(days=20))
    sprint = index.data.sprints[0]
    keep_all = {"discarded_resolutions": []}
    drop = {"discarded_resolutions": ["Won't Do"]}
    assert sprint_sets(sprint, index, keep_all).completed == {"PAY-1", "PAY-2"}
    assert sprint_sets(sprint, index, drop).completed == {"PAY-1"}
    assert sprint_sets(sprint, index, keep_all) is sprint_sets(sprint, index, keep_all)
    assert completed_sprints_by_key(index, drop) == {"PAY-1": {1}}
    assert completed_sprints_by_key(index, keep_all) == {"PAY-1": {1}, "PAY-2": {1}}


class _Payload(dict):
    """A dict that can be watched with a weak reference."""


def test_record_payloads_are_normalised_as_they_stream_not_held_all_at_once():
    from fiveo_sync.engine.loader import load_mappings

    mappings = load_mappings(Path(__file__).resolve().parents[3] / "mappings")
    alive: list[weakref.ref] = []
    most_alive = 0

    def incidents():
        nonlocal most_alive
        for i in range(200):
            # No gc.collect() here: payloads hold no cycles, so reference counting frees a
            # dropped one at once (stricter than a collection, and a full collection per
            # item costs seconds once the test process holds a large heap).
            most_alive = max(most_alive, sum(1 for ref in alive if ref() is not None))
            payload = _Payload(sys_id=f"{i:032x}", number=f"INC{i:07d}", state="1",
                               opened_at="2025-03-01 10:00:00", business_service="Payments")
            alive.append(weakref.ref(payload))
            yield payload

    data = normalise(mappings.sources, mappings.portfolio,
                     {("servicenow", "incident"): incidents()})
    assert len(data.incidents) == 200
    assert most_alive <= 2  # one in hand, perhaps one being dropped; never all 200


def test_normalised_incidents_share_repeated_strings():
    from fiveo_sync.engine.loader import load_mappings

    mappings = load_mappings(Path(__file__).resolve().parents[3] / "mappings")
    payloads = [{"sys_id": f"{i:032x}", "number": f"INC{i}", "state": "1",
                 "category": "".join(["soft", "ware"])} for i in range(3)]
    data = normalise(mappings.sources, mappings.portfolio,
                     {("servicenow", "incident"): payloads})
    assert [i.category for i in data.incidents] == ["software"] * 3
    assert data.incidents[0].category is data.incidents[2].category


def test_store_payloads_are_the_records_payloads_in_key_order(tmp_path):
    from connectors.base import Page, RawRecord
    from fiveo_sync.state import StateStore

    with StateStore(tmp_path / "state.sqlite") as store:
        store.save_page(Page("servicenow", "incident", [
            RawRecord("b", "2025-01-01T00:00:00Z", {"sys_id": "b", "n": [1, {"x": None}]}),
            RawRecord("a", "2025-01-01T00:00:00Z", {"sys_id": "a", "é": "ü"})], [], None))
        assert list(store.iter_payloads("servicenow", "incident")) == \
            [r.payload for r in store.iter_records("servicenow", "incident")]
        assert [p["sys_id"] for p in store.iter_payloads("servicenow", "incident")] == ["a", "b"]


def test_slas_share_their_incidents_id_and_times_but_keep_their_own():
    from fiveo_sync.engine.loader import load_mappings

    mappings = load_mappings(Path(__file__).resolve().parents[3] / "mappings")
    incident = {"sys_id": "".join(["a"] * 32), "number": "INC1", "state": "6",
                "opened_at": "2025-03-01 10:00:00", "resolved_at": "2025-03-01 12:00:00"}
    slas = [{"sys_id": "s1", "task": "".join(["a"] * 32), "stage": "completed",
             "start_time": "2025-03-01 10:00:00", "end_time": "2025-03-01 12:00:00"},
            {"sys_id": "s2", "task": "".join(["a"] * 32), "stage": "completed",
             "start_time": "2025-03-01 10:30:00", "end_time": "2025-03-01 12:00:00"}]
    data = normalise(mappings.sources, mappings.portfolio,
                     {("servicenow", "incident"): [incident], ("servicenow", "task_sla"): slas})
    inc, (first, second) = data.incidents[0], data.slas
    assert first.task is inc.id and first.start_time is inc.opened_at
    assert first.end_time is inc.resolved_at
    assert second.start_time == datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    assert second.start_time is not inc.opened_at


def test_field_plan_reads_a_wrapped_record_like_lookup_path_does():
    from fiveo_sync.engine.loader import load_mappings

    mappings = load_mappings(Path(__file__).resolve().parents[3] / "mappings")
    wrapped = {"display_value": "INC7", "value": {"sys_id": "b" * 32, "number": "INC7",
                                                  "state": "2"}}
    data = normalise(mappings.sources, mappings.portfolio,
                     {("servicenow", "incident"): [wrapped]})
    assert [(i.number, i.state) for i in data.incidents] == [("INC7", "in_progress")]
