"""The portfolio heatmap: services × the five O's and products × the five O's, by status.

Each cell sums up one O for one service (or product): its colour is the most telling status
among that O's headline indicators — the view's own results (``scope`` is the service or
product itself, breakdown ``all``) — in the order missed, at risk, met, insufficient data, no
data. Its tooltip counts each status, and it links to that O's section on the owner's page,
so a governance board sees the whole estate at once and can drill in. Text is escaped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
STATUS_ORDER = ("missed", "at_risk", "met", "insufficient_data", "no_data")
_LABELS = {"missed": "missed", "at_risk": "at risk", "met": "met",
           "insufficient_data": "insufficient data", "no_data": "no data"}


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def headline_results(view: Any) -> list[Any]:
    """The view's own headline results: its scope, the ``all`` breakdown."""
    return [r for r in view.results
            if r.scope_type == view.kind and r.scope == view.id
            and (r.breakdown or "all") == "all"]


def cell_status(statuses: Iterable[str]) -> tuple[str, Counter]:
    """The most telling status of a set of results and the count of each status.

    Returns:
        ``("none", Counter())`` when there is no result at all.
    """
    tally = Counter(s if s in STATUS_ORDER else "no_data" for s in statuses)
    worst = next((s for s in STATUS_ORDER if tally.get(s)), "none")
    return worst, tally


def _counts(tally: Counter) -> str:
    return ", ".join(f"{tally[s]} {_LABELS[s]}" for s in STATUS_ORDER if tally.get(s))


def _cell(view: Any, filename: str, o: str, results: Sequence[Any]) -> str:
    worst, tally = cell_status(r.status for r in results if r.o == o)
    name = view.name or view.id
    if worst == "none":
        return (f'<td class="cell heat status-none" data-o="{o}" '
                f'title="{_text(f"{name} · {o}: no indicators")}">–</td>')
    short = " · ".join(f"{tally[s]} {_LABELS[s]}" for s in ("met", "at_risk", "missed")
                       if tally.get(s))
    tip = f"{name} · {o.capitalize()}: {_counts(tally)}"
    return (f'<td class="cell heat status-{worst}" data-o="{o}" title="{_text(tip)}">'
            f'<a href="{_text(filename)}#o-{o}">{_text(_LABELS[worst])}'
            f"<small>{_text(short or _counts(tally))}</small></a></td>")


def _table(kind: str, entries: Sequence[tuple[Any, str]]) -> str:
    rows = []
    for view, filename in entries:
        if view.kind != kind:
            continue
        results = headline_results(view)
        cells = "".join(_cell(view, filename, o, results) for o in O_ORDER)
        rows.append(f'<tr data-view="{_text(view.id)}"><th scope="row">'
                    f'<a href="{_text(filename)}">{_text(view.name or view.id)}</a>'
                    f"<small>{_text(view.owner or '')}</small></th>{cells}</tr>")
    title = "Services" if kind == "service" else "Products"
    if not rows:
        return (f'<section class="o heatmap" id="heatmap-{kind}"><h2>{title}</h2>'
                f'<p class="empty">No {kind} views.</p></section>')
    header = "".join(f'<th scope="col">{o.capitalize()}</th>' for o in O_ORDER)
    return (f'<section class="o heatmap" id="heatmap-{kind}"><h2>{title} × the five O\'s'
            f'<span class="tally">{len(rows)} {kind}s</span></h2>'
            f'<table class="heatmap"><thead><tr><th scope="col">{title[:-1]}</th>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def build_portfolio_body(entries: Sequence[tuple[Any, str]]) -> str:
    """The heatmap sections of the portfolio page.

    Args:
        entries: ``(view, filename)`` of every view page, services and products.

    Returns:
        HTML for the page's ``<main>``: a legend, the services and the products heatmaps.
    """
    legend = "".join(f'<span class="heat status-{s}">{_text(_LABELS[s])}</span>'
                     for s in STATUS_ORDER)
    intro = ("<p class=\"legend\">Each cell is the most telling status of that O's headline "
             f"indicators (missed, then at risk, then met): {legend}Hover a cell for the "
             "counts; click it for the owner's page.</p>")
    return intro + _table("service", entries) + _table("product", entries)
