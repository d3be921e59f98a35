from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.writers.servicenow import (
    COLUMNS,
    build_record,
    build_servicenow_plan,
    format_number,
)

NOW = datetime(2025, 4, 2, 3, 4, 5, tzinfo=UTC)


def _plan(results, current=None):
    return build_servicenow_plan(results, current or {}, run_id="run-2", computed_at=NOW)


def test_record_has_every_column_as_strings(make_result):
    record = build_record(make_result(), run_id="run-1", computed_at=NOW)
    assert set(record) == set(COLUMNS)
    assert all(isinstance(v, str) for v in record.values())
    assert record["u_key"] == "fiveo:operate.mttr:service:payments:all:2025-03"
    assert record["u_value"] == "12.35"
    assert record["u_delta"] == "-1.66"
    assert record["u_period_start"] == "2025-03-01 00:00:00"
    assert record["u_period_end"] == "2025-04-01 00:00:00"
    assert record["u_computed_at"] == "2025-04-02 03:04:05"
    assert record["u_sample_size"] == "40"
    assert record["u_sources"] == "servicenow"


def test_missing_numbers_are_empty_strings(make_result):
    record = build_record(make_result(value=None, delta=None, status="no_data"),
                          run_id="r", computed_at=NOW)
    assert record["u_value"] == "" and record["u_delta"] == ""


def test_format_number():
    assert format_number(3) == "3"
    assert format_number(2.5) == "2.5"
    assert format_number(1 / 3) == "0.33"
    assert format_number(-0.001) == "0"
    assert format_number(None) == ""


def test_new_results_are_created_and_product_results_left_to_jira(make_result):
    plan = _plan([make_result(), make_result(view="combined", sources=("servicenow", "jira")),
                  make_result(view="product", scope_type="product", scope="payments-web")])
    assert [op.action for op in plan] == ["create"]  # service and combined share the key
    plan = _plan([make_result(),
                  make_result(view="combined", indicator="optimise.flow", scope="mail")])
    assert plan.counts()["create"] == 2


def test_unchanged_records_are_skipped_even_with_other_run_id(make_result):
    result = make_result()
    # Computed earlier, but after March ended: the period was complete then too.
    held = build_record(result, run_id="run-1", computed_at=datetime(2025, 4, 1, 12, tzinfo=UTC))
    held["sys_id"] = "a" * 32
    held["u_value"] = "12.350"  # the platform's own decimal formatting
    plan = _plan([result], {held["u_key"]: held})
    (op,) = plan.ops
    assert op.action == "skip_unchanged" and op.ref == "a" * 32 and not op.writes


def test_changed_records_are_updated_with_changed_columns(make_result):
    held = build_record(make_result(), run_id="run-1", computed_at=NOW) | {"sys_id": "s1"}
    plan = _plan([make_result(value=30.0, status="missed")], {held["u_key"]: held})
    (op,) = plan.ops
    assert op.action == "update" and op.ref == "s1"
    assert op.changed == ("u_value", "u_status")
    assert op.fields["u_run_id"] == "run-2"


def test_vanished_records_are_marked_retired_not_deleted(make_result):
    gone = build_record(make_result(period="2025-01"), run_id="r", computed_at=NOW)
    retired = build_record(make_result(period="2025-02"), run_id="r", computed_at=NOW)
    retired["u_status"] = "retired"
    plan = _plan([make_result()], {gone["u_key"]: gone | {"sys_id": "g"},
                                   retired["u_key"]: retired | {"sys_id": "r"}})
    by_key = {op.key: op for op in plan}
    mark = by_key[gone["u_key"]]
    assert mark.action == "mark" and mark.ref == "g"
    assert mark.fields["u_status"] == "retired"
    assert mark.fields["u_value"] == gone["u_value"]  # rest of the record kept intact
    assert by_key[retired["u_key"]].action == "skip_unchanged"
    assert plan.counts() == {"create": 1, "update": 0, "skip_unchanged": 1, "mark": 1}


def test_hostile_names_are_sent_verbatim_as_data(make_result):
    record = build_record(make_result(scope="<script>alert(1)</script>", name="|*_{x}"),
                          run_id="r", computed_at=NOW)
    assert record["u_scope"] == "<script>alert(1)</script>"
    assert record["u_name"] == "|*_{x}"
