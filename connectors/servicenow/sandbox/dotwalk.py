"""Dot-walked field paths (``caller_id.email``, ``assignment_group.manager.name``).

The Table API accepts a path through reference fields wherever a field name goes:
``sysparm_query``, ``sysparm_fields`` and the Aggregate API's ``sysparm_group_by``
(servicenow-api.md §2, §3). Each hop but the last must be a reference column; the value is
the last column of the record reached, and ``""`` when a hop's reference is empty or points
at a missing record. Output keys stay dotted (``"caller_id.email": "…"``), rendered with the
type of the last column: a choice shows its label, a reference its ``{link, value}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.servicenow.sandbox.database import Database

Row = list[str]


@dataclass(frozen=True)
class Hop:
    """Where a path ends: the table and column of its last name, and that column's type."""

    table: str
    column: str
    kind: str


def resolve(db: Database, table: str, path: str) -> Hop | None:
    """The end of ``path`` from ``table``, or ``None`` when a name does not exist."""
    names = path.split(".")
    current = table
    for name in names[:-1]:
        schema = db.tables[current].schema if current in db.tables else None
        target = schema.reference_table(name) if schema is not None else None
        if target is None or target not in db.tables:
            return None
        current = target
    schema = db.tables[current].schema if current in db.tables else None
    if schema is None or names[-1] not in schema.index:
        return None
    return Hop(current, names[-1], schema.types[names[-1]])


def walk(db: Database, table: str, row: Row, path: str) -> tuple[Hop, Row | None] | None:
    """The record a path's last name is read from (``None`` when a hop is empty).

    Returns:
        ``(end, row)`` where ``row`` is the record of ``end.table`` reached through the
        references, or ``None`` when the walk stops at an empty or dangling reference;
        ``None`` altogether when the path does not exist.
    """
    end = resolve(db, table, path)
    if end is None:
        return None
    current_table = table
    current: Row | None = row
    for name in path.split(".")[:-1]:
        source = db.tables[current_table]
        target = source.schema.reference_table(name) or ""
        value = source.value(current, name) if current is not None else ""
        current = db.tables[target].get(value) if value else None
        current_table = target
        if current is None:
            break
    return end, current
