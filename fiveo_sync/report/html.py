"""The self-contained HTML dashboard: one page per owner view, a portfolio page, an index.

Each view page has a chart per series (:mod:`fiveo_sync.report.chart`); the portfolio page
is the services and products × five O's, characteristics and ITIL dimensions heatmap
(:mod:`fiveo_sync.report.portfolio`), and each view page ends with its series regrouped the
same way (:mod:`fiveo_sync.report.view_groups`); the
governance page lists the elements whose owner left (:mod:`fiveo_sync.report.governance`),
and such an element's page opens with a banner.
Each page works offline: CSS is inlined, charts are inline SVG, there are no scripts,
and a Content-Security-Policy forbids loading anything else. Every piece of text that comes
from data (service and product names, owners, indicator names, targets) goes through
:func:`html.escape`, so a service named ``<script>alert(1)</script>`` shows as text.

Views come from ``fiveo_sync.views.build_views`` (``kind``, ``id``, ``name``, ``owner``,
``results``, ``history``, ``linked``); any object with those attributes works. A view with
``rows`` (``views.SeriesRow``) shows each series' last complete period first, the period to
date beside it (partial), and evidence links to the counted records; ``owner_name`` and
``linked_names`` show people and scopes by name with the id as a tooltip.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from fiveo_sync.report.chart import build_chart_figure, build_chart_legend, chart_anchor
from fiveo_sync.report.governance import build_governance_body, build_owner_banner
from fiveo_sync.report.portfolio import build_portfolio_body
from fiveo_sync.report.view_groups import build_group_section
from fiveo_sync.writers.servicenow import format_number

O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
TREND_MARKS = {"improving": "▲ improving", "worsening": "▼ worsening", "stable": "► stable",
               "none": "–"}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _css() -> str:
    return resources.files("fiveo_sync.report").joinpath("dashboard.css").read_text("utf-8")


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "view"


def value_text(result: Any) -> str:
    """A result's value with its unit, or ``no data``."""
    if result.value is None:
        return "no data"
    number = format_number(result.value)
    return f"{number}%" if result.unit == "%" else f"{number} {result.unit}".strip()


def _scope_title(item: Any, result: Any) -> str:
    name = getattr(item, "scope_name", "")
    return f' title="{_text(result.scope)}"' if name and name != result.scope else ""


def _scope_text(result: Any, item: Any = None) -> str:
    scope = f"{result.scope_type} {getattr(item, 'scope_name', '') or result.scope}"
    if result.view == "combined":
        scope += " (combined)"
    if result.breakdown and result.breakdown != "all":
        scope += f" · {result.breakdown}"
    return scope


def _evidence_html(links: Sequence[Any]) -> str:
    """Evidence links (``evidence_links.EvidenceLink``) as anchors, or a dash."""
    if not links:
        return "–"
    return " ".join(
        f'<a class="evidence" href="{_text(link.url)}" rel="noreferrer" '
        f'title="{_text(link.query if len(link.query) <= 300 else link.query[:300] + "…")}">'
        f"{_text(link.label)}</a>" for link in links)


def _partial_html(item: Any) -> str:
    partial = getattr(item, "partial", None)
    if partial is None:
        return "–"
    links = _evidence_html(getattr(item, "partial_links", ()))
    return (f'<span class="partial">{_text(partial.period)} to date: '
            f"{_text(value_text(partial))} (partial)</span>"
            + (f" <small>{links}</small>" if links != "–" else ""))


def _status_of(item: Any) -> str:
    return getattr(item, "status", None) or "no_complete_period"


def _row(item: Any, history: dict[str, Any]) -> str:
    result = getattr(item, "lead", item)
    head = getattr(item, "headline", item)  # a plain result is its own headline
    status = _slug(_status_of(item)).replace("-", "_")
    trend = head.trend if head is not None and head.trend in TREND_MARKS else "none"
    anchor = chart_anchor(getattr(result, "series_key", result.indicator))
    spark = f'<a class="to-chart" href="#{_text(anchor)}">chart</a>'
    links = getattr(item, "headline_links", ())
    return (f'<tr class="status-{status}" data-indicator="{_text(result.indicator)}">'
            f"<td>{_text(result.name or result.indicator)}"
            f"<small>{_text(result.indicator)}</small></td>"
            f"<td{_scope_title(item, result)}>{_text(_scope_text(result, item))}</td>"
            f"<td>{_text(head.period if head is not None else '–')}</td>"
            f'<td class="value">{_text(value_text(head) if head is not None else "–")}</td>'
            f"<td>{_text(result.target or '–')}</td>"
            f'<td><span class="badge status-{status}">'
            f"{_text(_status_of(item).replace('_', ' '))}</span></td>"
            f'<td class="trend-{trend}">{_text(TREND_MARKS[trend])}</td>'
            f"<td>{_partial_html(item)}</td><td>{_evidence_html(links)}</td>"
            f"<td>{spark}</td><td>{_text(', '.join(result.sources))}</td></tr>")


