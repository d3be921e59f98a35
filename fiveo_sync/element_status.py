"""The headline status of one service or product per O, characteristic and dimension.

The portfolio page and the ServiceNow summary records both sum an element up the same way:
its own headline series (``scope`` is the element itself, breakdown ``all``), each at the
status of its last complete period, and per group the most telling status among them, in
the order missed, at risk, met, insufficient data, no data, no complete period. A series
whose indicator declares no characteristic or dimension counts as ``unclassified``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.engine.spec import CHARACTERISTICS, DIMENSIONS

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
STATUS_ORDER = ("missed", "at_risk", "met", "insufficient_data", "no_data",
                "no_complete_period")
UNCLASSIFIED = "unclassified"
GROUPINGS = {"o": O_ORDER, "characteristic": CHARACTERISTICS, "dimension": DIMENSIONS}


def cell_status(statuses: Iterable[str]) -> tuple[str, Counter]:
    """The most telling status of a set of results and the count of each status.

    Returns:
        ``("none", Counter())`` when there is no result at all.
    """
    tally = Counter(s if s in STATUS_ORDER else "no_data" for s in statuses)
    worst = next((s for s in STATUS_ORDER if tally.get(s)), "none")
    return worst, tally


def group_of(result: Any, grouping: str) -> str:
    """The group of a result under ``o``, ``characteristic`` or ``dimension``."""
    if grouping == "o":
        return str(result.o)
    return str(getattr(result, grouping, None) or UNCLASSIFIED)


def group_order(grouping: str, present: Iterable[str]) -> list[str]:
    """The groups to show: the declared ones in order, then any others, unclassified last."""
    declared = list(GROUPINGS[grouping])
    extra = sorted(set(present) - set(declared) - {UNCLASSIFIED})
    tail = [UNCLASSIFIED] if UNCLASSIFIED in set(present) else []
    return declared + extra + tail


def headline_items(view: Any) -> list[Any]:
    """The view's own headline series (its scope, the ``all`` breakdown): rows or results."""
    items = []
    for item in getattr(view, "rows", None) or view.results:
        r = getattr(item, "lead", item)
        if r.scope_type == view.kind and r.scope == view.id and (r.breakdown or "all") == "all":
            items.append(item)
    return items


def item_status(item: Any) -> str:
    """A row's headline status (``no_complete_period`` before its first period ends)."""
    return str(getattr(item, "status", None) or "no_complete_period")


@dataclass(frozen=True)
class HeadlineSeries:
    """One of the element's own series at its last complete period.

    Attributes:
        o: the series' O.
        characteristic: its characteristic, or ``unclassified``.
        dimension: its ITIL dimension, or ``unclassified``.
        status: the headline status (``no_complete_period`` before the first one ends).
        period: the headline period, ``""`` when there is none yet.
        period_end: when the headline period ended (for picking the latest), or None.
    """

    o: str
    characteristic: str
    dimension: str
    status: str
    period: str = ""
    period_end: Any = None


@dataclass(frozen=True)
class ElementStatus:
    """An element's headline series and the status per O, characteristic and dimension."""

    series: list[HeadlineSeries] = field(default_factory=list)

    def status(self, grouping: str, group: str) -> str:
        """The most telling status of the group, ``none`` when it has no series."""
        return cell_status(s.status for s in self.series
                           if getattr(s, grouping) == group)[0]

    @property
    def missed(self) -> int:
        """How many headline series missed their target."""
        return sum(1 for s in self.series if s.status == "missed")

    @property
    def period(self) -> str:
        """The latest complete period among the series (``""`` when none has one)."""
        dated = [s for s in self.series if s.period and s.period_end is not None]
        if not dated:
            return ""
        return max(dated, key=lambda s: (s.period_end, s.period)).period


def build_element_status(view: Any) -> ElementStatus:
    """The element's own headline series (its scope, the ``all`` breakdown).

    Reads the view's ``rows`` (``views.SeriesRow``) when it has them, else its results.
    """
    series = []
    for item in headline_items(view):
        lead = getattr(item, "lead", item)
        head = getattr(item, "headline", item)
        series.append(HeadlineSeries(
            str(lead.o), group_of(lead, "characteristic"), group_of(lead, "dimension"),
            item_status(item), str(head.period) if head is not None else "",
            getattr(head, "period_end", None) if head is not None else None))
    return ElementStatus(series)
