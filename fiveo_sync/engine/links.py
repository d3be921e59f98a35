"""Jira keys quoted in ServiceNow text (``indicators.md`` §2.4).

``jira_keys(r)`` is the set of matches of the §2.4 pattern in a change's, incident's or
problem's text fields, keeping only keys whose project is in the portfolio, which drops
look-alikes such as ``UTF-8``. Matching is case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache

DEFAULT_PATTERN = r"(?<![A-Za-z0-9])([A-Z][A-Z0-9_]+)-([1-9][0-9]*)(?![0-9])"
TEXT_LIMIT = 100_000
"""Longest text scanned per field; descriptions beyond it are cut, not scanned whole."""


@lru_cache(maxsize=16)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def find_jira_keys(texts: Iterable[str | None], projects: Collection[str] | None = None,
                   pattern: str = DEFAULT_PATTERN) -> frozenset[str]:
    """Jira keys in ``texts``.

    Args:
        texts: the text fields of one record; ``None`` entries are skipped.
        projects: project keys to keep (the portfolio's); ``None`` keeps every key.
        pattern: a regular expression whose group 1 is the project key and group 2 the
            issue number.

    Returns:
        The keys found, as ``PROJECT-NUMBER``.
    """
    regex = _compiled(pattern)
    keys: set[str] = set()
    for text in texts:
        if not text:
            continue
        for match in regex.finditer(text[:TEXT_LIMIT]):
            project, number = match.group(1), match.group(2)
            if projects is None or project in projects:
                keys.add(f"{project}-{number}")
    return frozenset(keys)
