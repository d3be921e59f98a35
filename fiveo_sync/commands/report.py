"""``fiveo-sync report``: show owner views from the state store.

``--format table`` (default) prints one block per view, grouped by O (``--group-by
characteristic`` or ``dimension`` regroups it), with status colours when stdout is a terminal
and ``NO_COLOR`` is unset; ``json`` prints the views as JSON on
stdout; ``html`` writes the self-contained dashboard to ``--out``. ``--view`` and ``--scope``
narrow the views shown. Makes no network call.

Every format leads with the last complete period of each series and shows the current
period to date beside it, marked partial (``docs/owner-views.md``); owners appear by display
name with their id, and values carry links to the records they were computed from.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, TextIO

from fiveo_sync.element_status import group_of, group_order
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import EXIT_OK
from fiveo_sync.report.html import write_dashboard
from fiveo_sync.report.portfolio import group_label
from fiveo_sync.state import StateStore
from fiveo_sync.views import O_ORDER, SeriesRow, View, load_owner_views

_COLOURS = {"met": "32", "at_risk": "33", "missed": "31", "no_data": "90",
            "insufficient_data": "36"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``report``."""
    parser.add_argument("--format", choices=("table", "json", "html"), default="table")
    parser.add_argument("--view", choices=("service", "product"), default=None,
                        help="only service or only product views")
    parser.add_argument("--scope", metavar="NAME", default=None,
                        help="only the view of this service or product id")
    parser.add_argument("--group-by", choices=("o", "characteristic", "dimension"), default="o",
                        help="group each view's table by O (default), by characteristic "
                             "(quality, availability, …) or by ITIL dimension")
    parser.add_argument("--out", metavar="DIR", type=Path, default=Path("fiveo-report"),
                        help="output folder of --format html (default: ./fiveo-report)")


def select_views(views: list[View], kind: str | None, scope: str | None) -> list[View]:
    """Views filtered by kind and id."""
    return [v for v in views if (kind is None or v.kind == kind)
            and (scope is None or v.id == scope)]


def _result_json(result: Any, links: list[Any]) -> dict[str, Any] | None:
    if result is None:
        return None
    data = result.to_dict()
    data["evidence_links"] = [link.to_dict() for link in links]
    return data


def _row_json(row: SeriesRow) -> dict[str, Any]:
    return {"series_key": row.series_key, "status": row.status,
            "scope_name": row.scope_name or None,
            "headline": _result_json(row.headline, row.headline_links),
            "partial": _result_json(row.partial, row.partial_links)}


def views_to_json(views: list[View]) -> list[dict[str, Any]]:
    """JSON-able views.

    Each view has ``series``: per series the ``headline`` (last complete period, which
    decides ``status``) and the ``partial`` current period to date, each a full result with
    its ``evidence_links``; ``results`` (the headline results) and ``history`` as
    ``[period, value, status]``; the owner's id and display name; ``ownership``: whether
    the owner is active, missing, inactive or not found, since when, and the acting owner.
    """
    return [{"kind": v.kind, "id": v.id, "name": v.name, "owner": v.owner,
             "owner_name": getattr(v, "owner_name", None) or v.owner,
             "as_of": v.now.strftime("%Y-%m-%dT%H:%M:%SZ") if getattr(v, "now", None) else None,
             "linked": v.linked,
             "linked_names": dict(getattr(v, "linked_names", None) or {}),
             "ownership": v.ownership.to_dict() if getattr(v, "ownership", None) else None,
             "series": [_row_json(row) for row in getattr(v, "rows", ())],
             "results": [r.to_dict() for r in v.results],
             "history": {k: [list(p) for p in items] for k, items in v.history.items()}}
            for v in views]


def _value(result: Any) -> str:
    if result is None or result.value is None:
        return "–"
    return f"{result.value:.2f} {result.unit}".rstrip()


def _person(ident: str | None, name: str | None) -> str:
    if not ident:
        return "–"
    return f"{name} ({ident})" if name and name != ident else ident


