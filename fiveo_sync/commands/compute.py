"""``fiveo-sync compute``: evaluate the indicators from the state store and record them.

Reads raw records already pulled, normalises them with ``mappings/sources.yaml``, computes
every indicator of ``mappings/indicators/`` with the stored history and saves the results.
Makes no network call. Prints a one-line summary on stdout.
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter
from typing import Any

from fiveo_sync.compute import compute_from_store
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.result import format_utc
from fiveo_sync.errors import EXIT_OK
from fiveo_sync.state import StateStore


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``compute``."""
    parser.add_argument("--run-id", default=None,
                        help="id recorded with the results (default: generated)")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Compute and store the results; print counts per status.

    Args:
        args: parsed arguments.
        ctx: the command context (``settings``, ``clock``, ``log``, ``out``).

    Returns:
        0 on success (errors are raised for the CLI to map to exit codes).
    """
    settings = ctx.settings
    mappings = load_mappings(settings.mappings.dir)
    now = ctx.clock()
    run_id = getattr(args, "run_id", None) or \
        f"compute-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    with StateStore(settings.state.path) as store:
        store.start_run(run_id, format_utc(now), command="compute")
        report = compute_from_store(store, mappings, now, run_id)
        statuses = Counter(r.status for r in report.results)
        store.finish_run(run_id, format_utc(ctx.clock()), "ok",
                         {"results": len(report.results), **dict(statuses)}, EXIT_OK)
    skipped = sum(sum(v.values()) for v in report.skipped.values())
    if ctx.log is not None:
        ctx.log.info("compute_finished", run_id=run_id, results=len(report.results),
                     records_skipped=skipped, **{f"status_{k}": v for k, v in statuses.items()})
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "no results"
    ctx.out.write(f"computed {len(report.results)} results ({summary}); "
                  f"{skipped} records skipped\n")
    return EXIT_OK
