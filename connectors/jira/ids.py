"""Compact sets of issue ids for bookmarks.

Jira issue ids are mostly consecutive, so the census remembers them as ``[first, last]``
ranges: 100,000 ids usually take a few hundred bytes in the bookmark.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def compress_ids(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ``[first, last]`` ranges covering exactly ``ids``."""
    ranges: list[list[int]] = []
    for value in sorted(set(ids)):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges


def expand_ids(ranges: Iterable[Iterable[int]]) -> Iterator[int]:
    """The ids covered by ``ranges``."""
    for first, last in ranges:
        yield from range(int(first), int(last) + 1)
