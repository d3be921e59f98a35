"""Keyset query building and the sandbox's encoded-query parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from connectors.servicenow.query import build_keyset_query, format_sn, parse_sn, sn_to_iso
from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.query import parse_query


def test_first_keyset_page_has_bounds_and_order_only() -> None:
    assert build_keyset_query("sys_updated_on", "2025-01-01 00:00:00", "2025-03-03 11:59:00") == (
        "sys_updated_on>=2025-01-01 00:00:00^sys_updated_on<2025-03-03 11:59:00"
        "^ORDERBYsys_updated_on^ORDERBYsys_id")


def test_next_keyset_page_repeats_shared_filters_in_both_branches() -> None:
    query = build_keyset_query("sys_created_on", "A", "U", ("D", "S"), extra="tablename=incident")
    assert query == (
        "tablename=incident^sys_created_on>=A^sys_created_on<U^sys_created_on>D"
        "^NQtablename=incident^sys_created_on>=A^sys_created_on<U^sys_created_on=D^sys_id>S"
        "^ORDERBYsys_created_on^ORDERBYsys_id")


def test_no_lower_bound_for_reference_streams() -> None:
    assert build_keyset_query("sys_updated_on", None, "U") == (
        "sys_updated_on<U^ORDERBYsys_updated_on^ORDERBYsys_id")


def test_times_are_utc_literals() -> None:
    paris = datetime(2025, 3, 3, 13, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert format_sn(paris) == "2025-03-03 12:00:05"
    assert parse_sn("2025-03-03 12:00:05") == datetime(2025, 3, 3, 12, 0, 5, tzinfo=UTC)
    assert sn_to_iso("2025-03-03 12:00:05") == "2025-03-03T12:00:05Z"


def _db() -> Database:
    db = Database(lambda: datetime(2025, 1, 1, tzinfo=UTC))
    users = db.tables["sys_user"]
    users.insert({"sys_id": "u1", "user_name": "ann", "email": "ann@example.org"})
    incidents = db.tables["incident"]
    for n, (prio, state, caller, reopen) in enumerate(
            [("1", "6", "u1", "0"), ("1", "2", "", "2"), ("3", "7", "u1", "10"),
             ("2", "1", "", "")]):
        incidents.insert({"sys_id": f"s{n}", "number": f"INC{n}", "priority": prio,
                          "state": state, "caller_id": caller, "reopen_count": reopen})
    return db


def _numbers(db: Database, text: str, **kwargs: bool) -> list[str]:
    query = parse_query(text, "incident", db, **kwargs)
    table = db.tables["incident"]
    rows = [r for r in table.rows.values() if query.matches(r)]
    key = query.sort_key()
    if key:
        rows.sort(key=key)
    return [table.value(r, "number") or "" for r in rows]


def test_or_binds_tighter_than_and_and_nq_joins_groups() -> None:
    db = _db()
    assert _numbers(db, "priority=1^state=6^ORstate=7") == ["INC0"]
    assert _numbers(db, "priority=1^state=2^NQpriority=3") == ["INC1", "INC2"]


def test_operators_numbers_and_empties() -> None:
    db = _db()
    assert _numbers(db, "reopen_count>2") == ["INC2"]  # numeric, not string order
    assert _numbers(db, "reopen_countISEMPTY") == ["INC3"]
    assert _numbers(db, "stateIN1,2^ORDERBYDESCnumber") == ["INC3", "INC1"]
    assert _numbers(db, "stateNOT IN1,2^ORDERBYnumber") == ["INC0", "INC2"]
    assert _numbers(db, "numberENDSWITH2") == ["INC2"]
    assert _numbers(db, "caller_id.emailSTARTSWITHann^ORDERBYnumber") == ["INC0", "INC2"]


def test_invalid_terms_are_dropped_or_return_no_rows_when_switched() -> None:
    db = _db()
    assert _numbers(db, "bogus=1^priority=1^ORDERBYnumber") == ["INC0", "INC1"]
    assert _numbers(db, "Priority=1") == ["INC0", "INC1", "INC2", "INC3"]
    assert _numbers(db, "bogus=1^priority=1", invalid_returns_no_rows=True) == []