def _charts(items: Sequence[Any], history: dict[str, Any], now: datetime | None) -> str:
    """One chart per series; ``items`` are results or ``views.SeriesRow`` (headline+partial)."""
    figures = []
    for item in items:
        result = getattr(item, "lead", item)
        key = getattr(item, "series_key", result.indicator)
        partial = getattr(item, "partial", None)
        marked = {partial.period} if partial is not None else None
        caption = f"{result.name or result.indicator} · {_scope_text(result, item)}"
        figures.append(build_chart_figure(result, history.get(key, ()), now=now,
                                          anchor=chart_anchor(key), caption=caption,
                                          partial=marked))
    return f'<div class="charts">{"".join(figures)}</div>'


def _section(o: str, results: Sequence[Any], history: dict[str, Any],
             now: datetime | None = None) -> str:
    tally = Counter(_status_of(r) for r in results)
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(tally.items()))
    head = (f'<section class="o" id="o-{o}"><h2>{_text(o.capitalize())}'
            f'<span class="tally">{_text(counts)}</span></h2>')
    if not results:
        return head + '<p class="empty">No indicators in this view.</p></section>'
    header = "".join(f"<th>{h}</th>" for h in ("Indicator", "Scope", "Complete period",
                                                "Value", "Target", "Status", "Trend",
                                                "To date (partial)", "Evidence", "Chart",
                                                "Source"))
    rows = "".join(_row(r, history) for r in results)
    return (f"{head}<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
            f"{_charts(results, history, now)}</section>")


def _page(title: str, heading: str, lines: Iterable[str], body: str, stamp: str) -> str:
    meta = "".join(f"<p>{line}</p>" for line in lines)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_text(title)}</title><style>{_css()}</style></head><body>"
            f"<header><h1>{heading}</h1>{meta}</header><main>{body}</main>"
            f"<footer>{_text(stamp)}</footer></body></html>\n")


def _person_html(ident: Any, name: Any) -> str:
    """A display name with the id as a tooltip (and beside it), or the id alone."""
    if not ident:
        return "not set"
    if name and str(name) != str(ident):
        return f'<span title="{_text(ident)}">{_text(name)}</span> <small>({_text(ident)})</small>'
    return _text(ident)


def build_view_page(view: Any, *, title: str, stamp: str, now: datetime | None = None) -> str:
    """The HTML of one owner view: the five O's as sections of indicator rows and charts.

    ``now`` is the moment the page describes: a period still running then is drawn partial.
    """
    history = dict(getattr(view, "history", None) or {})
    now = getattr(view, "now", None) or now
    results = list(getattr(view, "rows", None) or view.results)
    kind = str(view.kind).capitalize()
    lines = [f"Owner: {_person_html(view.owner, getattr(view, 'owner_name', None))}"]
    linked = list(getattr(view, "linked", None) or ())
    if linked:
        other = "Products" if view.kind == "service" else "Services"
        names = dict(getattr(view, "linked_names", None) or {})
        lines.append(f"{other} linked: "
                     + ", ".join(_person_html(i, names.get(i)) for i in map(str, linked)))
    if getattr(view, "rows", None):
        lines.append("Each row leads with the last complete period and its status; the "
                     "current period to date is shown beside it, partial, and decides no "
                     "status.")
    lines.append(build_chart_legend())
    lines.append('<nav><a href="index.html">← all views</a></nav>')
    extra = sorted({getattr(r, "lead", r).o for r in results} - set(O_ORDER))
    sections = "".join(_section(o, [r for r in results if getattr(r, "lead", r).o == o],
                                history, now)
                       for o in (*O_ORDER, *extra))
    heading = f"{_text(kind)}: {_text(view.name or view.id)}"
    return _page(f"{view.name or view.id} — {title}", heading, lines,
                 build_owner_banner(view) + sections + build_group_section(view), stamp)


