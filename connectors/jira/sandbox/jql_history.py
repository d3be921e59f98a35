"""``WAS`` and ``CHANGED`` evaluated over the changelog the sandbox serves.

Semantics (Atlassian, "JQL operators"): ``status WAS "In Progress"`` finds issues whose
status is or ever was In Progress; ``WAS IN``/``WAS NOT``/``WAS NOT IN`` follow; ``CHANGED``
finds issues whose field changed. Both take the predicates ``BY user``, ``AFTER date``,
``BEFORE date``, ``ON date`` and ``DURING (date1, date2)``; ``CHANGED`` also ``FROM`` and
``TO``. All predicates given must hold together.

The sandbox builds a field's timeline from ``Dataset.histories``: the value at creation is
the ``from`` of the first change (or the current value when it never changed), set by the
reporter; each change item starts a new value set by the history's author. A value
*was* held over a period when its interval overlaps it: ``BEFORE d`` means it started before
``d``, ``AFTER d`` that it ended after ``d`` (or still holds), ``ON d`` that it overlaps that
day in the user's zone, ``DURING (a, b)`` that it overlaps ``[a, b]``. A change matches
``BEFORE``/``AFTER`` strictly and ``DURING`` inclusively. ``WAS NOT`` is the complement of
``WAS`` with the same predicates (an issue created later never held the value before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.jira.sandbox.data import History, Issue

# (id, display string) of a field value; (None, None) for no value.
FieldValue = tuple[str | None, str | None]
ValueTest = Callable[[FieldValue], bool]
UserTest = Callable[[Any], bool]


@dataclass
class Predicates:
    """The history predicates of one clause (all optional, all must hold)."""

    by: UserTest | None = None
    after: datetime | None = None
    before: datetime | None = None
    during: tuple[datetime, datetime] | None = None
    on: tuple[datetime, datetime] | None = None  # the day, as [start, next day)
    change_from: ValueTest | None = None
    change_to: ValueTest | None = None


def day_range(moment: datetime, zone: Any) -> tuple[datetime, datetime]:
    """The user-zone calendar day containing ``moment``, as ``[start, next start)``."""
    local = moment.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    following = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return start, following


def _changes(histories: list[History], field: str) -> list[tuple[History, tuple[Any, ...]]]:
    return [(h, item) for h in histories for item in h.items if item[0].lower() == field]


def timeline(issue: Issue, histories: list[History], field: str, current: FieldValue
             ) -> list[tuple[datetime, datetime | None, FieldValue, Any]]:
    """``(start, end, value, setter)`` intervals of ``field`` from creation to now."""
    changes = _changes(histories, field)
    value = (changes[0][1][3], changes[0][1][4]) if changes else current
    start, setter = issue.created, issue.reporter
    intervals = []
    for history, item in changes:
        intervals.append((start, history.created, value, setter))
        start, setter, value = history.created, history.author, (item[5], item[6])
    intervals.append((start, None, value, setter))
    return intervals


def _overlaps(start: datetime, end: datetime | None, low: datetime, high: datetime) -> bool:
    return start <= high and (end is None or end >= low)


def build_was(field: str, test: ValueTest, preds: Predicates,
              histories: Callable[[Issue], list[History]],
              current: Callable[[Issue], FieldValue]) -> Callable[[Issue], bool]:
    """``field WAS <values> <predicates>`` (negate the result for ``WAS NOT``)."""
    def held(issue: Issue) -> bool:
        for start, end, value, setter in timeline(issue, histories(issue), field,
                                                  current(issue)):
            if not test(value):
                continue
            if preds.before is not None and not start < preds.before:
                continue
            if preds.after is not None and end is not None and not end > preds.after:
                continue
            if preds.during is not None and not _overlaps(start, end, *preds.during):
                continue
            if preds.on is not None and not (start < preds.on[1]
                                             and (end is None or end > preds.on[0])):
                continue
            if preds.by is not None and not preds.by(setter):
                continue
            return True
        return False
    return held


def build_changed(field: str, preds: Predicates,
                  histories: Callable[[Issue], list[History]]) -> Callable[[Issue], bool]:
    """``field CHANGED <predicates>``."""
    def changed(issue: Issue) -> bool:
        for history, item in _changes(histories(issue), field):
            when = history.created
            if preds.change_from is not None and not preds.change_from((item[3], item[4])):
                continue
            if preds.change_to is not None and not preds.change_to((item[5], item[6])):
                continue
            if preds.before is not None and not when < preds.before:
                continue
            if preds.after is not None and not when > preds.after:
                continue
            if preds.during is not None and not preds.during[0] <= when <= preds.during[1]:
                continue
            if preds.on is not None and not preds.on[0] <= when < preds.on[1]:
                continue
            if preds.by is not None and not preds.by(history.author):
                continue
            return True
        return False
    return changed
