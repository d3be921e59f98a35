"""Evidence lists: each record once per cell, with or without DuckDB's DISTINCT, as a list
or as one joined text.

A query lists a cell's record ids without ``DISTINCT`` only when the runner found that no
two rows of the tables it reads share an id; two sources feeding one table may repeat
them, and their cells must still list each id once. It gives them as one text joined by
the separator only when no id holds it. Rows and scopes: ``conftest.py``.
"""

from __future__ import annotations

import duckdb
import pytest

from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.engine.spec import BoundIndicator, merge_parameters
from fiveo_sync.sqlengine import compile_indicator, run_compiled, run_indicators
from fiveo_sync.sqlengine import run as run_module
from fiveo_sync.sqlengine.aggregates import EVIDENCE_SEPARATOR
from fiveo_sync.sqlengine.run import id_traits
from tests.unit.sqlengine.conftest import NOW, SCOPES, _incident, _insert, build_spec

COUNT_OPENED = {"source": "incident", "period": {"kind": "month", "timestamp": "opened_at"},
                "measure": {"kind": "count"}}
PARAMS = {**merge_parameters(), "restatement_days": 0}


def _evidence(conn, compiled):
    return {(c.scope, c.period): c.evidence for c in run_compiled(conn, compiled)
            if c.breakdown == "all"}


def test_plain_lists_match_distinct_ones(tables):
    spec = build_spec(**COUNT_OPENED)
    distinct = compile_indicator(spec, PARAMS, SCOPES["service"], NOW)
    plain = compile_indicator(spec, PARAMS, SCOPES["service"], NOW, (), ("incidents",))
    text = compile_indicator(spec, PARAMS, SCOPES["service"], NOW, (), ("incidents",),
                             ("incidents",))
    assert distinct.id_tables == ("incidents",)
    assert distinct.distinct_evidence and "count(DISTINCT eid)" in distinct.sql
    assert not plain.distinct_evidence and "DISTINCT" not in plain.sql
    assert not plain.text_evidence and text.text_evidence and "array_to_string" in text.sql
    got = _evidence(tables, plain)
    assert got == _evidence(tables, distinct) == _evidence(tables, text)
    # i5 has no opened_at; i7, i10 and i11 were opened in March (ids sort as text)
    assert got[("pay", "2025-01")] == {"incident": ("i1", "i2", "i3", "i4", "i6")}
    assert got[("pay", "2025-03")] == {"incident": ("i10", "i11", "i7")}
    assert got[("mail", "2025-01")] == {"incident": ("i8",)}


def test_sla_cells_need_their_incidents_ids_held_once_too():
    spec = build_spec(source="sla", period={"kind": "month", "timestamp": "end_time"},
                      measure={"kind": "count"}, breakdown={"field": "task.priority"})
    only_slas = compile_indicator(spec, PARAMS, SCOPES["service"], NOW, (), ("slas",))
    assert only_slas.id_tables == ("slas", "incidents")
    assert only_slas.distinct_evidence  # the joined incident could repeat an SLA's row


def test_linked_pairs_keep_distinct():
    caused = {"source": "incident", "field": "caused_by", "key": "id"}
    spec = build_spec(source="change", period={"kind": "month", "timestamp": "resolved_at"},
                      measure={"kind": "linked_duration", "related": caused,
                               "start": "work_end", "end": "resolved_at", "unit": "h",
                               "stat": "median"})
    compiled = compile_indicator(spec, PARAMS, SCOPES["service"], NOW, (),
                                 ("changes", "incidents"))
    assert compiled.id_tables == () and compiled.distinct_evidence


def _connection(rows):
    conn = duckdb.connect()
    for table in TABLES:
        conn.execute(table.ddl())
    _insert(conn, "incidents", rows)
    return conn


@pytest.fixture
def two_sources():
    """i1 stored by two ServiceNow sources (same sys_id), i2 by one; all opened in January."""
    conn = _connection([
        {**_incident("i1", "INC0001", opened="2025-01-10 08:00"), "raw_source": "snow-a"},
        {**_incident("i1", "INC0001", opened="2025-01-10 08:00"), "raw_source": "snow-b"},
        {**_incident("i2", "INC0002", opened="2025-01-11 08:00"), "raw_source": "snow-a"}])
    yield conn
    conn.close()


def _run(conn, monkeypatch, ids=None):
    asked = []

    def compiling(*args):
        asked.append(tuple(args[5:7]))
        return compile_indicator(*args)

    monkeypatch.setattr(run_module, "build_scopes", lambda portfolio: SCOPES)
    monkeypatch.setattr(run_module, "compile_indicator", compiling)
    bound = BoundIndicator(spec=build_spec(**COUNT_OPENED), params=PARAMS)
    cells = run_indicators(conn, [bound], None, NOW, ids=ids).cells
    got = {(c.scope, c.period): (c.value, c.evidence) for c in cells if c.breakdown == "all"}
    return got, asked


def test_repeated_ids_are_listed_once(two_sources, monkeypatch):
    assert id_traits(two_sources, "incidents", {}) == (False, True)
    got, asked = _run(two_sources, monkeypatch)
    assert asked == [(), ([], ["incidents"])]  # again: DISTINCT kept, the ids as text
    assert got[("pay", "2025-01")] == (3.0, {"incident": ("i1", "i2")})


def test_unique_ids_are_listed_without_distinct(tables, monkeypatch):
    known: dict[str, tuple[bool, bool]] = {}
    assert id_traits(tables, "incidents", known) == (True, True)
    assert known == {"incidents": (True, True)}
    got, asked = _run(tables, monkeypatch)
    assert asked == [(), (["incidents"], ["incidents"])]  # compiled again, plain and text
    assert got[("pay", "2025-01")] == (5.0, {"incident": ("i1", "i2", "i3", "i4", "i6")})


def test_an_id_holding_the_separator_keeps_the_list(monkeypatch):
    odd = f"i{EVIDENCE_SEPARATOR}9"
    conn = _connection([_incident("i1", "INC0001", opened="2025-01-10 08:00"),
                        _incident(odd, "INC0009", opened="2025-01-12 08:00")])
    try:
        assert id_traits(conn, "incidents", {}) == (True, False)
        got, asked = _run(conn, monkeypatch)
    finally:
        conn.close()
    assert asked == [(), (["incidents"], [])]  # no DISTINCT, but a list
    assert got[("pay", "2025-01")] == (2.0, {"incident": tuple(sorted(("i1", odd)))})


def test_the_canonical_files_traits_are_trusted_not_measured(tables, monkeypatch):
    def measured(*args):
        raise AssertionError("measured although the file knows")

    monkeypatch.setattr(run_module, "measure_id_traits", measured)
    got, asked = _run(tables, monkeypatch, ids={"incidents": [True, True]})
    assert asked == [(), (["incidents"], ["incidents"])]
    got, asked = _run(tables, monkeypatch, ids={"incidents": [False, False]})
    assert asked == [()]  # not recompiled: DISTINCT lists, as the file says
    assert got[("pay", "2025-01")] == (5.0, {"incident": ("i1", "i2", "i3", "i4", "i6")})
