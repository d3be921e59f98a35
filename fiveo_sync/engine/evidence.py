"""Which records a result was computed over: the ids behind its evidence links.

Pure, like the rest of the engine: it only reads the units the engine already placed in a
period. Views and writers turn the ids into platform URLs (``fiveo_sync.evidence``), so
the link always selects the records that were counted, not a re-run of the filters.

The evidence of a record measure is every record in scope, period and breakdown that the
measure was evaluated over: the ``n`` records used plus the ``excluded`` ones (e.g. a
resolved incident without ``opened_at``), because both explain the value. A sprint measure's
evidence is the work items of the sets (C, E, D, A) it reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fiveo_sync.engine.result import EVIDENCE_CAP

Evidence = dict[str, tuple[str, ...]]


def record_id(record: Any) -> str | None:
    """The canonical id of a record: a work item's key, else its ``id`` (a ``sys_id``)."""
    key = getattr(record, "key", None)
    if isinstance(key, str):
        return key
    value = getattr(record, "id", None)
    return None if value is None else str(value)


def capped(kind: str, ids: Iterable[str], flags: dict[str, Any]) -> Evidence:
    """``{kind: sorted ids}``; over :data:`EVIDENCE_CAP` ids, none and a count in ``flags``."""
    unique = sorted(set(ids))
    if not unique:
        return {}
    if len(unique) > EVIDENCE_CAP:
        flags.setdefault("evidence_omitted", {})[kind] = len(unique)
        return {}
    return {kind: tuple(unique)}


def build_record_evidence(kind: str, units: Iterable[Any], flags: dict[str, Any]) -> Evidence:
    """Evidence of a record measure: the records of the units (pairs give their first).

    Args:
        kind: the canonical kind of the records (the indicator's ``source``).
        units: records, or ``(record, related)`` pairs for ``linked_duration``.
        flags: the result's flags (``evidence_omitted`` is added over the cap).

    Returns:
        ``{kind: ids}`` or ``{}``.
    """
    ids = []
    for unit in units:
        record = unit[0] if isinstance(unit, tuple) else unit
        found = record_id(record)
        if found is not None:
            ids.append(found)
    return capped(kind, ids, flags)


def build_sprint_evidence(measure: Any, sets: Any, flags: dict[str, Any]) -> Evidence:
    """Evidence of a sprint measure: the keys of every set (C, E, D, A) it aggregates."""
    aggregates = [measure.of] if measure.kind == "sprint_sum" else \
        [measure.numerator, measure.denominator]
    names = {name for agg in aggregates for name in agg.sets}
    if getattr(measure, "n_set", None):
        names.add(measure.n_set)
    keys: set[str] = set()
    for name in names:
        keys |= sets.members(name)
    return capped("work_item", keys, flags)
