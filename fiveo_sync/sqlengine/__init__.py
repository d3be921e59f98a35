"""Indicators compiled to SQL over the canonical DuckDB tables (issue #12).

:mod:`~fiveo_sync.sqlengine.compiler` turns one indicator (spec, effective parameters,
scopes, ``now``) into one query without I/O; :mod:`~fiveo_sync.sqlengine.run` executes
compiled queries on a DuckDB connection and returns one :class:`~fiveo_sync.sqlengine.run.Cell`
per (indicator, scope, breakdown, period) with its ``value, n, excluded`` (indicators.md
§2.6), flags and evidence. :mod:`fiveo_sync.compute` runs every non-derived indicator
through it and :mod:`fiveo_sync.engine.engine` turns the cells into results (periods
chosen, status, trend, derived indicators). An indicator the compiler does not translate
cannot be computed: ``fiveo-sync validate`` reports it first
(:mod:`~fiveo_sync.sqlengine.checks`).
"""

from fiveo_sync.sqlengine.compiler import CompiledIndicator, compile_indicator
from fiveo_sync.sqlengine.fields import NotCompiled
from fiveo_sync.sqlengine.run import (
    Cell,
    SinceLast,
    SqlRun,
    run_compiled,
    run_indicators,
    since_bound,
    touched_scopes,
)

__all__ = ["Cell", "CompiledIndicator", "NotCompiled", "SinceLast", "SqlRun",
           "compile_indicator", "run_compiled", "run_indicators", "since_bound",
           "touched_scopes"]
