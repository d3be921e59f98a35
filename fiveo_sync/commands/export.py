"""``fiveo-sync export DIR``: one Parquet (or CSV) file per canonical table, for BI tools.

Refreshes the canonical DuckDB file when its inputs changed, then writes
``DIR/<table>.parquet`` (``--format csv``: ``.csv``) for every table of
``docs/canonical-tables.md`` plus ``canonical_build`` (when and from what the tables were
built). Each file replaces the previous one atomically. Prints one line per file written.
Makes no network call.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fiveo_sync.canonical import refresh
from fiveo_sync.canonical.display import RebuildProgress
from fiveo_sync.canonical.exporter import EXPORT_FORMATS, export_tables
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``export``."""
    parser.add_argument("directory", metavar="DIR", type=Path,
                        help="output folder (created when missing)")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="parquet",
                        help="parquet (default) or csv")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the canonical tables even when they are current")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Refresh the canonical file if stale and export every table.

    Args:
        args: parsed arguments.
        ctx: the command context (``settings``, ``out``, ``log``).

    Returns:
        0 (errors are raised for the CLI to map to exit codes).
    """
    settings = ctx.settings
    report = refresh(settings.state.path, load_mappings(settings.mappings.dir),
                     progress=RebuildProgress(), force=args.rebuild,
                     memory_mb=settings.state.analytics_memory_mb)
    files = export_tables(report.path, args.directory, args.format)
    for item in files:
        ctx.out.write(f"wrote {item.path} ({item.rows:,} row{'s' if item.rows != 1 else ''})\n")
    if ctx.log is not None:
        ctx.log.info("export_finished", directory=str(args.directory), format=args.format,
                     files=len(files), rows=sum(item.rows for item in files))
    return EXIT_OK
