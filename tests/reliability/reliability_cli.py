"""``fiveo-sync`` in a subprocess, against in-process sandboxes, on the sandboxes' clock.

The CLI reads the wall clock; the reliability world lives at a fixed "now" so that runs can
be compared with the session's fault-free run. The launcher below is the CLI's own
``main`` with one thing changed, in the child only: its clock runs from the world's "now"
at the rate of the wall clock since the sandboxes started (as the sandboxes' clocks do).
Nothing in the product knows about tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .reliability_world import Platforms, settings_env

LAUNCHER = """
import functools, os, sys, time
from datetime import datetime, timedelta
import fiveo_sync.cli as cli
world_now = datetime.fromisoformat(os.environ["RELIABILITY_WORLD_NOW"])
started = float(os.environ["RELIABILITY_STARTED"])
def clock():
    return world_now + timedelta(seconds=time.time() - started)
cli.Context = functools.partial(cli.Context, clock=clock)
sys.exit(cli.main(sys.argv[1:]))
"""


def cli_env(platforms: Platforms, started: float) -> dict[str, str]:
    """The child's environment: settings as ``FIVEO_…`` variables plus the world clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVEO_")}
    env.update(settings_env(platforms))
    env["RELIABILITY_WORLD_NOW"] = platforms.sn.world.now.isoformat()
    env["RELIABILITY_STARTED"] = repr(started)
    env["NO_COLOR"] = "1"
    return env


def start_cli(platforms: Platforms, started: float, *args: str) -> subprocess.Popen[str]:
    """Start ``fiveo-sync --log-format json -v <args>`` (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "--log-format", "json", "-v", *args],
        env=cli_env(platforms, started), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=str(platforms.out_dir.parent))


def run_cli(platforms: Platforms, started: float, *args: str,
            timeout: float = 120) -> tuple[int, str, str]:
    """Run the CLI to its end: ``(exit code, stdout, stderr)``."""
    child = start_cli(platforms, started, *args)
    out, err = child.communicate(timeout=timeout)
    return child.returncode, out, err


def events(stderr_lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event name, record)`` of each JSON log line; other lines are skipped."""
    for line in stderr_lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            yield str(record["event"]), record


def save(folder: Path, name: str, out: str, err: str) -> None:
    """Keep a CLI run's output for the secrets scan."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.stdout").write_text(out)
    (folder / f"{name}.stderr").write_text(err)


def wall_now() -> float:
    """The wall clock in seconds (the launcher's time base)."""
    return time.time()
