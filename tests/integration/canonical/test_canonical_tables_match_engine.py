"""The canonical tables hold exactly the canonical records the normaliser gives, kind by kind.

Each table's rows are read back into the record classes by hand here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical import TABLES, refresh
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.records import (
    Change,
    Incident,
    PointsChange,
    Problem,
    ServiceRecord,
    Sla,
    Sprint,
    SprintChange,
    SprintScope,
    SprintScopeItem,
    StatusChange,
    WorkItem,
)
from fiveo_sync.records_evidence import Outage, SurveyResponse
from fiveo_sync.state import StateStore

NOW = datetime(2025, 4, 3, tzinfo=UTC)


def _engine_data(case):
    """The CanonicalData the normaliser gives for the raw records (what the tables hold)."""
    mappings = load_mappings(case.mappings)
    with StateStore(case.store) as store:
        raw = {(source, stream): list(store.iter_payloads(source, stream))
               for source, stream in store.streams()}
    return normalise(mappings.sources, mappings.portfolio, raw)


def _rows(conn, table, order="raw_key"):
    cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}')  # noqa: S608
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _fields(row, cls, **overrides):
    values = {name: row[name] for name in cls.__slots__ if name in row}
    values.update(overrides)
    return cls(**values)


def _work_items(conn):
    histories = defaultdict(list)
    for table, cls in (("work_item_status_changes", StatusChange),
                       ("work_item_sprint_changes", SprintChange),
                       ("work_item_points_changes", PointsChange)):
        for row in _rows(conn, table, "raw_key, seq"):
            if cls is StatusChange:
                entry = StatusChange(row["changed_at"], row["from_category"],
                                     row["to_category"], row["to_status_name"])
            elif cls is SprintChange:
                entry = SprintChange(row["changed_at"], tuple(row["from_sprints"]),
                                     tuple(row["to_sprints"]))
            else:
                entry = PointsChange(row["changed_at"], row["from_points"], row["to_points"])
            histories[(table, row["raw_key"])].append(entry)
    return [_fields(row, WorkItem, labels=frozenset(row["labels"]),
                    sprints=tuple(row["sprints"]),
                    status_history=tuple(histories[("work_item_status_changes",
                                                    row["raw_key"])]),
                    sprint_history=tuple(histories[("work_item_sprint_changes",
                                                    row["raw_key"])]),
                    points_history=tuple(histories[("work_item_points_changes",
                                                    row["raw_key"])]))
            for row in _rows(conn, "work_items")]


def _scopes(conn):
    items = defaultdict(list)
    for row in _rows(conn, "sprint_scope_items", "sprint, moment, seq"):
        items[(row["sprint"], row["moment"])].append(
            SprintScopeItem(row["key"], row["story_points"], row["status_category"]))
    return [_fields(row, SprintScope, items=tuple(items[(row["sprint"], row["moment"])]))
            for row in _rows(conn, "sprint_scopes", "sprint, moment")]


def _table_records(path):
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            "incidents": [_fields(r, Incident, jira_keys=frozenset(r["jira_keys"]))
                          for r in _rows(conn, "incidents")],
            "changes": [_fields(r, Change, jira_keys=frozenset(r["jira_keys"]))
                        for r in _rows(conn, "changes")],
            "problems": [_fields(r, Problem, jira_keys=frozenset(r["jira_keys"]))
                         for r in _rows(conn, "problems")],
            "slas": [_fields(r, Sla) for r in _rows(conn, "slas")],
            "work_items": _work_items(conn),
            "sprints": [_fields(r, Sprint) for r in _rows(conn, "sprints")],
            "sprint_scopes": _scopes(conn),
            "services": [_fields(r, ServiceRecord) for r in _rows(conn, "services", "id")],
            "outages": [_fields(r, Outage) for r in _rows(conn, "outages")],
            "survey_responses": [_fields(r, SurveyResponse)
                                 for r in _rows(conn, "survey_responses")],
        }


@pytest.mark.parametrize("case_name", ["sandbox_case", "hand_case"])
def test_every_kind_holds_the_records_the_normaliser_gives(case_name, request):
    case = request.getfixturevalue(case_name)
    refresh(case.store, load_mappings(case.mappings))
    tables = _table_records(case.canonical)
    data = _engine_data(case)
    for kind, records in tables.items():
        expected = getattr(data, kind)
        assert Counter(records) == Counter(expected), kind
    assert data.incidents and data.work_items and data.sprint_scopes


def test_sandbox_tables_cover_every_history_and_link(sandbox_case):
    # The comparison above only means something if the data exercise each column.
    refresh(sandbox_case.store, load_mappings(sandbox_case.mappings))
    with duckdb.connect(str(sandbox_case.canonical), read_only=True) as conn:
        counts = {t.name: conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]  # noqa: S608
                  for t in TABLES}
        linked = conn.execute("SELECT count(*) FROM changes WHERE len(jira_keys) > 0"
                              ).fetchone()[0]
    assert all(counts.values()), counts
    assert linked > 0


def test_rows_carry_the_key_of_their_raw_record(sandbox_case):
    refresh(sandbox_case.store, load_mappings(sandbox_case.mappings))
    with StateStore(sandbox_case.store) as store:
        issue_keys = set(store.record_versions("jira", "issue"))
        incident_keys = set(store.record_versions("servicenow", "incident"))
        scope_keys = set(store.record_versions("jira", "sprint_scope"))
        cmdb_keys = set(store.record_versions("servicenow", "cmdb_ci_service"))
    with duckdb.connect(str(sandbox_case.canonical), read_only=True) as conn:
        def query(sql):
            return conn.execute(sql).fetchall()

        items = query("SELECT raw_source, raw_stream, raw_key, key FROM work_items")
        assert {(s, t) for s, t, _, _ in items} == {("jira", "issue")}
        assert {k for _, _, k, _ in items} == issue_keys
        assert all(k.isdigit() and not key.isdigit() for _, _, k, key in items)
        assert {k for (k,) in query("SELECT raw_key FROM incidents")} == incident_keys
        assert query("SELECT count(*) FROM incidents WHERE raw_key <> id") == [(0,)]
        assert {k for (k,) in query("SELECT raw_key FROM sprint_scopes")} == scope_keys
        assert query("SELECT count(*) FROM sprint_scopes "
                     "WHERE raw_key <> sprint || ':' || moment") == [(0,)]
        assert {k for (k,) in query("SELECT raw_key FROM services")} <= cmdb_keys
        orphans = query("SELECT count(*) FROM work_item_status_changes s "
                        "ANTI JOIN work_items w ON s.raw_key = w.raw_key")
        assert orphans == [(0,)]


def test_products_and_service_links_come_from_the_portfolio(hand_case):
    mappings = load_mappings(hand_case.mappings)
    refresh(hand_case.store, mappings)
    with duckdb.connect(str(hand_case.canonical), read_only=True) as conn:
        products = conn.execute("SELECT id, jira_projects, services FROM products "
                                "ORDER BY id").fetchall()
        payments = conn.execute("SELECT products, support_groups, raw_key FROM services "
                                "WHERE id = 'payments'").fetchone()
    assert products == sorted(
        (p.id, list(p.jira_projects),
         [s.id for s in mappings.portfolio.services if p.id in s.products])
        for p in mappings.portfolio.products)
    service = mappings.portfolio.service("payments")
    # No cmdb_ci_service record in the hand-made store: no raw record behind the service.
    assert payments == (list(service.products), list(service.support_groups), None)
