"""The sandbox's sorted scan returns exactly what filter-then-sort returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.servicenow.query import build_keyset_query
from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.sandbox.query import parse_query
from connectors.servicenow.sandbox.scan import SortedScan

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> ServiceNowSandbox:
    return ServiceNowSandbox(seed=3, now=NOW, incidents=600, changes=50, problems=10)


def _naive(sandbox: ServiceNowSandbox, text: str) -> list[str]:
    query = parse_query(text, "incident", sandbox.db)
    rows = [r for r in sandbox.db.tables["incident"].rows.values() if query.matches(r)]
    rows.sort(key=query.sort_key())
    return _ids(sandbox, rows)


def _ids(sandbox: ServiceNowSandbox, rows: list[list[str]]) -> list[str]:
    at = sandbox.db.tables["incident"].schema.index["sys_id"]
    return [r[at] for r in rows]


def _scanned(scan: SortedScan, sandbox: ServiceNowSandbox, text: str,
             wanted: int | None) -> list[str]:
    query = parse_query(text, "incident", sandbox.db)
    order = "^".join(p for p in text.split("^") if p.startswith("ORDERBY"))
    rows, _ = scan.select(sandbox.db.tables["incident"], query, query.sort_key(), order, wanted)
    return _ids(sandbox, rows)


def _middle_cursor(sandbox: ServiceNowSandbox) -> tuple[str, str]:
    rows = sorted(sandbox.table("incident"), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    row = rows[len(rows) // 2]
    return row["sys_updated_on"], row["sys_id"]


@pytest.mark.parametrize("kind", ["keyset", "first_page", "two_branches", "or_without_bound",
                                  "descending"])
def test_sorted_scan_equals_filter_then_sort(sandbox: ServiceNowSandbox, kind: str) -> None:
    stamp, sys_id = _middle_cursor(sandbox)
    text = {
        "keyset": build_keyset_query("sys_updated_on", "2024-06-01 00:00:00",
                                     "2025-03-03 11:00:00", (stamp, sys_id)),
        "first_page": build_keyset_query("sys_updated_on", "2024-06-01 00:00:00",
                                         "2025-03-03 11:00:00"),
        "two_branches": f"sys_updated_on>{stamp}^NQsys_updated_on>=2024-06-01 00:00:00"
                        "^priority=1^ORDERBYsys_updated_on",
        "or_without_bound": f"sys_updated_on>{stamp}^ORpriority=1^ORDERBYsys_updated_on",
        "descending": f"sys_updated_on>{stamp}^ORDERBYDESCsys_updated_on^ORDERBYsys_id",
    }[kind]
    expected = _naive(sandbox, text)
    assert expected, "the case must select rows"
    scan = SortedScan()
    assert _scanned(scan, sandbox, text, None) == expected
    assert _scanned(scan, sandbox, text, 25) == expected[:25]


def test_sorted_scan_sees_writes_made_after_it_cached_an_order(
        sandbox: ServiceNowSandbox) -> None:
    scan = SortedScan()
    stamp, sys_id = _middle_cursor(sandbox)
    text = build_keyset_query("sys_updated_on", None, "2099-01-01 00:00:00", (stamp, sys_id))
    before = _scanned(scan, sandbox, text, None)
    moved = sandbox.table("incident")[0]["sys_id"]
    sandbox.update("incident", moved, short_description="touched")  # now the newest row
    after = _scanned(scan, sandbox, text, None)
    assert after == _naive(sandbox, text)
    assert after[-1] == moved and moved not in before
