"""``fiveo-sync validate``'s check that every indicator compiles to SQL (pure: no I/O).

The SQL engine is the one engine: an indicator the compiler does not translate (an
``overlap`` placement of a record count, a sprint measure in months, a text field averaged)
cannot be computed, so it is a located mapping problem, found before any run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fiveo_sync.engine.problems import Problem
from fiveo_sync.engine.scope import build_scopes
from fiveo_sync.engine.spec import bind_indicators
from fiveo_sync.errors import ConfigError
from fiveo_sync.sqlengine.compiler import compile_indicator
from fiveo_sync.sqlengine.fields import NotCompiled

_CLOCK = datetime(2026, 1, 1, tzinfo=UTC)  # any instant: what compiles does not depend on it


def check_compiled(files: list[tuple[Any, Any]], portfolio: Any) -> list[Problem]:
    """A problem at each non-derived indicator the SQL compiler refuses, with its reason.

    Args:
        files: ``(YamlDocument, IndicatorFileSpec)`` of every indicator file.
        portfolio: the portfolio (the scopes of each view).
    """
    scopes = build_scopes(portfolio)
    problems: list[Problem] = []
    for document, spec in files:
        bound = {item.spec.id: item for item in bind_indicators([spec])}
        for i, indicator in enumerate(spec.indicators):
            if indicator.is_derived:
                continue
            item = bound[indicator.id]
            try:
                compile_indicator(item.spec, item.params, scopes[indicator.view], _CLOCK)
            except NotCompiled as exc:
                problems.append((document.locate(("indicators", i, "measure")),
                                 f"cannot be computed: {exc.reason}"))
            except ConfigError as exc:
                problems.append((document.locate(("indicators", i)), str(exc)))
    return problems
