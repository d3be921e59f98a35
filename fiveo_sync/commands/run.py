"""``fiveo-sync run``: the scheduled job (pull, compute, push under the run lock).

Under a scheduler (stderr not a terminal, or ``--log-format json``) the run writes JSON
log lines ending with one ``run_finished`` line and nothing else. On a terminal it draws
its progress on stderr and ends with a short summary (:mod:`fiveo_sync.progress`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fiveo_sync import logs
from fiveo_sync.platforms import SOURCES, configured_sources
from fiveo_sync.progress import Progress, print_summary
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
    settings = ctx.settings
    progress = Progress(sys.stderr,
                        sources=len(configured_sources(settings, args.source or None)))
    options = RunOptions(dry_run=args.dry_run, full=args.full,
                         sources=tuple(args.source or ()), shard=shard, progress=progress)
    with progress:
        report = Runner(settings, clock=ctx.clock, log=ctx.log).run(options)
    if progress.enabled:
        print_summary(progress, report, dashboard=settings.report.dir,
                      log_file=logs.active().file)
    elif report.failed_sources or report.failed_targets:
        for name, error in {**report.failed_sources, **report.failed_targets}.items():
            print(f"fiveo-sync run: {name} failed: {error}", file=sys.stderr)
    return report.exit_code
