"""``fiveo-sync demo``: both sandboxes, a full and an incremental run, the owner views.

The demo's console is for a person: its narrative and the owner views on stdout, progress
on stderr when that is a terminal, and never a log line, whether or not the output is a
terminal. Its log goes to a file (``<out>/demo.log``, or ``--log-file``), which the
narrative names; warnings and errors still show on stderr as short notices.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fiveo_sync import logs
from fiveo_sync.demo import DemoOptions, run_demo

DEMO_LOG = "demo.log"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``demo`` (all optional: the demo needs no configuration)."""
    parser.add_argument("--out", type=Path, default=Path("fiveo-demo"),
                        help="folder for the dashboard, JSON, state and log "
                             "(default ./fiveo-demo)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox data seed")
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud",
                        help="Jira sandbox flavour")
    parser.add_argument("--write-mode", choices=("table", "import_set"), default="table",
                        help="ServiceNow write-back mode")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the sandboxes up afterwards to browse the written records")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Run the demo with its log in a file."""
    own_log = getattr(args, "log_file", None) is None
    log_file = args.out / DEMO_LOG if own_log else args.log_file
    logs.configure(getattr(args, "log_format", "json"), getattr(args, "verbose", 0),
                   log_file=log_file, notices=True, truncate=own_log)
    options = DemoOptions(out_dir=args.out, seed=args.seed, scale=args.scale,
                          deployment=args.deployment, write_mode=args.write_mode,
                          keep_running=args.keep_running, log_file=log_file)
    return run_demo(options, clock=ctx.clock, log=ctx.log, out=ctx.out, err=sys.stderr)