def _partial_text(row: SeriesRow) -> str:
    if row.partial is None:
        return ""
    return f"{row.partial.period} to date: {_value(row.partial)} (partial)"


def _evidence_text(row: SeriesRow) -> str:
    links = row.headline_links if row.headline is not None else row.partial_links
    return f"[{', '.join(link.label for link in links)}]" if links else ""


def render_table(views: list[View], colour: bool, group_by: str = "o") -> str:
    """Plain-text tables, one per view, grouped by O, characteristic or ITIL dimension."""
    lines: list[str] = []
    for view in views:
        owner = _person(view.owner, getattr(view, "owner_name", None))
        lines.append(f"== {view.kind} {view.name} ({view.id}), owner: {owner}")
        ownership = getattr(view, "ownership", None)
        if ownership is not None and ownership.flagged:
            flag = f"! {ownership.sentence()}"
            lines.append(f"  \x1b[31m{flag}\x1b[0m" if colour else f"  {flag}")
        if getattr(view, "now", None) is not None:
            lines.append(f"  last complete period first, as of {view.now:%Y-%m-%d %H:%M} UTC;"
                         " the current period to date is partial and decides no status")
        for group, rows in _grouped_rows(view.rows, group_by):
            lines.append(f"  {group_label(group)}")
            for row in rows:
                lines.append(_table_line(row, colour))
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "no views\n")


def _grouped_rows(rows: list[SeriesRow], group_by: str) -> list[tuple[str, list[SeriesRow]]]:
    """The rows per group, in the grouping's order; groups without rows are left out."""
    present = {group_of(r.lead, group_by) for r in rows}
    order = ([*O_ORDER, *sorted(present - set(O_ORDER))] if group_by == "o"
             else group_order(group_by, present))
    grouped = [(g, [r for r in rows if group_of(r.lead, group_by) == g]) for g in order]
    return [(g, members) for g, members in grouped if members]


def _table_line(row: SeriesRow, colour: bool) -> str:
    lead, head = row.lead, row.headline
    status = row.status.replace("no_complete_period", "no complete period")
    pad = " " * max(0, 18 - len(status))
    if colour:
        status = f"\x1b[{_COLOURS.get(row.status, '0')}m{status}\x1b[0m"
    name = row.scope_name or lead.scope
    scope = name if lead.breakdown == "all" else f"{name} {lead.breakdown}"
    period = head.period if head is not None else "–"
    trend = head.trend if head is not None else "none"
    extra = "  ".join(t for t in (_partial_text(row), _evidence_text(row)) if t)
    return (f"    {lead.indicator:<38} {scope:<24} {period:<10} {_value(head):>12}  "
            f"{lead.target:<16} {status}{pad} {trend:<10} {extra}").rstrip()


def _wants_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Build views from stored results and show them in the chosen format.

    Returns:
        0.
    """
    from fiveo_sync.outputs import (  # imports this module
        improvement_manager_label,
        open_improvement_items,
    )

    settings = ctx.settings
    mappings = load_mappings(settings.mappings.dir)
    with StateStore(settings.state.path) as store:
        views = load_owner_views(store, mappings.portfolio, settings, ctx.clock())
        manager = improvement_manager_label(store, mappings.portfolio)
        improvements = open_improvement_items(store, mappings)
    views = select_views(views, args.view, args.scope)
    if args.format == "json":
        ctx.out.write(json.dumps(views_to_json(views), indent=2, sort_keys=True,
                                 ensure_ascii=False) + "\n")
    elif args.format == "html":
        written = write_dashboard(views, args.out, generated_at=ctx.clock(),
                                  improvement_manager=manager, improvements=improvements)
        ctx.out.write(f"wrote {len(written)} files to {args.out}\n")
    else:
        ctx.out.write(render_table(views, _wants_colour(ctx.out), args.group_by))
    if ctx.log is not None:
        ctx.log.info("report_written", format=args.format, views=len(views),
                     results=sum(len(v.results) for v in views))
    return EXIT_OK
