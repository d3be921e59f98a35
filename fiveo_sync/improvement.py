"""The improvement loop (Optimise): missed targets become improvement items, pure planning.

Per series (indicator, scope, breakdown) the complete periods (``headline.py``'s rule: a
period counts once it has ended) are walked in order (``docs/improvement.md``):

- an **episode** opens at the first complete period where the target was missed in
  ``open_when.missed`` of the last ``open_when.of_last`` complete periods (periods after
  the previous episode's end only); its first missed period names it;
- it is **resolved** once the target is met in ``resolve_when.met`` consecutive complete
  periods; a later miss opens a new episode;
- ``no_data`` and ``insufficient_data`` periods are skipped; ``at_risk`` is neither a miss
  nor a met period (it breaks a run of met periods).

One episode is one item, keyed ``fiveo-improvement:{indicator}:{scope_type}:{scope}:
{breakdown}:{first missed period}``: a rerun, a fault or a kill finds the same key on the
platform instead of creating another. For the episode still open: no item → ``create``;
an open item → ``update`` (latest periods and values) or ``unchanged``; an item closed or
cancelled by hand → left alone for the rest of that episode. For a resolved episode whose
item is still open → ``resolve`` with a note. Past episodes without an item get none.

The item goes to the element's owner, or the governance fallback owner where the owner
left (:mod:`fiveo_sync.ownership`).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.writers.context import PublishContext
from fiveo_sync.writers.servicenow import format_number

KEY_PREFIX = "fiveo-improvement"
OPEN_ITEMS_KEY = "improvement_open_items"  # state-store meta: the items governance.html lists
ITEM_LABEL_PREFIX = "fiveo-imp-"  # Jira items' own label; the Jira pull skips such issues
CREATE, UPDATE, UNCHANGED, RESOLVE, LEAVE = "create", "update", "unchanged", "resolve", "leave"
_COUNTED = ("met", "missed", "at_risk")
PLATFORM_OF_SCOPE = {"service": "servicenow", "product": "jira"}


@dataclass(frozen=True)
class Episode:
    """One stretch of a series from its first missed period until it is met again.

    Attributes:
        first_missed: the period that names the episode.
        results: the counted complete results from ``first_missed`` on, in order.
        resolved: True when the target was met again for the configured periods.
    """

    first_missed: str
    results: tuple[IndicatorResult, ...]
    resolved: bool


@dataclass(frozen=True)
class HeldItem:
    """An improvement item as the platform holds it.

    Attributes:
        key: the item key.
        ref: its platform id (``sys_id``, issue key).
        closed: True when it is no longer worked on (closed, cancelled, done).
        digest: the content digest fiveo-sync last wrote into it ("" when unknown).
    """

    key: str
    ref: str
    closed: bool
    digest: str = ""


@dataclass(frozen=True)
class ImprovementItem:
    """What one improvement item says, and what to do with it.

    Attributes:
        action: create|update|unchanged|resolve|leave.
        key: the item key.
        platform: servicenow (services) or jira (products).
        reason: why, for a dry run.
        indicator, name, scope_type, scope, breakdown: the series.
        scope_name: the service's or product's display name.
        target: the target text.
        title: the one-line summary.
        periods: ``(period, value text, status, evidence url)`` of the episode's periods.
        assignee: the id of who receives the item (owner, or fallback owner).
        assignee_note: a sentence naming the owner and, where one left, the acting owner.
        note: the resolution note (resolve only).
        digest: a short hash of the content (updates only when it changes).
        ref: the platform id of the held item, "" when none.
        project: the Jira project key (products).
    """

    action: str
    key: str
    platform: str
    reason: str
    indicator: str
    name: str
    scope_type: str
    scope: str
    breakdown: str
    scope_name: str
    target: str
    title: str
    periods: tuple[tuple[str, str, str, str], ...]
    assignee: str = ""
    assignee_note: str = ""
    note: str = ""
    digest: str = ""
    ref: str = ""
    project: str = ""


def item_key(series_key: str, first_missed: str) -> str:
    """``fiveo-improvement:{indicator}:{scope_type}:{scope}:{breakdown}:{period}``."""
    return f"{KEY_PREFIX}:{series_key.removeprefix('fiveo:')}:{first_missed}"


def jira_label(key: str) -> str:
    """The Jira label that finds an item: ``fiveo-imp-`` and 16 hex digits of its key."""
    return ITEM_LABEL_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def find_episodes(results: Iterable[IndicatorResult], spec: ImprovementSpec,
                  now: datetime) -> list[Episode]:
    """The episodes of one series' complete periods, oldest first."""
    counted = sorted((r for r in results if r.period_end <= now and r.status in _COUNTED),
                     key=lambda r: r.period_end)
    episodes: list[Episode] = []
    start: int | None = None
    floor = met_run = 0
    for index, result in enumerate(counted):
        if start is None:
            window = counted[max(floor, index - spec.open_when.of_last + 1): index + 1]
            missed = [w for w in window if w.status == "missed"]
            if result.status == "missed" and len(missed) >= spec.open_when.missed:
                start, met_run = counted.index(missed[0]), 0
            continue
        met_run = met_run + 1 if result.status == "met" else 0
        if met_run >= spec.resolve_when.met:
            episodes.append(Episode(counted[start].period, tuple(counted[start:index + 1]),
                                    resolved=True))
            start, floor = None, index + 1
    if start is not None:
        episodes.append(Episode(counted[start].period, tuple(counted[start:]), resolved=False))
    return episodes


def _value_text(result: IndicatorResult) -> str:
    if result.value is None:
        return "–"
    unit = "" if result.unit in ("count", "items") else f" {result.unit}"
    return f"{format_number(result.value)}{unit}".replace(" %", "%")


