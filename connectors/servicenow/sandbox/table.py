"""Row storage of the sandbox: one list of raw string values per row, per table.

Rows are compact (a list of strings in schema column order, empty values sharing the one
``""`` object) so scale ``large`` (200,000 incidents) fits in memory. Display variants are
computed on the way out, never stored (servicenow-api.md §4).
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors.servicenow.sandbox.schema import TableSchema


class Table:
    """The rows of one table, keyed by ``sys_id``, in insertion order.

    Args:
        schema: the table's columns.
    """

    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema
        self.rows: dict[str, list[str]] = {}
        self._width = len(schema.columns)
        self._sys_id = schema.index["sys_id"]
        # Bumped on every write, so cached sort orders (sandbox/scan.py) know they are stale.
        self.version = 0

    def __len__(self) -> int:
        return len(self.rows)

    def blank(self) -> list[str]:
        """A row with every column empty."""
        return [""] * self._width

    def insert(self, values: dict[str, str]) -> list[str]:
        """Add a row from ``{column: value}`` (unknown columns ignored); return it."""
        row = self.blank()
        index = self.schema.index
        for column, value in values.items():
            position = index.get(column)
            if position is not None:
                row[position] = value
        self.rows[row[self._sys_id]] = row
        self.version += 1
        return row

    def get(self, sys_id: str) -> list[str] | None:
        """The row with ``sys_id``, or ``None``."""
        return self.rows.get(sys_id)

    def value(self, row: list[str], column: str) -> str | None:
        """A raw value of ``row``; ``None`` when the column does not exist."""
        position = self.schema.index.get(column)
        return None if position is None else row[position]

    def set(self, row: list[str], column: str, value: str) -> bool:
        """Set one value; False when the column does not exist."""
        position = self.schema.index.get(column)
        if position is None:
            return False
        row[position] = value
        self.version += 1
        return True

    def remove(self, sys_id: str) -> list[str] | None:
        """Delete and return a row."""
        self.version += 1
        return self.rows.pop(sys_id, None)

    def as_dict(self, row: list[str]) -> dict[str, str]:
        """A row as ``{column: raw value}`` (for tests and transforms)."""
        return dict(zip(self.schema.columns, row, strict=True))

    def __iter__(self) -> Iterator[list[str]]:
        return iter(list(self.rows.values()))
