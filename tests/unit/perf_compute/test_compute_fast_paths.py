"""The normaliser's fast paths give exactly what the general code gives (issue 8, compute).

Each fast path (top-level field reads, str readers, streamed payloads, shared strings) is
checked against the general behaviour it shortcuts, on the inputs where a careless
shortcut would differ; and sprint sets follow each indicator's own parameters.
"""

import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fiveo_sync.compute import compute_records
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import (
    UnreadableValue,
    lookup_path,
    read_code,
    read_servicenow_datetime,
    read_servicenow_reference,
    read_text,
)
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.spec import BoundIndicator, IndicatorSpec, merge_parameters
from fiveo_sync.records import (
    CanonicalData,
    Sprint,
    SprintScope,
    SprintScopeItem,
    WorkItem,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


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


def test_sprint_sets_follow_each_indicators_parameters_not_a_shared_cache():
    # Two indicators over the same sprint with different discarded resolutions: each
    # counts its own done set (the SQL reads the parameter per query).
    portfolio = PortfolioSpec.model_validate({
        "version": 1, "kind": "portfolio", "services": [],
        "products": [{"id": "pay-web", "jira_projects": ["PAY"], "boards": [10]}]})
    done = IndicatorSpec.model_validate({
        "id": "operate.done_items", "name": "Done", "view": "product", "source": "sprint",
        "period": {"kind": "sprint"},
        "measure": {"kind": "sprint_sum", "of": {"sets": ["D"], "value": "items"}},
        "unit": "items", "direction": "up", "target": {"kind": "min", "value": 1}})
    keep_all = BoundIndicator(spec=done, params={**merge_parameters(),
                                                 "discarded_resolutions": []})
    drop = BoundIndicator(spec=done.model_copy(update={"id": "operate.done_kept"}),
                          params={**merge_parameters(),
                                  "discarded_resolutions": ["Won't Do"]})
    results = compute_records([keep_all, drop], _sprint_data(), portfolio,
                              T0 + timedelta(days=20))
    done_by = {r.indicator: (r.value, r.evidence) for r in results}
    assert done_by["operate.done_items"] == (2.0, {"work_item": ("PAY-1", "PAY-2")})
    assert done_by["operate.done_kept"] == (1.0, {"work_item": ("PAY-1",)})


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
