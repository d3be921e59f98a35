"""Evidence tables and the security, supplier and satisfaction columns in DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb

from connectors.base import Page, RawRecord
from fiveo_sync.canonical import refresh
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.state import StateStore

STAMP, ISO = "2025-03-09 08:00:00", "2025-03-09T08:00:00Z"
GROUP, VENDOR, OTHER = "g" * 32, "v" * 32, "o" * 32


def _save(store_path: Path, source: str, stream: str, *rows: dict) -> None:
    with StateStore(store_path) as store:
        store.save_page(Page(source, stream, [
            RawRecord(row.get("sys_id") or row["id"], ISO, row) for row in rows]))


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_evidence_tables_and_new_columns(hand_case) -> None:
    common = {"sys_updated_on": STAMP}
    _save(hand_case.store, "servicenow", "core_company",
          {"sys_id": VENDOR, "name": "Northwind Hosting", "vendor": "true", **common},
          {"sys_id": OTHER, "name": "Example Org", "vendor": "false", **common})
    _save(hand_case.store, "servicenow", "sys_user_group",
          {"sys_id": GROUP, "name": "Hosted L2", "vendors": f"{OTHER},{VENDOR}", **common})
    _save(hand_case.store, "servicenow", "incident",
          {"sys_id": "s" * 32, "number": "INC0090001", "state": "2", "category": "security",
           "assignment_group": GROUP, "opened_at": STAMP, **common})
    _save(hand_case.store, "servicenow", "cmdb_ci_outage",
          {"sys_id": "u" * 32, "number": "OUT0001001", "type": "outage",
           "begin": "2025-03-09 07:00:00", "end": STAMP, "duration": "1970-01-01 01:00:00",
           "task_number": "s" * 32, **common})
    _save(hand_case.store, "jira", "field",
          {"id": "customfield_10037", "name": "Satisfaction",
           "schema": {"custom": "com.atlassian.servicedesk:sd-request-feedback"}})
    _save(hand_case.store, "jira", "issue",
          {"id": "90001", "key": "PAY-901", "fields": {
              "project": {"key": "PAY"}, "issuetype": {"name": "Bug"}, "labels": [],
              "status": {"name": "Done", "statusCategory": {"key": "done"}},
              "security": {"id": "10000", "name": "Security team"},
              "customfield_10037": {"rating": 2}}})
    report = refresh(hand_case.store, load_mappings(hand_case.mappings))
    path = report.path
    assert _query(path, "SELECT security, supplier FROM incidents "
                        "WHERE number = 'INC0090001'") == [(True, "Northwind Hosting")]
    assert _query(path, "SELECT security, satisfaction FROM work_items "
                        "WHERE key = 'PAY-901'") == [(True, 2.0)]
    assert _query(path, 'SELECT name, vendor FROM suppliers ORDER BY name') == [
        ("Example Org", False), ("Northwind Hosting", True)]
    assert _query(path, 'SELECT name, companies, supplier, raw_stream FROM "groups"') == [
        ("Hosted L2", [OTHER, VENDOR], "Northwind Hosting", "sys_user_group")]
    assert _query(path, 'SELECT type, duration_s, task, raw_key FROM outages') == [
        ("outage", 3600.0, "s" * 32, "u" * 32)]
    assert report.rows["survey_responses"] == 0
