"""Print a :class:`~fiveo_sync.canonical.query.QueryResult` as a table, CSV or JSON.

``table`` is a rich table on a terminal and plain aligned text otherwise (pipes, files,
cron mail): no colour codes, numbers right-aligned, ``NULL`` for SQL nulls, date-times in
UTC as ISO 8601 with ``Z``, lists as ``[a, b]``. ``csv`` writes a header row and empty
cells for nulls; ``json`` writes one array of objects keyed by column name.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fiveo_sync.canonical.query import QueryResult

FORMATS = ("table", "csv", "json")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def write_result(result: QueryResult, out: TextIO, fmt: str = "table") -> None:
    """Write ``result`` to ``out`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([["" if v is None else render(v) for v in row]
                          for row in result.rows])
    elif fmt == "json":
        items = [dict(zip(result.columns, map(_json_value, row), strict=True))
                 for row in result.rows]
        out.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
    elif getattr(out, "isatty", lambda: False)():
        _write_rich(result, out)
    else:
        _write_plain(result, out)


def render(value: Any) -> str:
    """One value as text (nulls are the caller's choice)."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(sep=" ")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime, date, timedelta)):
        return render(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # UUID, INTERVAL parts, anything else DuckDB hands back


def _numeric(types: Sequence[str]) -> list[bool]:
    return [t.upper().startswith(_NUMERIC) for t in types]


def _write_plain(result: QueryResult, out: TextIO) -> None:
    cells = [[render(v) for v in row] for row in result.rows]
    widths = [max([len(name)] + [len(row[i]) for row in cells])
              for i, name in enumerate(result.columns)]
    numeric = _numeric(result.types)

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w)
                 for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out.write(line(result.columns) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    out.write(f"({len(cells)} row{'s' if len(cells) != 1 else ''})\n")


def _write_rich(result: QueryResult, out: TextIO) -> None:
    table = Table(show_edge=False, header_style="bold")
    for name, num in zip(result.columns, _numeric(result.types), strict=True):
        table.add_column(Text(name), justify="right" if num else "left", overflow="fold")
    for row in result.rows:
        # Text, not str: a list rendered as "[PAY-1]" is not rich markup.
        table.add_row(*(Text(render(v)) for v in row))
    console = Console(file=out, highlight=False)
    console.print(table)
    console.print(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
