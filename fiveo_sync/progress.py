"""Progress on a terminal: one self-overwriting line on stderr, nothing when not a TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Shows ``label: N records`` while a long pull runs, at most a few times a second.

    Silent when the stream is not a terminal (cron, Kubernetes): logs carry the summary.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        if enabled is None:
            enabled = getattr(self._stream, "isatty", lambda: False)()
        self.enabled = enabled
        self._last = 0.0
        self._width = 0

    def update(self, label: str, records: int, *, force: bool = False) -> None:
        """Show the current count for ``label`` (throttled to 5 updates a second)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        text = f"{label}: {records:,} records"
        self._stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self._stream.flush()

    def done(self) -> None:
        """End the progress line."""
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