def build_index_page(entries: Sequence[tuple[Any, str]], *, title: str, stamp: str) -> str:
    """The index: every view with a link and its status tally."""
    rows = []
    for view, filename in entries:
        tally = Counter(r.status for r in view.results)
        cells = "".join(f'<td><span class="badge status-{s}">{tally.get(s, 0)}</span></td>'
                        for s in ("met", "at_risk", "missed", "no_data"))
        rows.append(f"<tr><td>{_text(view.kind)}</td>"
                    f'<td><a href="{_text(filename)}">{_text(view.name or view.id)}</a></td>'
                    f"<td>{_person_html(view.owner, getattr(view, 'owner_name', None))}"
                    f"</td>{cells}</tr>")
    header = "".join(f"<th>{h}</th>" for h in ("View", "Name", "Owner", "Met", "At risk",
                                                "Missed", "No data"))
    body = (f'<section class="o" id="views"><h2>Owner views</h2><table><thead><tr>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")
    if not rows:
        body = '<section class="o"><p class="empty">No views yet: run a sync.</p></section>'
    lines = [f"{len(rows)} views",
             '<nav><a href="portfolio.html">Portfolio heatmap: every service and product '
             "× the five O's, the characteristics and the ITIL dimensions →</a></nav>",
             '<nav><a href="governance.html">Governance: services and products whose owner '
             "left →</a></nav>"]
    return _page(title, _text(title), lines, body, stamp)


def build_portfolio_page(entries: Sequence[tuple[Any, str]], *, title: str, stamp: str,
                         improvements: Sequence[Any] | None = None) -> str:
    """The portfolio page: services and products × the O's, characteristics and dimensions."""
    lines = ['<nav><a href="index.html">← all views</a></nav>']
    return _page(f"Portfolio — {title}", f"Portfolio: {_text(title)}", lines,
                 build_portfolio_body(entries, improvements=improvements), stamp)


def build_governance_page(entries: Sequence[tuple[Any, str]], *, title: str, stamp: str,
                          manager: str | None = None,
                          improvements: Sequence[Any] | None = None) -> str:
    """The governance page: owners who left (and the acting owner), open improvement items."""
    lines = ['<nav><a href="index.html">← all views</a></nav>']
    return _page(f"Governance — {title}", f"Governance: {_text(title)}", lines,
                 build_governance_body(entries, manager, improvements), stamp)


def write_dashboard(views: Iterable[Any], out_dir: str | Path, *,
                    title: str = "5 O dashboard",
                    generated_at: datetime | None = None,
                    improvement_manager: str | None = None,
                    improvements: Sequence[Any] | None = None) -> list[Path]:
    """Write a page per view, ``portfolio.html``, ``governance.html``, ``index.html``.

    Args:
        views: owner views (service and product), results latest-first per series.
        out_dir: the directory (created if missing).
        title: the dashboard title.
        generated_at: the moment shown in each footer (aware; now when None).
        improvement_manager: the continual improvement manager (``Name (id)``) named on
            the governance page, or None.
        improvements: the open improvement items for the governance page (None: the
            section is left out).

    Returns:
        The paths written, index last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC)
    stamp = f"Generated by fiveo-sync at {moment:%Y-%m-%d %H:%M} UTC"
    written: list[Path] = []
    entries: list[tuple[Any, str]] = []
    used: set[str] = set()
    ordered = sorted(views, key=lambda v: (v.kind != "service", str(v.name or v.id).lower()))
    for view in ordered:
        base = f"{_slug(view.kind)}-{_slug(view.id)}"
        filename, n = f"{base}.html", 1
        while filename in used or filename == "index.html":
            n += 1
            filename = f"{base}-{n}.html"
        used.add(filename)
        path = out / filename
        page = build_view_page(view, title=title, stamp=stamp, now=moment)
        path.write_text(page, encoding="utf-8")
        written.append(path)
        entries.append((view, filename))
    portfolio = out / "portfolio.html"
    portfolio.write_text(build_portfolio_page(entries, title=title, stamp=stamp,
                                             improvements=improvements),
                         encoding="utf-8")
    written.append(portfolio)
    governance = out / "governance.html"
    governance.write_text(build_governance_page(entries, title=title, stamp=stamp,
                                                manager=improvement_manager,
                                                improvements=improvements),
                          encoding="utf-8")
    written.append(governance)
    index = out / "index.html"
    index.write_text(build_index_page(entries, title=title, stamp=stamp), encoding="utf-8")
    written.append(index)
    return written
