"""Indicators compiled to SQL over the canonical DuckDB tables (issue #12).

:mod:`~fiveo_sync.sqlengine.compiler` turns one indicator (spec, effective parameters,
scopes, ``now``) into one query without I/O; :mod:`~fiveo_sync.sqlengine.run` executes
compiled queries on a DuckDB connection and returns one :class:`~fiveo_sync.sqlengine.run.Cell`
per (indicator, scope, breakdown, period) with the ``value, n, excluded`` the Python engine's
``evaluate`` gives. :mod:`fiveo_sync.compute` runs it for every indicator it compiles;
the parity tests prove it agrees with the Python engine.
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
