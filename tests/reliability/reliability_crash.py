"""Kill a ``fiveo-sync run`` child at a chosen log event, and check what it left behind."""

from __future__ import annotations

import json
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


def _sn_covered(row: dict[str, str], bookmark: dict[str, Any], lowest: str | None) -> bool:
    """Whether a ServiceNow bookmark claims to have stored ``row``.

    ``lowest`` is where a finished stream's reading started (its oldest record in the
    fault-free store; None for reference streams, which are read whole).
    """
    cursor = (row.get("sys_updated_on", ""), row["sys_id"])
    run = bookmark.get("run")
    if not run:
        return (bool(bookmark.get("watermark")) and cursor[0] <= bookmark["watermark"]
                and (lowest is None or cursor[0] >= lowest))
    if run.get("from") and cursor[0] < run["from"]:
        return False
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


REFERENCE_STREAMS = ("cmdb_ci_service", "sys_user_group", "sys_user")


def bookmarks_ahead(bookmarks: dict[str, Any], stored: set[str],
                    sandbox_rows: dict[str, list[dict[str, str]]],
                    fault_free: dict[str, tuple[str, str]]) -> list[str]:
    """Records a stored bookmark claims but the store lacks (must be empty).

    ServiceNow rows come from the sandbox itself, so a record a bookmark skipped is found
    even if a fault-free run skipped it too; Jira issues are those of the fault-free run.

    Args:
        bookmarks: stored bookmarks by ``source.stream`` (as read from the store).
        stored: ``source.stream:key`` of the records the store holds.
        sandbox_rows: ServiceNow rows by table (``sys_id``, ``sys_updated_on``).
        fault_free: the fault-free store's records, ``source.stream:key`` → (updated,
            payload).
    """
    missing = []
    for name, bookmark in bookmarks.items():
        source, _, stream = name.partition(".")
        if source == "servicenow" and stream in sandbox_rows:
            lowest = None if stream in REFERENCE_STREAMS else min(
                (json.loads(payload).get("sys_updated_on", "")
                 for key, (_, payload) in fault_free.items() if key.startswith(f"{name}:")),
                default=None)
            for row in sandbox_rows[stream]:
                key = f"{name}:{row['sys_id']}"
                if key not in stored and _sn_covered(row, bookmark, lowest):
                    missing.append(key)
        elif name == "jira.issue" and isinstance(bookmark, dict) and bookmark.get("updated"):
            for key, (updated, _) in fault_free.items():
                if (key.startswith("jira.issue:") and key not in stored
                        and updated < bookmark["updated"]):
                    missing.append(key)
    return missing
