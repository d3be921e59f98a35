"""The portfolio heatmaps: services and products × the O's, characteristics and dimensions.

Each cell sums up one group (an O, a characteristic such as availability, or an ITIL
dimension) for one service or product: its colour is the most telling status among the
element's own headline series in that group (:mod:`fiveo_sync.element_status`). A bar in
the cell shows the share of each status, its tooltip counts them and names the missed
indicators, and it links to the group on the owner's page (``#o-operate``,
``#c-availability``, ``#d-partners_and_suppliers``), so a governance board sees the whole
estate at once and can drill in to the evidence. A row whose owner left carries a flag; the
last column counts the element's open improvement items and links to the governance page.
Text is escaped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from fiveo_sync.element_status import (
    O_ORDER,
    STATUS_ORDER,
    cell_status,
    group_of,
    group_order,
    headline_items,
    item_status,
)
from fiveo_sync.report.governance import build_owner_flag

__all__ = ["GROUPING_TITLES", "build_portfolio_body", "cell_status", "group_anchor",
           "group_label", "headline_items", "headline_results", "item_status"]

_LABELS = {"missed": "missed", "at_risk": "at risk", "met": "met",
           "insufficient_data": "insufficient data", "no_data": "no data",
           "no_complete_period": "no complete period"}
_BAR_ORDER = ("met", "at_risk", "missed", "insufficient_data", "no_data", "no_complete_period")
GROUPING_TITLES = {"o": "the five O's", "characteristic": "characteristics",
                   "dimension": "ITIL dimensions"}
_ANCHOR_PREFIX = {"o": "o", "characteristic": "c", "dimension": "d"}


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def group_label(group: str) -> str:
    """``partners_and_suppliers`` → ``Partners and suppliers``."""
    return group.replace("_", " ").capitalize()


def group_anchor(grouping: str, group: str) -> str:
    """The anchor of a group's section on an owner's page (``c-availability``)."""
    return f"{_ANCHOR_PREFIX[grouping]}-{group}"


def headline_results(view: Any) -> list[tuple[str, str]]:
    """``(o, status)`` of the view's own headline series: its scope, the ``all`` breakdown.

    Reads the view's ``rows`` (headline and partial per series; a series with no complete
    period yet has the status ``no_complete_period``) when it has them, else its results.
    """
    return [(getattr(i, "lead", i).o, item_status(i)) for i in headline_items(view)]


def _counts(tally: Counter) -> str:
    return ", ".join(f"{tally[s]} {_LABELS[s]}" for s in STATUS_ORDER if tally.get(s))


def _bar(tally: Counter) -> str:
    total = sum(tally.values())
    segments = "".join(f'<span class="seg status-{s}" style="width:{100 * tally[s] / total:.1f}%">'
                       "</span>" for s in _BAR_ORDER if tally.get(s))
    return f'<span class="bar" aria-hidden="true">{segments}</span>'


def _cell(view: Any, filename: str, grouping: str, group: str, items: Sequence[Any]) -> str:
    members = [i for i in items if group_of(getattr(i, "lead", i), grouping) == group]
    worst, tally = cell_status(item_status(i) for i in members)
    name, label = view.name or view.id, group_label(group)
    data = f'data-grouping="{grouping}" data-group="{_text(group)}"'
    if grouping == "o":
        data += f' data-o="{_text(group)}"'
    if worst == "none":
        return (f'<td class="cell heat status-none" {data} '
                f'title="{_text(f"{name} · {group}: no indicators")}">–</td>')
    total = sum(tally.values())
    rated = worst in ("missed", "at_risk", "met")
    head = f"{tally[worst]} of {total} {_LABELS[worst]}" if rated else _LABELS[worst]
    parts = [f"{tally[s]} {_LABELS[s]}" for s in ("met", "at_risk", "missed") if tally.get(s)]
    unrated = total - sum(tally[s] for s in ("met", "at_risk", "missed"))
    if unrated and rated:  # the tooltip says which: no data, insufficient, no complete period
        parts.append(f"{unrated} not rated")
    detail = " · ".join(parts) or _counts(tally)
    missed = [getattr(i, "lead", i) for i in members if item_status(i) == "missed"]
    tip = f"{name} · {label}: {_counts(tally)}"
    if missed:
        tip += "; missed: " + ", ".join(r.name or r.indicator for r in missed)
    href = f"{filename}#{group_anchor(grouping, group)}"
    return (f'<td class="cell heat status-{worst}" {data} title="{_text(tip)}">'
            f'<a href="{_text(href)}">{_text(head)}'
            f"<small>{_text(detail)}</small>{_bar(tally)}</a></td>")


def _open_items_cell(view: Any, open_items: Mapping[tuple[str, str], int] | None) -> str:
    if open_items is None:
        return ""
    count = open_items.get((view.kind, view.id), 0)
    if not count:
        return '<td class="open-items" data-open-items="0">–</td>'
    return (f'<td class="open-items" data-open-items="{count}">'
            f'<a href="governance.html#improvements">{count} open</a></td>')


def _table(kind: str, grouping: str, groups: Sequence[str], entries: Sequence[tuple[Any, str]],
           open_items: Mapping[tuple[str, str], int] | None) -> str:
    rows = []
    for view, filename in entries:
        if view.kind != kind:
            continue
        items = headline_items(view)
        cells = "".join(_cell(view, filename, grouping, g, items) for g in groups)
        rows.append(f'<tr data-view="{_text(view.id)}"><th scope="row">'
                    f'<a href="{_text(filename)}">{_text(view.name or view.id)}</a>'
                    f"{build_owner_flag(view)}"
                    f"<small>{_text(getattr(view, 'owner_name', None) or view.owner or '')}"
                    f"</small></th>{cells}{_open_items_cell(view, open_items)}</tr>")
    title = "Services" if kind == "service" else "Products"
    section_id = f"heatmap-{kind}" if grouping == "o" else f"heatmap-{kind}-{grouping}"
    if not rows:
        return (f'<section class="o heatmap" id="{section_id}"><h2>{title}</h2>'
                f'<p class="empty">No {kind} views.</p></section>')
    header = "".join(f'<th scope="col">{_text(group_label(g))}</th>' for g in groups)
    if open_items is not None:
        header += '<th scope="col">Open items</th>'
    return (f'<section class="o heatmap" id="{section_id}" data-grouping="{grouping}">'
            f"<h2>{title} × {GROUPING_TITLES[grouping]}"
            f'<span class="tally">{len(rows)} {kind}s</span></h2>'
            f'<table class="heatmap"><thead><tr><th scope="col">{title[:-1]}</th>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _groups(grouping: str, entries: Sequence[tuple[Any, str]]) -> list[str]:
    if grouping == "o":
        present = {getattr(i, "lead", i).o for view, _ in entries for i in headline_items(view)}
        return list(O_ORDER) + sorted(present - set(O_ORDER))
    present = {group_of(getattr(i, "lead", i), grouping)
               for view, _ in entries for i in headline_items(view)}
    return group_order(grouping, present)


def build_portfolio_body(entries: Sequence[tuple[Any, str]], *,
                         improvements: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The heatmap sections of the portfolio page.

    Args:
        entries: ``(view, filename)`` of every view page, services and products.
        improvements: the open improvement items (dicts with ``scope_type``, ``scope``),
            counted per element in an extra column; None leaves the column out.

    Returns:
        HTML for the page's ``<main>``: a legend, then services and products × the five
        O's, × the characteristics and × the ITIL dimensions.
    """
    open_items = None if improvements is None else Counter(
        (str(i.get("scope_type")), str(i.get("scope"))) for i in improvements)
    legend = "".join(f'<span class="heat status-{s}">{_text(_LABELS[s])}</span>'
                     for s in STATUS_ORDER)
    intro = ("<p class=\"legend\">Each cell is the most telling status of a group's headline "
             "indicators, each read at its last complete period (missed, then at risk, then "
             f"met): {legend} The bar shows the share of each status (\"not rated\": no data, "
             "insufficient data or no complete period yet); hover a cell for the counts and "
             "the missed indicators, click it for that group on the owner's page.</p>")
    nav = ("<p class=\"legend\">Group by: " + " · ".join(
        f'<a href="#by-{g}">{_text(t)}</a>' for g, t in GROUPING_TITLES.items()) + "</p>")
    sections = []
    for grouping in GROUPING_TITLES:
        groups = _groups(grouping, entries)
        sections.append(f'<div class="grouping" id="by-{grouping}">'
                        + _table("service", grouping, groups, entries, open_items)
                        + _table("product", grouping, groups, entries, open_items) + "</div>")
    return intro + nav + "".join(sections)
