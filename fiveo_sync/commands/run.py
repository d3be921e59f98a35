"""``fiveo-sync run``: the scheduled job (pull, compute, push under the run lock)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fiveo_sync.platforms import SOURCES
from fiveo_sync.progress import Progress
from fiveo_sync.runner import Runner, RunOptions


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``run``."""
    parser.add_argument("--dry-run", action="store_true",
                        help="pull and compute, then print the write plan instead of writing")
    parser.add_argument("--full", action="store_true",
                        help="ignore bookmarks and pull everything again")
    parser.add_argument("--source", action="append", choices=SOURCES,
                        help="pull only this platform (repeatable)")
    parser.add_argument("--shard", metavar="I/N",
                        help="work on shard I of N (0-based) of the portfolio, with its own "
                             "state file; e.g. $(JOB_COMPLETION_INDEX)/4")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Run the job once; exit 0, 3 (partial) or the error's code."""
    shard = None
    if args.shard:
        from fiveo_sync.shard import parse_shard

        shard = parse_shard(args.shard)
    options = RunOptions(dry_run=args.dry_run, full=args.full,
                         sources=tuple(args.source or ()), shard=shard,
                         progress=Progress(sys.stderr))
    report = Runner(ctx.settings, clock=ctx.clock, log=ctx.log).run(options)
    if report.failed_sources or report.failed_targets:
        for name, error in {**report.failed_sources, **report.failed_targets}.items():
            print(f"fiveo-sync run: {name} failed: {error}", file=sys.stderr)
    return report.exit_code
