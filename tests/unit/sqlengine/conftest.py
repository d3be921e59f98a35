"""A small hand-made set of canonical tables and a helper that runs one spec over them.

Service scope ``pay`` (support group grp-a) and ``mail``; product scope ``pay-app``
(project PAY). The answers in the tests follow from these rows by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.engine.scope import Scope
from fiveo_sync.engine.spec import IndicatorSpec, merge_parameters
from fiveo_sync.sqlengine import compile_indicator, run_compiled

NOW = datetime(2025, 3, 20, 12, 34, tzinfo=UTC)
COLUMNS = {t.name: t.column_names for t in TABLES}


def t(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _incident(id, number, state="closed", priority=1, opened=None, resolved=None,
              service="pay", group=None, caused_by=None, reopen=0, keys=(), major=False):
    return {"id": id, "number": number, "state": state, "priority": priority,
            "opened_at": t(opened), "resolved_at": t(resolved), "service": service,
            "assignment_group": group, "caused_by": caused_by, "reopen_count": reopen,
            "major": major, "jira_keys": list(keys)}


INCIDENTS = [
    _incident("i1", "INC0001", priority=1, opened="2025-01-10 08:00", resolved="2025-01-10 10:00",
              group="grp-a", caused_by="c1", reopen=1, keys=["PAY-1"], major=True),
    _incident("i2", "INC0002", priority=2, opened="2025-01-11 00:00", resolved="2025-01-11 06:00",
              group="  ", reopen=2),
    _incident("i3", "INC0003", priority=1, opened="2025-01-12 00:00", resolved="2025-01-12 01:00",
              reopen=None),
    # resolved before it was opened: a negative duration, excluded
    _incident("i4", "INC0004", priority=3, opened="2025-01-20 00:00", resolved="2025-01-19 00:00"),
    # never opened: no duration, and no opened_at to place it by
    _incident("i5", "INC0005", priority=2, resolved="2025-01-25 00:00"),
    _incident("i6", "INC0006", state="canceled", opened="2025-01-13 00:00",
              resolved="2025-01-13 02:00", caused_by="c2"),
    # resolved after now: not placed
    _incident("i7", "INC0007", opened="2025-03-01 00:00", resolved="2025-03-25 00:00"),
    _incident("i8", "INC0008", priority=2, opened="2025-01-15 06:00", resolved="2025-01-15 10:00",
              service="mail", group="grp-a", caused_by="c3"),
    _incident("i9", "INC0009", opened="2025-01-16 00:00", service=None, group="grp-a"),
    _incident("i10", "INC0010", state="in_progress", opened="2025-03-18 12:00"),
    _incident("i11", "INC0011", state="in_progress", opened="2025-03-19 00:00"),
]
CHANGES = [
    {"id": "c1", "state": "closed", "type": "normal", "service": "pay",
     "work_end": t("2025-01-06 23:30"), "closed_at": t("2025-01-07 09:00"), "jira_keys": []},
    {"id": "c2", "state": "closed", "type": "standard", "service": "pay",
     "work_end": t("2025-01-07 10:00"), "closed_at": t("2025-01-08 09:00"), "jira_keys": []},
    {"id": "c3", "state": "closed", "type": "normal", "service": "pay",
     "work_end": t("2025-01-08 08:00"), "closed_at": t("2025-01-09 09:00"), "jira_keys": []},
    {"id": "c4", "state": "closed", "type": "emergency", "service": "pay",
     "work_end": t("2025-01-05 23:30"), "closed_at": t("2025-02-02 09:00"), "jira_keys": []},
]
SLAS = [
    {"id": "s1", "task": "i1", "kind": "response", "stage": "completed",
     "start_time": t("2025-01-10 08:00"), "end_time": t("2025-01-10 08:30")},
    {"id": "s2", "task": "i2", "kind": "response", "stage": "completed",
     "start_time": t("2025-01-11 00:00"), "end_time": t("2025-01-11 00:10")},
    {"id": "s3", "task": "i8", "kind": "response", "stage": "completed",
     "start_time": t("2025-01-15 06:00"), "end_time": t("2025-01-15 06:20")},
    {"id": "s4", "task": "zz", "kind": "response", "stage": "completed",
     "start_time": t("2025-01-15 06:00"), "end_time": t("2025-01-15 07:00")},
]
WORK_ITEMS = [
    {"key": "PAY-1", "project": "PAY", "type": "Bug", "is_subtask": False,
     "created": t("2025-01-05 10:00"), "labels": ["tech-debt"], "story_points": 3.0,
     "sprints": [5]},
    {"key": "PAY-2", "project": "PAY", "type": "Story", "is_subtask": False,
     "created": t("2025-01-06 10:00"), "labels": [], "story_points": None, "sprints": []},
    {"key": "OPS-1", "project": "OPS", "type": "Bug", "is_subtask": False,
     "created": t("2025-01-06 10:00"), "labels": ["tech-debt"], "story_points": 8.0,
     "sprints": []},
]

SCOPES = {
    "service": [Scope("service", "service", "pay", "pay", frozenset({"grp-a"}), frozenset(),
                      frozenset()),
                Scope("service", "service", "mail", "mail", frozenset(), frozenset(),
                      frozenset())],
    "product": [Scope("product", "product", "pay-app", None, frozenset(), frozenset({"PAY"}),
                      frozenset(), frozenset({"pay-app"}))],
}


def _insert(conn, table, rows):
    names = COLUMNS[table]
    conn.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(names))})',  # noqa: S608
                     [[row.get(name) for name in names] for row in rows])


@pytest.fixture(scope="module")
def tables():
    conn = duckdb.connect()
    for table in TABLES:
        conn.execute(table.ddl())
    for table, rows in (("incidents", INCIDENTS), ("changes", CHANGES), ("slas", SLAS),
                        ("work_items", WORK_ITEMS)):
        _insert(conn, table, rows)
    yield conn
    conn.close()


def build_spec(**fields) -> IndicatorSpec:
    base = {"id": "observe.hand_made", "name": "hand made", "view": "service",
            "unit": "count", "direction": "up", "target": {"kind": "min", "value": 0}}
    return IndicatorSpec.model_validate({**base, **fields})


@pytest.fixture
def cells(tables):
    """``cells(**spec_fields)`` → {(scope, breakdown, period): (value, n, excluded)}."""

    def run(now=NOW, params=None, done=(), **fields):
        spec = build_spec(**fields)
        merged = {**merge_parameters(), "restatement_days": 0, **(params or {})}
        compiled = compile_indicator(spec, merged, SCOPES[spec.view], now, done)
        return {(c.scope, c.breakdown, c.period): (c.value, c.n, c.excluded)
                for c in run_compiled(tables, compiled)}

    return run


@pytest.fixture
def compile_spec():
    """``compile_spec(**spec_fields)`` → the compiled indicator (or NotCompiled)."""

    def run(now=NOW, **fields):
        spec = build_spec(**fields)
        return compile_indicator(spec, merge_parameters(), SCOPES.get(spec.view, []), now)

    return run
