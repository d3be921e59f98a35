"""``fiveo-sync report``: show owner views from the state store.

``--format table`` (default) prints one block per view, grouped by O, with status colours
when stdout is a terminal and ``NO_COLOR`` is unset; ``json`` prints the views as JSON on
stdout; ``html`` writes the self-contained dashboard to ``--out``. ``--view`` and ``--scope``
narrow the views shown. Makes no network call.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, TextIO

from fiveo_sync.compute import load_history
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import EXIT_OK
from fiveo_sync.report.html import write_dashboard
from fiveo_sync.state import StateStore
from fiveo_sync.views import O_ORDER, View, build_views

_COLOURS = {"met": "32", "at_risk": "33", "missed": "31", "no_data": "90",
            "insufficient_data": "36"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``report``."""
    parser.add_argument("--format", choices=("table", "json", "html"), default="table")
    parser.add_argument("--view", choices=("service", "product"), default=None,
                        help="only service or only product views")
    parser.add_argument("--scope", metavar="NAME", default=None,
                        help="only the view of this service or product id")
    parser.add_argument("--out", metavar="DIR", type=Path, default=Path("fiveo-report"),
                        help="output folder of --format html (default: ./fiveo-report)")


def select_views(views: list[View], kind: str | None, scope: str | None) -> list[View]:
    """Views filtered by kind and id."""
    return [v for v in views if (kind is None or v.kind == kind)
            and (scope is None or v.id == scope)]


def views_to_json(views: list[View]) -> list[dict[str, Any]]:
    """JSON-able views: the latest results in full, history as [period, value, status]."""
    return [{"kind": v.kind, "id": v.id, "name": v.name, "owner": v.owner,
             "linked": v.linked, "results": [r.to_dict() for r in v.results],
             "history": {k: [list(p) for p in items] for k, items in v.history.items()}}
            for v in views]


def _value(result: Any) -> str:
    if result.value is None:
        return "–"
    return f"{result.value:.2f} {result.unit}".rstrip()


def render_table(views: list[View], colour: bool) -> str:
    """Plain-text tables, one per view, grouped by O."""
    lines: list[str] = []
    for view in views:
        lines.append(f"== {view.kind} {view.name} ({view.id}), owner: {view.owner or '–'}")
        for o in O_ORDER:
            rows = [r for r in view.results if r.o == o]
            if not rows:
                continue
            lines.append(f"  {o.capitalize()}")
            for r in rows:
                status = r.status
                if colour:
                    status = f"\x1b[{_COLOURS.get(status, '0')}m{status}\x1b[0m"
                scope = r.scope if r.breakdown == "all" else f"{r.scope} {r.breakdown}"
                lines.append(f"    {r.indicator:<38} {scope:<24} {r.period:<10} "
                             f"{_value(r):>12}  {r.target:<16} {status:<18} {r.trend}")
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "no views\n")


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
    settings = ctx.settings
    mappings = load_mappings(settings.mappings.dir)
    with StateStore(settings.state.path) as store:
        results = load_history(store)
    views = select_views(build_views(results, mappings.portfolio), args.view, args.scope)
    if args.format == "json":
        ctx.out.write(json.dumps(views_to_json(views), indent=2, sort_keys=True,
                                 ensure_ascii=False) + "\n")
    elif args.format == "html":
        written = write_dashboard(views, args.out, generated_at=ctx.clock())
        ctx.out.write(f"wrote {len(written)} files to {args.out}\n")
    else:
        ctx.out.write(render_table(views, _wants_colour(ctx.out)))
    if ctx.log is not None:
        ctx.log.info("report_written", format=args.format, views=len(views),
                     results=sum(len(v.results) for v in views))
    return EXIT_OK