def _assignee(context: PublishContext, scope_type: str, scope: str) -> tuple[str, str]:
    owner_id, owner_name = context.owner(scope_type, scope)
    state = context.owner_state(scope_type, scope)
    if state is not None and getattr(state, "flagged", False):
        acting = state.acting_owner or ""
        words = {"missing": "is missing", "inactive": "is inactive",
                 "not_found": "is not found"}.get(state.state, state.state)
        note = (f"The owner {state.owner_label} {words}; acting owner: {state.acting_label}.")
        return acting, note
    if not owner_id:
        return "", "No owner is named in the portfolio."
    return owner_id, f"Owner: {owner_name} ({owner_id})."


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _project(portfolio: Any, spec: ImprovementSpec, product: str) -> str:
    if spec.jira.project:
        return spec.jira.project
    found = portfolio.product(product) if portfolio is not None else None
    return found.jira_projects[0] if found is not None and found.jira_projects else ""


def _item(episode: Episode, spec: ImprovementSpec, context: PublishContext,
          portfolio: Any) -> ImprovementItem:
    last = episode.results[-1]
    first = episode.results[0]
    scope_name = context.scope_name(last.scope_type, last.scope)
    periods = []
    for result in episode.results:
        links = context.evidence(result)
        url = next((x.url for x in links if not x.long), links[0].url if links else "")
        periods.append((result.period, _value_text(result), result.status, url))
    missed = sum(1 for r in episode.results if r.status == "missed")
    breakdown = "" if last.breakdown in ("", "all") else f" [{last.breakdown}]"
    title = (f"Improve {last.name}{breakdown} of {scope_name}: target {last.target} missed "
             f"in {missed} complete period{'s' if missed != 1 else ''} since {first.period}")
    assignee, note = _assignee(context, last.scope_type, last.scope)
    item = ImprovementItem(
        action=CREATE, key=item_key(last.series_key, episode.first_missed),
        platform=PLATFORM_OF_SCOPE.get(last.scope_type, "servicenow"), reason="",
        indicator=last.indicator, name=last.name, scope_type=last.scope_type,
        scope=last.scope, breakdown=last.breakdown or "all", scope_name=scope_name,
        target=last.target, title=title, periods=tuple(periods), assignee=assignee,
        assignee_note=note,
        project=_project(portfolio, spec, last.scope) if last.scope_type == "product" else "")
    return _with(item, digest=_digest(item.title, item.periods, item.assignee, note))


def _with(item: ImprovementItem, **changes: Any) -> ImprovementItem:
    values = {name: getattr(item, name) for name in item.__dataclass_fields__}
    values.update(changes)
    return ImprovementItem(**values)


def _resolution_note(episode: Episode, spec: ImprovementSpec) -> str:
    met = episode.results[-spec.resolve_when.met:]
    shown = ", ".join(f"{r.period}: {_value_text(r)}" for r in met)
    return (f"Target {met[-1].target} met again in {len(met)} consecutive complete periods "
            f"({shown}); resolved by fiveo-sync.")


def plan_series(results: list[IndicatorResult], spec: ImprovementSpec, now: datetime,
                held: Mapping[str, HeldItem], context: PublishContext,
                portfolio: Any = None) -> list[ImprovementItem]:
    """The item decisions of one series (see the module docstring)."""
    out: list[ImprovementItem] = []
    for episode in find_episodes(results, spec, now):
        item = _item(episode, spec, context, portfolio)
        # ServiceNow items are held by key; Jira items by their label (the key's hash).
        found = held.get(item.key) or held.get(jira_label(item.key))
        if episode.resolved:
            if found is not None and not found.closed:
                out.append(_with(item, action=RESOLVE, ref=found.ref,
                                 note=_resolution_note(episode, spec),
                                 reason="target met again"))
            continue
        if found is None:
            out.append(_with(item, action=CREATE, reason="target missed: new episode"))
        elif found.closed:
            out.append(_with(item, action=LEAVE, ref=found.ref,
                             reason="closed on the platform: not re-created this episode"))
        elif found.digest == item.digest:
            out.append(_with(item, action=UNCHANGED, ref=found.ref, reason="unchanged"))
        else:
            out.append(_with(item, action=UPDATE, ref=found.ref,
                             reason="still missed: latest periods"))
    return out


def plan_improvements(results: Iterable[IndicatorResult], spec: ImprovementSpec | None,
                      now: datetime, held: Mapping[str, HeldItem], *,
                      context: PublishContext | None = None,
                      portfolio: Any = None) -> list[ImprovementItem]:
    """Every item decision over the stored result history, sorted by key.

    Args:
        results: the result history (every period of every series).
        spec: the improvement file, or None (nothing planned).
        now: aware UTC; periods ending after it are partial and never count.
        held: the items the platforms hold, by key (both platforms together).
        context: scope names, owners, owners who left, evidence links.
        portfolio: for each product's Jira project.

    Returns:
        The decisions; an item whose platform has no place for it (a product without a
        Jira project) is left out.
    """
    if spec is None or not spec.enabled:
        return []
    context = context or PublishContext()
    series: dict[str, list[IndicatorResult]] = defaultdict(list)
    for result in results:
        if result.scope_type in PLATFORM_OF_SCOPE and spec.covers(
                result.indicator, result.o, result.breakdown):
            series[result.series_key].append(result)
    items = [item for key in sorted(series)
             for item in plan_series(series[key], spec, now, held, context, portfolio)]
    return [i for i in items if i.platform != "jira" or i.project]
