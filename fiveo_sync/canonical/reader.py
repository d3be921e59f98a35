"""Canonical rows back to records, for the indicators the SQL engine leaves to the Python engine.

The interval measures (availability, downtime, MTBF) and ``repeat_count`` read outages
record by record; reading those few rows from the canonical file spares ``compute`` the
raw JSON and the normaliser. Only the kinds in :data:`READABLE` are read this way; an
indicator needing any other kind makes ``compute`` normalise the raw records instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from fiveo_sync.records_evidence import Outage, SurveyResponse

READABLE = {"outage": ("outages", Outage), "survey_response": ("survey_responses",
                                                              SurveyResponse)}
"""Canonical kind → (table, record class); the table's columns are the class's fields."""


def _value(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def read_records(conn: duckdb.DuckDBPyConnection, kind: str) -> tuple[Any, ...]:
    """Every record of one readable kind, in raw-key order (the store's order)."""
    table, cls = READABLE[kind]
    fields = ", ".join(f'"{name}"' for name in cls.__slots__)
    rows = conn.execute(f'SELECT {fields} FROM "{table}" ORDER BY raw_key').fetchall()  # noqa: S608
    return tuple(cls(*(_value(v) for v in row)) for row in rows)
