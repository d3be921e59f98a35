"""``fiveo-sync pull``: incremental pull into the state store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fiveo_sync.platforms import SOURCES, build_connectors
from fiveo_sync.progress import Progress
from fiveo_sync.pull import pull_all
from fiveo_sync.state import StateStore


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pull``."""
    parser.add_argument("--full", action="store_true",
                        help="ignore bookmarks and read everything again")
    parser.add_argument("--source", action="append", choices=SOURCES,
                        help="pull only this platform (repeatable)")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Pull every configured stream; exit with the first platform failure, if any."""
    settings = ctx.settings
    connectors = build_connectors(settings, clock=ctx.clock, only=args.source)
    try:
        with StateStore(settings.state.path) as store:
            report = pull_all(store, connectors, log=ctx.log, full=args.full,
                              progress=Progress(sys.stderr))
    finally:
        for connector in connectors.values():
            connector.close()
    ctx.log.info("pull_finished", records=report.total_records, streams=report.counts(),
                 failed_sources=sorted(report.failures))
    if report.failures:
        raise next(iter(report.failures.values()))
    return 0
