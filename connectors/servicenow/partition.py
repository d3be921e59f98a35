"""Backfills as parallel time-window partitions, each keyset-paged (servicenow-api.md §9–10).

A first pull of a large table is dominated by round trips: one keyset page needs the last
row of the page before it, so a single cursor can only ever have one request in flight. The
window ``[start, upper)`` is therefore cut into equal time slices (twice the concurrency, so
workers stay busy while slices of unequal size finish); each slice is keyset-paged on
``(sys_updated_on, sys_id)`` and ends on its own empty page, and at most ``concurrency``
requests run at once (no instance-wide limit exists; admin rules are per hour, §9).

The bookmark never gets ahead of stored data: worker threads only fetch; the generator
applies a page to the slice's cursor and yields it (with the whole partition state) in the
caller's thread, and a slice's next request starts only after its page was handed over. At
most one fetched page per slice waits in memory, so memory is bounded by page size times
slices, not by the size of the table. A killed pull resumes every slice from its cursor.

Bookmark ``run`` in this mode::

    {"from": B, "parts": [[lo, hi, [D, S] | null, done], ...]}   # hi null = the pass's upper
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from connectors.servicenow.query import build_keyset_query, format_sn, parse_sn

Rows = list[dict[str, Any]]
Fetch = Callable[[str], Rows]


def build_parts(start: str, upper: str, count: int) -> list[list[Any]]:
    """``count`` equal time slices of ``[start, upper)``; the last one is open-ended."""
    lo, hi = parse_sn(start), parse_sn(upper)
    if count <= 1 or hi <= lo:
        return [[start, None, None, False]]
    step = (hi - lo) / count
    edges = [format_sn(lo + step * i) for i in range(count)]
    edges = sorted(set(edges))
    return [[edge, edges[i + 1] if i + 1 < len(edges) else None, None, False]
            for i, edge in enumerate(edges)]


def iter_partitions(parts: list[list[Any]], upper: str, fetch: Fetch, concurrency: int,
                    cursor_of: Callable[[dict[str, Any]], tuple[str, str]],
                    ) -> Iterator[tuple[int, Rows]]:
    """Fetch every slice to its empty page; yield ``(slice index, rows)`` as pages arrive.

    ``parts`` is updated in place (cursor after the yielded rows, ``done`` on the empty
    page) *before* each yield, so the caller can commit it with the rows it receives.

    Args:
        parts: the partition state (see module docstring).
        upper: the pass's upper bound (for open-ended slices).
        fetch: one keyset page for an encoded query.
        concurrency: the most requests in flight.
        cursor_of: ``(sys_updated_on, sys_id)`` of a row.
    """
    pending = [i for i, part in enumerate(parts) if not part[3]]
    if not pending:
        return
    with ThreadPoolExecutor(max_workers=max(1, concurrency),
                            thread_name_prefix="servicenow-partition") as pool:
        running: dict[Future[Rows], int] = {}

        def submit(index: int) -> None:
            lo, hi, after, _ = parts[index]
            query = build_keyset_query("sys_updated_on", lo, hi or upper,
                                       tuple(after) if after else None)
            running[pool.submit(fetch, query)] = index

        for index in pending:
            submit(index)
        try:
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in _in_submission_order(finished, running):
                    index = running.pop(future)
                    rows = future.result()
                    if rows:
                        parts[index][2] = list(cursor_of(rows[-1]))
                    else:
                        parts[index][3] = True
                    yield index, rows
                    if rows:
                        submit(index)
        finally:
            for future in running:
                future.cancel()


def _in_submission_order(finished: set[Future[Rows]],
                         running: dict[Future[Rows], int]) -> list[Future[Rows]]:
    return [f for f in running if f in finished]

