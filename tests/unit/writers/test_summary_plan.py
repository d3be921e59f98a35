"""The per-element summary records: what each says, and the diff against ServiceNow."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from support.results import FakeView, build_result

from connectors.servicenow.sandbox.schema import load_schemas
from fiveo_sync.ownership import OwnerState
from fiveo_sync.writers.summary import (
    COLUMNS,
    build_summary_key,
    build_summary_plan,
    build_summary_record,
)

NOW = datetime(2025, 4, 2, 6, 0, tzinfo=UTC)
LATER = datetime(2025, 4, 2, 6, 15, tzinfo=UTC)
DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "servicenow"


def _service(status_of_availability="missed"):
    results = [
        build_result(indicator="operate.availability", characteristic="availability",
                     status=status_of_availability),
        build_result(indicator="operate.mttr", characteristic="performance", status="met"),
        build_result(indicator="observe.security_incidents", o="observe",
                     characteristic="security", status="at_risk"),
        build_result(indicator="operate.mttr", characteristic="performance", status="missed",
                     breakdown="priority=1"),  # a breakdown is not the element's headline
        build_result(indicator="observe.velocity", o="observe", characteristic="velocity",
                     status="missed", scope_type="product", scope="payments-web"),
    ]
    view = FakeView("service", "payments", "Payments", "alice.martin", results)
    view.owner_name = "Alice Martin"
    view.ownership = OwnerState("service", "payments", "Payments", "inactive",
                                "alice.martin", "Alice Martin", since="2025-03-01T00:00:00Z")
    return view


ITEMS = [{"scope_type": "service", "scope": "payments"},
         {"scope_type": "service", "scope": "payments"},
         {"scope_type": "product", "scope": "payments"}]


def test_a_record_sums_up_the_elements_own_headline_series():
    record = build_summary_record(_service(), open_items=2, updated_at=NOW)
    assert record["u_key"] == "fiveo-summary:service:payments"
    assert record["u_owner"] == "Alice Martin (alice.martin)"
    assert record["u_owner_state"] == "inactive"
    assert record["u_period"] == "2025-03"
    assert (record["u_operate"], record["u_observe"], record["u_orient"]) == (
        "missed", "at_risk", "")
    assert (record["u_availability"], record["u_performance"], record["u_security"],
            record["u_velocity"]) == ("missed", "met", "at_risk", "")
    assert record["u_missed"] == "1" and record["u_open_improvements"] == "2"
    assert record["u_updated"] == "2025-04-02 06:00:00"
    assert set(record) == set(COLUMNS)


def _held(record, **changes):
    return {**record, "sys_id": "a" * 32, **changes}


def test_plan_creates_once_then_skips_unchanged_and_updates_only_changed_columns():
    view = _service()
    (create,) = build_summary_plan([view], {}, improvements=ITEMS, updated_at=NOW)
    assert create.action == "create" and create.key == build_summary_key("service", "payments")
    # Read back an hour later: ServiceNow gives integers as "2" or "2.0"; u_updated moved.
    held = {create.key: _held(create.fields, u_open_improvements="2.0", u_missed=" 1")}
    (same,) = build_summary_plan([view], held, improvements=ITEMS, updated_at=LATER)
    assert same.action == "skip_unchanged" and same.ref == "a" * 32
    met = _service(status_of_availability="met")
    (update,) = build_summary_plan([met], held, improvements=ITEMS[:1], updated_at=LATER)
    assert update.action == "update"
    assert set(update.changed) == {"u_operate", "u_availability", "u_missed",
                                   "u_open_improvements"}
    assert update.fields["u_updated"] == "2025-04-02 06:15:00"


def test_the_deployed_table_definition_is_what_the_writer_sends_and_the_sandbox_holds():
    with (DEPLOY / "u_fiveo_summary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["column"] for r in rows] == list(COLUMNS)
    sandbox_type = {"String": "string", "Integer": "integer", "Date/Time": "datetime"}
    types = load_schemas()["u_fiveo_summary"].types
    assert {r["column"]: types[r["column"]] for r in rows} == {
        r["column"]: sandbox_type[r["type"]] for r in rows}
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert "u_fiveo_summary.csv" in readme and "writeback.servicenow.summary" in readme
