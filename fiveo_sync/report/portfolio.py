"""The portfolio heatmap: services × the five O's and products × the five O's, by status.

Each cell sums up one O for one service (or product): its colour is the most telling status
among that O's headline indicators — the view's own series (``scope`` is the service or
product itself, breakdown ``all``), each with the status of its last complete period — in
the order missed, at risk, met, insufficient data, no data, no complete period. A bar in the
cell shows the share of each status, its tooltip counts them, and it links to that O's
section on the owner's page, so a governance board sees the whole estate at once and can
drill in. A row whose owner left carries a flag (``owner inactive``). Text is escaped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from fiveo_sync.report.governance import build_owner_flag

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
STATUS_ORDER = ("missed", "at_risk", "met", "insufficient_data", "no_data",
                "no_complete_period")
_LABELS = {"missed": "missed", "at_risk": "at risk", "met": "met",
           "insufficient_data": "insufficient data", "no_data": "no data",
           "no_complete_period": "no complete period"}
_BAR_ORDER = ("met", "at_risk", "missed", "insufficient_data", "no_data", "no_complete_period")


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def headline_results(view: Any) -> list[tuple[str, str]]:
    """``(o, status)`` of the view's own headline series: its scope, the ``all`` breakdown.

    Reads the view's ``rows`` (headline and partial per series; a series with no complete
    period yet has the status ``no_complete_period``) when it has them, else its results.
    """
    out = []
    for item in getattr(view, "rows", None) or view.results:
        r = getattr(item, "lead", item)
        if r.scope_type == view.kind and r.scope == view.id and (r.breakdown or "all") == "all":
            out.append((r.o, str(getattr(item, "status", None) or "no_complete_period")))
    return out


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


def _bar(tally: Counter) -> str:
    total = sum(tally.values())
    segments = "".join(f'<span class="seg status-{s}" style="width:{100 * tally[s] / total:.1f}%">'
                       "</span>" for s in _BAR_ORDER if tally.get(s))
    return f'<span class="bar" aria-hidden="true">{segments}</span>'


def _cell(view: Any, filename: str, o: str, results: Sequence[tuple[str, str]]) -> str:
    worst, tally = cell_status(status for result_o, status in results if result_o == o)
    name = view.name or view.id
    if worst == "none":
        return (f'<td class="cell heat status-none" data-o="{o}" '
                f'title="{_text(f"{name} · {o}: no indicators")}">–</td>')
    total = sum(tally.values())
    rated = worst in ("missed", "at_risk", "met")
    head = f"{tally[worst]} of {total} {_LABELS[worst]}" if rated else _LABELS[worst]
    parts = [f"{tally[s]} {_LABELS[s]}" for s in ("met", "at_risk", "missed") if tally.get(s)]
    unrated = total - sum(tally[s] for s in ("met", "at_risk", "missed"))
    if unrated and rated:  # the tooltip says which: no data, insufficient, no complete period
        parts.append(f"{unrated} not rated")
    detail = " · ".join(parts) or _counts(tally)
    tip = f"{name} · {o.capitalize()}: {_counts(tally)}"
    return (f'<td class="cell heat status-{worst}" data-o="{o}" title="{_text(tip)}">'
            f'<a href="{_text(filename)}#o-{o}">{_text(head)}'
            f"<small>{_text(detail)}</small>{_bar(tally)}</a></td>")


def _table(kind: str, entries: Sequence[tuple[Any, str]]) -> str:
    rows = []
    for view, filename in entries:
        if view.kind != kind:
            continue
        results = headline_results(view)
        cells = "".join(_cell(view, filename, o, results) for o in O_ORDER)
        rows.append(f'<tr data-view="{_text(view.id)}"><th scope="row">'
                    f'<a href="{_text(filename)}">{_text(view.name or view.id)}</a>'
                    f"{build_owner_flag(view)}"
                    f"<small>{_text(getattr(view, 'owner_name', None) or view.owner or '')}"
                    f"</small></th>{cells}</tr>")
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
             "indicators, each read at its last complete period (missed, then at risk, then "
             f"met): {legend} The bar shows the share of each status (\"not rated\": no data, "
             "insufficient data or no complete period yet); hover a cell for the counts, "
             "click it for the owner's page.</p>")
    return intro + _table("service", entries) + _table("product", entries)
