"""Headless Debian Chromium for the dashboard tests, and a screenshot helper.

Usable on its own to look at a page:
    .venv/bin/python tests/browser/chromium_runner.py fiveo-demo/index.html /tmp/index.png
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Flags from the task: root in a container needs --no-sandbox; the rest keeps Chromium
# from touching the network or the profile beyond the page under test.
BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
              "--enable-logging=stderr", "--v=0")
_CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (?P<message>.*)$")


@dataclass
class PageRun:
    dom: str
    console: list[str]
    stderr: str


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(path: Path, extra: tuple[str, ...], timeout_s: float = 90.0) -> PageRun:
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="fiveo-chromium-") as profile:
        proc = subprocess.run(  # noqa: S603 - fixed binary and flags, a local file URL
            [binary, *BASE_FLAGS, f"--user-data-dir={profile}", *extra,
             Path(path).resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    console = [m.group("message") for line in proc.stderr.splitlines()
               if (m := _CONSOLE.search(line))]
    return PageRun(dom=proc.stdout, console=console, stderr=proc.stderr)


def load_page(path: Path) -> PageRun:
    """Render a local page; return its DOM after load and every console message."""
    return _run(path, ("--dump-dom",))


def screenshot(path: Path, png: Path, *, width: int = 1280, height: int = 2000) -> PageRun:
    """Render a local page to a PNG (for humans to look at)."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    run = _run(path, (f"--screenshot={png}", f"--window-size={width},{height}",
                      "--hide-scrollbars"))
    if not png.exists() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot: {run.stderr[-2000:]}")
    return run


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
    print(sys.argv[2])
