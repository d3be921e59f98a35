"""The fault matrix's rows, collected while the reliability suite runs, and its table.

It lives here, not beside the reliability tests, because the table is printed by the root
conftest: under pytest-xdist each worker collects its own rows and hands them to the
controller (``pytest_sessionfinish`` → ``pytest_testnodedown``), which prints one table.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MatrixRow:
    """One printed line of the matrix."""

    cell: str
    platform: str
    requests: int
    retries: int
    injected: str
    outcome: str


@dataclass
class Matrix:
    """The rows collected during the session (printed by ``pytest_terminal_summary``)."""

    rows: list[MatrixRow] = field(default_factory=list)

    def render(self) -> list[str]:
        """The matrix as text lines, sorted by cell (workers finish in any order)."""
        header = ("cell", "platform", "requests", "retries", "injected", "outcome")
        table = [header] + [(r.cell, r.platform, str(r.requests), str(r.retries), r.injected,
                             r.outcome) for r in sorted(self.rows, key=_order)]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        return ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                for row in table]


def _order(row: MatrixRow) -> tuple[str, str]:
    return row.cell, row.platform


MATRIX = Matrix()
