"""Kill a ``fiveo-sync run`` child at a chosen log event, and check what it left behind."""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import Any

from .reliability_cli import events


def run_until(child: subprocess.Popen[str], event: str, nth: int,
              platform: str | None = None, timeout_s: float = 90.0) -> tuple[bool, str]:
    """Read the child's JSON log until the ``nth`` ``event`` (of ``platform``), then SIGKILL.

    Returns:
        Whether the event was seen (the child was killed there), and the log read.
    """
    watchdog = threading.Timer(timeout_s, child.kill)
    watchdog.start()
    seen, lines = 0, []
    try:
        assert child.stderr is not None
        for line in child.stderr:
            lines.append(line)
            for name, record in events(iter([line])):
                if name == event and (platform is None or record.get("platform") == platform):
                    seen += 1
            if seen >= nth:
                child.send_signal(signal.SIGKILL)
                break
        child.wait()
        rest = child.stderr.read() if child.stderr else ""
        lines.append(rest)
    finally:
        watchdog.cancel()
        if child.stdout is not None:
            child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    return seen >= nth, "".join(lines)


def _sn_covered(row: dict[str, str], bookmark: dict[str, Any]) -> bool:
    """Whether a ServiceNow bookmark claims to have stored ``row``."""
    cursor = (row.get("sys_updated_on", ""), row["sys_id"])
    run = bookmark.get("run")
    if not run:
        return bool(bookmark.get("watermark")) and cursor[0] <= bookmark["watermark"]
    parts = run.get("parts")
    if not parts:
        after = run.get("after")
        return after is not None and cursor <= tuple(after)
    if cursor[0] < parts[0][0]:
        return True  # the first page, read before the window was split
    for lo, hi, after, done in parts:
        if cursor[0] < lo or (hi is not None and cursor[0] >= hi):
            continue
        return bool(done) or (after is not None and cursor <= tuple(after))
    return False


def bookmarks_ahead(bookmarks: dict[str, Any], stored: set[str], expected: set[str],
                    sandbox_rows: dict[str, list[dict[str, str]]],
                    expected_updated: dict[str, str]) -> list[str]:
    """Records a stored bookmark claims but the store lacks (must be empty).

    Args:
        bookmarks: stored bookmarks by ``source.stream`` (as read from the store).
        stored: ``source.stream:key`` of the records the store holds.
        expected: the same for the fault-free run (what a run is meant to store).
        sandbox_rows: ServiceNow rows by table (``sys_id``, ``sys_updated_on``).
        expected_updated: ``updated`` of each expected record, by ``source.stream:key``.
    """
    missing = []
    for name, bookmark in bookmarks.items():
        source, _, stream = name.partition(".")
        if source == "servicenow" and stream in sandbox_rows:
            for row in sandbox_rows[stream]:
                key = f"{name}:{row['sys_id']}"
                if key in expected and key not in stored and _sn_covered(row, bookmark):
                    missing.append(key)
        elif name == "jira.issue" and isinstance(bookmark, dict) and bookmark.get("updated"):
            for key in expected:
                if (key.startswith("jira.issue:") and key not in stored
                        and expected_updated[key] < bookmark["updated"]):
                    missing.append(key)
    return missing
