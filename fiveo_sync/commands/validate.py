"""``fiveo-sync validate``: check settings and every mapping file, without any network call.

Prints every problem on stdout, one per line, as ``file:line:col: path: message``, and
exits 78 (EX_CONFIG) when there is any; otherwise prints how the indicators cover the 5 O's,
the characteristics and the ITIL dimensions, then a one-line summary, and exits 0.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fiveo_sync.engine.coverage import catalogue_rows, coverage
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import EXIT_CONFIG, EXIT_OK, Location, MappingError

Problem = tuple[Location, str]


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``validate``."""
    parser.add_argument(
        "--mappings", metavar="DIR", type=Path, default=None,
        help="mapping folder to check (default: mappings.dir of the settings)")
    parser.add_argument(
        "--list", action="store_true",
        help="also list every indicator with its view, characteristic, ITIL dimension, "
             "unit and target")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Validate settings and mappings; print problems or a summary.

    Args:
        args: parsed arguments (``mappings``: an optional folder overriding the settings).
        ctx: the command context; ``ctx.settings`` raises ``MappingError`` for bad
            settings, ``ctx.mappings_dir`` names the mapping folder.

    Returns:
        0 when everything is valid, 78 when any problem was found.
    """
    problems: list[Problem] = []
    directory: Path | None = getattr(args, "mappings", None)
    try:
        settings_dir = ctx.mappings_dir
    except MappingError as exc:
        problems += exc.problems
        settings_dir = None
    directory = directory or settings_dir or Path("mappings")
    mappings = None
    try:
        mappings = load_mappings(directory)
    except MappingError as exc:
        problems += exc.problems
    out = getattr(ctx, "out", None)
    lines = [f"{location}: {message}" for location, message in problems]
    if lines:
        _write(out, "\n".join(lines) + "\n")
        if getattr(ctx, "log", None) is not None:
            ctx.log.info("validation_failed", problems=len(problems))
        return EXIT_CONFIG
    assert mappings is not None
    specs = [spec for f in mappings.indicator_files for spec in f.indicators]
    if getattr(args, "list", False):
        _write(out, _table(catalogue_rows(specs)))
    _write(out, "".join(line + "\n" for line in coverage(specs).lines()))
    _write(out, f"ok: {len(mappings.files)} files, {mappings.indicator_count} indicators, "
                f"{len(mappings.portfolio.services)} services, "
                f"{len(mappings.portfolio.products)} products\n")
    return EXIT_OK


def _table(rows: list[tuple[str, ...]]) -> str:
    header = ("indicator", "view", "characteristic", "dimension", "unit", "target", "name")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
             + "  " + row[-1]
             for row in [header, *rows]]
    return "".join(line.rstrip() + "\n" for line in lines)


def _write(out: Any, text: str) -> None:
    if out is None:
        print(text, end="")
    else:
        out.write(text)
