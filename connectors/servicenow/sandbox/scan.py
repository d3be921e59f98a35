"""Ordered list reads of the sandbox without a full scan and sort per page.

A real instance answers a keyset page (``T>D^NQT=D^sys_id>S^ORDERBYT^ORDERBYsys_id``) from
an index in milliseconds; filtering and sorting 100,000 Python rows per page took the
sandbox over a second, which drowned the round-trip costs benchmarks measure. This keeps
each table's rows sorted per ORDER BY (rebuilt when the table's write counter moves), starts
at the first row the query's lower bounds allow (``bisect``), and stops once the page is
full. Results are identical to filter-then-sort: rows below every branch's lower bound on
the first sort key cannot match, and sorting is stable in both.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from connectors.servicenow.sandbox.query import Query, Row
from connectors.servicenow.sandbox.table import Table


class SortedScan:
    """Cached sort orders of the sandbox tables (one per table and ORDER BY)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], tuple[Any, list[Row], list[Any]]] = {}

    def select(self, table: Table, query: Query, key: Callable[[Row], tuple],
               order_text: str, wanted: int | None) -> tuple[list[Row], int | None]:
        """Matching rows in order: the first ``wanted`` (all when ``None``).

        Returns:
            ``(rows, total)``; ``total`` is the full match count when every row was scanned
            (``wanted`` is ``None``), else ``None``.
        """
        rows, firsts = self._sorted(table, key, order_text)
        start = 0
        bound = _lower_bound(query)
        if bound is not None:
            start = bisect.bisect_left(firsts, bound)
        found: list[Row] = []
        matches = query.matches
        for index in range(start, len(rows)):
            row = rows[index]
            if matches(row):
                found.append(row)
                if wanted is not None and len(found) >= wanted:
                    return found, None
        return found, len(found)

    def _sorted(self, table: Table, key: Callable[[Row], tuple],
                order_text: str) -> tuple[list[Row], list[Any]]:
        stamp = (table.version, len(table.rows))
        cached = self._cache.get((id(table), order_text))
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        rows = sorted(table.rows.values(), key=key)
        firsts = [key(row)[0] for row in rows]
        self._cache[(id(table), order_text)] = (stamp, rows, firsts)
        return rows, firsts


def _lower_bound(query: Query) -> Any | None:
    """The smallest first-sort-key value any row must reach to match, or ``None``.

    Each ``^NQ`` branch needs an AND-ed single condition marked with a lower bound on the
    first (ascending) sort field; the query's bound is the lowest of the branches' bounds.
    """
    if not query.order or not query.groups or query.order[0][2]:
        return None
    first_getter = query.order[0][0]
    bounds = []
    for group in query.groups:
        best = None
        for clause in group:
            if len(clause) != 1:
                continue
            mark = getattr(clause[0], "lower_bound", None)
            if mark is not None and mark[0] is first_getter:
                best = mark[1] if best is None or mark[1] > best else best
        if best is None:
            return None
        bounds.append(best)
    return min(bounds)
