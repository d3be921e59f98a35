"""What the compiler does not translate is refused by name, with the reason; bad
input is a located error, not a traceback; the compiler is pure (only ``run.py`` touches
DuckDB)."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from fiveo_sync.canonical.schema import TABLES
from fiveo_sync.errors import ConfigError, StateError
from fiveo_sync.sqlengine import NotCompiled, run_compiled

PACKAGE = Path(__file__).resolve().parents[3] / "fiveo_sync" / "sqlengine"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"source": "outage", "period": {"kind": "month", "placement": "overlap",
                                     "timestamp": "begin", "until": "end"},
      "measure": {"kind": "count"}}, "overlap places intervals"),
    ({"source": "incident", "period": {"kind": "month"},
      "measure": {"kind": "period_change", "indicator": "operate.mttr"}}, "derived"),
    ({"source": "sprint", "period": {"kind": "month", "timestamp": "complete"},
      "measure": {"kind": "count"}}, "sprint has no canonical table"),
    ({"source": "incident", "period": {"kind": "month", "timestamp": "opened_at"},
      "filters": [{"op": "matches", "field": "number", "pattern": r"\bINC"}],
      "measure": {"kind": "count"}}, "RE2"),
    ({"source": "incident", "period": {"kind": "month", "timestamp": "opened_at"},
      "filters": [{"op": "eq", "field": "opened_at", "value": "2025-01-01"}],
      "measure": {"kind": "count"}}, "compare it with a value of its type"),
    ({"source": "incident", "period": {"kind": "month", "timestamp": "opened_at"},
      "measure": {"kind": "mean", "of": {"kind": "field", "field": "number"}}},
     "number column"),
])
def test_unsupported_indicators_raise_not_compiled_with_the_reason(compile_spec, fields,
                                                                   reason):
    with pytest.raises(NotCompiled) as caught:
        compile_spec(**fields)
    assert caught.value.indicator == "observe.hand_made"
    assert reason in caught.value.reason
    assert str(caught.value).startswith("observe.hand_made: ")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_runner_imports_duckdb_or_the_state_store():
    impure = {"duckdb", "fiveo_sync.state", "requests", "connectors", "sqlite3"}
    offenders = {path.name: sorted(n for n in _imports(path)
                                   if n.split(".")[0] in impure or n in impure)
                 for path in PACKAGE.glob("*.py") if path.name not in ("run.py", "__init__.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_an_unknown_reporting_zone_is_a_config_error(cells):
    with pytest.raises(ConfigError, match="reporting_timezone is not a known time zone") as got:
        cells(source="incident", params={"reporting_timezone": "Mars/Olympus"},
              period={"kind": "month", "timestamp": "opened_at"}, measure={"kind": "count"})
    assert "indicator=observe.hand_made" in str(got.value)


def test_a_canonical_file_without_the_table_is_a_state_error(compile_spec):
    compiled = compile_spec(source="incident", measure={"kind": "count"},
                            period={"kind": "month", "timestamp": "opened_at"})
    with duckdb.connect() as empty, pytest.raises(StateError) as got:
        run_compiled(empty, compiled)
    assert "the compiled query failed" in str(got.value)
    assert "indicator=observe.hand_made" in str(got.value)
    assert "incidents" in str(got.value)


def test_a_query_over_the_memory_limit_says_which_setting_to_raise(compile_spec):
    compiled = compile_spec(source="incident", measure={"kind": "count"},
                            period={"kind": "month", "timestamp": "opened_at"})
    with duckdb.connect() as conn:
        conn.execute(next(t for t in TABLES if t.name == "incidents").ddl())
        conn.execute("INSERT INTO incidents (id, number, state, priority, opened_at, service) "
                     "SELECT 'i' || i, 'INC' || i, 'closed', 1, "
                     "TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i), 'pay' "
                     "FROM range(2000000) r(i)")
        conn.execute("SET memory_limit = '8MB'")  # the evidence lists alone need more
        with pytest.raises(StateError) as got:
            run_compiled(conn, compiled)
    assert "indicator=observe.hand_made" in str(got.value)
    assert "Out of Memory" in str(got.value)
    assert "hint=raise state.analytics_memory_mb" in str(got.value)
