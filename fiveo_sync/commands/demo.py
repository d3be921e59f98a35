"""``fiveo-sync demo``: both sandboxes, a full and an incremental run, the owner views."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fiveo_sync.demo import DemoOptions, run_demo


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``demo`` (all optional: the demo needs no configuration)."""
    parser.add_argument("--out", type=Path, default=Path("fiveo-demo"),
                        help="folder for the dashboard, JSON and state (default ./fiveo-demo)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox data seed")
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud",
                        help="Jira sandbox flavour")
    parser.add_argument("--write-mode", choices=("table", "import_set"), default="table",
                        help="ServiceNow write-back mode")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the sandboxes up afterwards to browse the written records")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Run the demo."""
    options = DemoOptions(out_dir=args.out, seed=args.seed, scale=args.scale,
                          deployment=args.deployment, write_mode=args.write_mode,
                          keep_running=args.keep_running)
    return run_demo(options, clock=ctx.clock, log=ctx.log, out=ctx.out, err=sys.stderr)
