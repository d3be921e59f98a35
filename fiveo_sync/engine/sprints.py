"""Sprint commitment (indicators.md §4): the sets C, E, D, A of a closed sprint.

Commitment comes from a stored scope taken at sprint start, in this order of preference:
a timely snapshot, the Jira sprint report, a changelog reconstruction (always flagged
approximate). Commitment is NEVER rebuilt from the current state of the work items: without
a start scope a sprint has no commitment and its sprint measures have no data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fiveo_sync.engine.index import DataIndex

SOURCE_PREFERENCE = {"snapshot": 0, "sprint_report": 1, "changelog": 2}


@dataclass(frozen=True)
class SprintSets:
    """C/E/D/A of one sprint with the points at start and at close.

    Attributes:
        committed: ``C``: key → sp_start (None = unestimated).
        at_close: ``E``: key → sp_end.
        completed: ``D``: keys of E done at close.
        flags: ``commitment_source``, ``approximate``, ``late_snapshot``, ``close_source``.
    """

    committed: dict[str, float | None]
    at_close: dict[str, float | None]
    completed: frozenset[str]
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def has_commitment(self) -> bool:
        """True when C comes from an accepted source (§4)."""
        return self.flags.get("commitment_source") is not None

    @property
    def added(self) -> frozenset[str]:
        """``A``: items of E that were not in C."""
        return frozenset(self.at_close) - frozenset(self.committed)

    def members(self, name: str) -> frozenset[str]:
        """The keys of one named set (C, E, D or A)."""
        if name == "C":
            return frozenset(self.committed)
        if name == "E":
            return frozenset(self.at_close)
        if name == "D":
            return self.completed
        return self.added


def _countable(key: str, index: DataIndex, discarded: set[str]) -> bool:
    item = index.work_items_by_key.get(key)
    if item is None:
        return True
    return not item.is_subtask and (item.resolution or "") not in discarded


def _pick(scopes: list[Any], moment: str) -> Any | None:
    candidates = [s for s in scopes if s.moment == moment]
    if not candidates:
        return None
    return min(candidates, key=lambda s: (SOURCE_PREFERENCE.get(s.source, 9), s.taken_at))


def sprint_sets(sprint: Any, index: DataIndex, params: dict[str, Any]) -> SprintSets:
    """The commitment sets of a closed sprint.

    Without a stored start scope, ``C`` is empty and ``flags["commitment_source"]`` is
    None: measures over C or A then have no data (never rebuilt from current state).

    Args:
        sprint: a closed ``Sprint`` with start and complete.
        index: the data index.
        params: effective parameters (``discarded_resolutions``, ``snapshot_max_delay_h``).

    Returns:
        The sets with their provenance flags.
    """
    discarded = set(params.get("discarded_resolutions") or ())
    # Every sprint indicator of every scope asks again: build each sprint's sets once.
    memo_key = ("sprint_sets", sprint.id, repr(sorted(discarded)),
                repr(params.get("snapshot_max_delay_h")))
    cached = index.cache.get(memo_key)
    if cached is None:
        cached = index.cache[memo_key] = _sprint_sets(sprint, index, params, discarded)
    return cached


def _sprint_sets(sprint: Any, index: DataIndex, params: dict[str, Any],
                 discarded: set[str]) -> SprintSets:
    scopes = index.scopes_by_sprint.get(sprint.id, [])
    start = _pick(scopes, "start")
    flags: dict[str, Any] = {"commitment_source": None, "approximate": False}
    committed: dict[str, float | None] = {}
    if start is not None:
        flags["commitment_source"] = start.source
        if start.source == "changelog":
            flags["approximate"] = True
        elif start.source == "snapshot":
            delay = timedelta(hours=float(params.get("snapshot_max_delay_h") or 24))
            if start.taken_at - sprint.start > delay:
                flags["late_snapshot"] = True
                flags["approximate"] = True
        committed = {i.key: i.story_points for i in start.items
                     if _countable(i.key, index, discarded)}
    close = _pick(scopes, "close")
    if close is not None:
        flags["close_source"] = close.source
        if close.source == "changelog":
            flags["approximate"] = True
        at_close = {i.key: i.story_points for i in close.items
                    if _countable(i.key, index, discarded)}
        done = set()
        for item in close.items:
            if item.key not in at_close:
                continue
            stored = index.work_items_by_key.get(item.key)
            # A close snapshot is taken after the close: the changelog says what held then.
            if close.source == "snapshot" and stored is not None:
                category = stored.status_category_at(sprint.complete)
            else:
                category = item.status_category
            if category == "done":
                done.add(item.key)
    else:
        # Items still listing the sprint, with their current points: the close side only.
        flags["close_source"] = "current_state"
        at_close, done = {}, set()
        for item in index.work_items_by_key.values():
            if sprint.id in item.sprints and _countable(item.key, index, discarded):
                at_close[item.key] = item.story_points
                if item.status_category_at(sprint.complete) == "done":
                    done.add(item.key)
    return SprintSets(committed, at_close, frozenset(done), flags)


def aggregate(sets: SprintSets, names: list[str], value: str) -> tuple[float, int]:
    """Sum or count over the intersection of named sets.

    Args:
        sets: the sprint's sets.
        names: set names to intersect, e.g. ``["C", "D"]``.
        value: sp_start|sp_end|items|estimated_start (empty estimates count as 0).

    Returns:
        ``(total, number of items in the intersection)``.
    """
    keys = sets.members(names[0])
    for name in names[1:]:
        keys = keys & sets.members(name)
    total = 0.0
    for key in keys:
        if value == "sp_start":
            total += sets.committed.get(key) or 0.0
        elif value == "sp_end":
            total += sets.at_close.get(key) or 0.0
        elif value == "items":
            total += 1
        elif value == "estimated_start":
            total += 1 if sets.committed.get(key) is not None else 0
    return total, len(keys)


def completed_sprints_by_key(index: DataIndex, params: dict[str, Any]) -> dict[str, set[int]]:
    """``key → sprints whose D(S) holds it`` over all closed sprints (for ``sprints(c)``)."""
    memo_key = ("completed_sprints_by_key",
                repr(sorted(params.get("discarded_resolutions") or ())),
                repr(params.get("snapshot_max_delay_h")))
    cached = index.cache.get(memo_key)
    if cached is not None:
        return cached
    out: dict[str, set[int]] = {}
    index.cache[memo_key] = out
    for sprint in index.closed_sprints({s.board for s in index.data.sprints}):
        sets = sprint_sets(sprint, index, params)
        for key in sets.completed:
            # §2.4: a change links to sprints only through STORED work items.
            if key in index.work_items_by_key:
                out.setdefault(key, set()).add(sprint.id)
    return out
