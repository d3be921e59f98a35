"""One live status line on stderr while the canonical file is rebuilt.

``canonical rebuild, reading: 120,000 records`` while the raw records stream through the
normaliser, then ``… writing: N records`` while rows are loaded; gone when the build ends.
Drawn only when stderr is a terminal that no log line is written to (like
:class:`fiveo_sync.progress.Progress`); a no-op otherwise (cron, CI, JSON logs).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console

from fiveo_sync import logs


class RebuildProgress:
    """The rebuild's status line (implements the builder's ``ProgressLike``).

    Args:
        stream: the terminal (stderr by default).
        enabled: force on or off; by default on when ``stream`` is a terminal and the log
            is not written to it.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        if enabled is None:
            enabled = (bool(getattr(self._stream, "isatty", lambda: False)())
                       and not logs.active().on_terminal)
        self.enabled = enabled
        self._status: Any = None

    def update(self, label: str, records: int) -> None:
        """Show ``label: N records``."""
        if not self.enabled:
            return
        text = f"{label}: {records:,} records"
        if self._status is None:
            self._status = Console(file=self._stream).status(text)
            self._status.start()
        else:
            self._status.update(text)

    def done(self) -> None:
        """Remove the line."""
        if self._status is not None:
            self._status.stop()
            self._status = None
