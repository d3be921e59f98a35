"""Logging: structlog configured once, stdlib loggers through the same renderer.

``configure("auto")`` renders for people on a terminal and JSON lines otherwise (what log
collectors want at 3 a.m.); ``--log-format`` forces either. Standard-library loggers
(urllib3, requests, pysnow, jira) pass through the same processor chain, so every line has
the same shape. A redaction processor removes secrets by key name and by value before any
renderer sees them; it is the backstop, not the plan. Logs go to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog

from fiveo_sync.redaction import redact_text, redact_value

_STDLIB_LOGGERS = ("urllib3", "requests", "pysnow", "jira", "requests_oauthlib", "oauthlib")


def redact_event(_logger: object, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Mask (a structlog processor) secret-named keys, secret values, auth headers, URLs."""
    cleaned = redact_value(event_dict)
    event = cleaned.get("event")
    if isinstance(event, str):
        cleaned["event"] = redact_text(event)
    return cleaned


def configure(fmt: str = "auto", verbosity: int = 0, stream: TextIO | None = None) -> str:
    """Configure structlog and the stdlib root logger; return the format chosen.

    Args:
        fmt: ``auto`` (console on a TTY, JSON otherwise), ``json`` or ``console``.
        verbosity: 0 = info, 1+ = debug (and stdlib HTTP loggers at debug from 2).
        stream: where to write (stderr by default).
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    level = logging.DEBUG if verbosity > 0 else logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "json":
        renderer: Any = structlog.processors.JSONRenderer(sort_keys=False)
        final = [structlog.processors.dict_tracebacks, redact_event, renderer]
    else:
        colors = "NO_COLOR" not in os.environ and getattr(stream, "isatty", lambda: False)()
        final = [redact_event, structlog.dev.ConsoleRenderer(colors=colors)]

    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    ))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    http_level = logging.DEBUG if verbosity > 1 else logging.WARNING
    for name in _STDLIB_LOGGERS:
        logging.getLogger(name).setLevel(http_level)

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return fmt


def get_logger(name: str = "fiveo_sync") -> Any:
    """A structlog logger bound to ``name``."""
    return structlog.stdlib.get_logger(name)
