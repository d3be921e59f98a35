"""``fiveo-sync sql "SELECT …"``: query the canonical tables (``docs/canonical-tables.md``).

Refreshes the canonical DuckDB file beside the state store when its inputs changed (a
rebuild shows progress on a terminal), then runs the statement read-only and prints the
result: ``--format table`` (a rich table on a terminal, plain aligned text otherwise),
``csv`` or ``json``. Exactly one read statement is accepted (SELECT, WITH, DESCRIBE, SHOW,
SUMMARIZE, EXPLAIN); anything else, and a query DuckDB rejects, exits 65 (EX_DATAERR) with
the reason on stderr. Makes no network call.
"""

from __future__ import annotations

import argparse
from typing import Any

from fiveo_sync.canonical import refresh
from fiveo_sync.canonical.display import RebuildProgress
from fiveo_sync.canonical.formatter import FORMATS, write_result
from fiveo_sync.canonical.query import check_read_only, run_query
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sql``."""
    parser.add_argument("query", metavar="SQL",
                        help="one read-only statement, e.g. \"SELECT count(*) FROM incidents\"")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), csv or json, on stdout")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the canonical tables even when they are current")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Refresh the canonical file if stale, run the query, print the rows.

    Args:
        args: parsed arguments.
        ctx: the command context (``settings``, ``out``).

    Returns:
        0 (errors are raised for the CLI to map to exit codes).
    """
    check_read_only(args.query)  # refuse before any rebuild
    settings = ctx.settings
    report = refresh(settings.state.path, load_mappings(settings.mappings.dir),
                     progress=RebuildProgress(), force=args.rebuild,
                     memory_mb=settings.state.analytics_memory_mb)
    write_result(run_query(report.path, args.query), ctx.out, args.format)
    return EXIT_OK
