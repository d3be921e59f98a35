"""Logging: structlog configured once, stdlib loggers through the same renderer.

Where log lines go is decided once per command (:func:`configure`):

- ``--log-file PATH``: every line to that file (JSON unless ``--log-format console``),
  none on stderr;
- otherwise stderr, JSON when it is not a terminal (what a scheduler or log collector reads
  at 3 a.m.) or when ``--log-format json`` asks for it; ``console`` renders for people;
- on a terminal with ``--log-format auto`` (and no ``-v``) no log line is shown at all: the
  command draws its progress there instead (:mod:`fiveo_sync.progress`).

Whenever log lines do not reach the terminal, warnings and errors still do, as short
*notice* lines on stderr (``warning: tls_verification_disabled: hint=…``): what an operator
must see is never only in a file. Standard-library loggers (urllib3, requests, pysnow, jira)
pass through the same processor chain, so every line has the same shape. A redaction
processor removes secrets by key name and by value before any renderer sees them; it is the
backstop, not the plan. Listeners (:func:`listen`) receive each event as a dict; the
progress display follows the run through them.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog
import structlog.tracebacks

from fiveo_sync.redaction import redact_text, redact_value

_STDLIB_LOGGERS = ("urllib3", "requests", "pysnow", "jira", "requests_oauthlib", "oauthlib")
_NOT_SHOWN_IN_NOTICES = ("event", "level", "logger", "timestamp", "log_level", "exc_info",
                         "exception")

# The CLI prints these itself, in words, on stderr: a notice would say it twice.
_TOLD_BY_THE_CLI = frozenset({"command_failed"})

Listener = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LogSetup:
    """Where log lines go, as :func:`configure` decided.

    Attributes:
        fmt: ``json`` or ``console`` (the rendering of the log lines).
        file: the log file, or None when the log goes to a stream.
        on_terminal: log lines are written to a terminal (nothing else may draw there).
        notices: warnings and errors are shown as short lines on stderr.
    """

    fmt: str = "json"
    file: Path | None = None
    on_terminal: bool = False
    notices: bool = False


_setup = LogSetup()
_listeners: list[Listener] = []


def redact_event(_logger: object, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Mask (a structlog processor) secret-named keys, secret values, auth headers, URLs."""
    cleaned = redact_value(event_dict)
    event = cleaned.get("event")
    if isinstance(event, str):
        cleaned["event"] = redact_text(event)
    return cleaned


def log_lines_on_stderr(fmt: str, verbosity: int, log_file: Path | None,
                          stderr_is_terminal: bool) -> bool:
    """Whether log lines go to stderr (else a file, or nowhere on a quiet terminal).

    Args:
        fmt: ``--log-format`` (``auto``, ``json``, ``console``).
        verbosity: ``-v`` count (asking for detail on a terminal shows the log lines).
        log_file: ``--log-file``.
        stderr_is_terminal: whether stderr is a TTY.
    """
    if log_file is not None:
        return False
    return fmt != "auto" or verbosity > 0 or not stderr_is_terminal


def configure(fmt: str = "auto", verbosity: int = 0, stream: TextIO | None = None, *,
              log_file: Path | None = None, quiet: bool = False, notices: bool = False,
              truncate: bool = False) -> str:
    """Configure structlog and the stdlib root logger; return the format chosen.

    Args:
        fmt: ``auto`` (console on a TTY, JSON otherwise), ``json`` or ``console``; with a
            ``log_file``, ``auto`` is JSON.
        verbosity: 0 = info, 1+ = debug (and stdlib HTTP loggers at debug from 2).
        stream: where to write (stderr by default); ignored with ``log_file``.
        log_file: write the log to this file (appended; reopened when rotated away).
        quiet: write no log line at all to ``stream`` (a terminal showing progress).
        notices: also show warnings and errors as short lines on stderr.
        truncate: start ``log_file`` empty instead of appending (the demo's own log).
    """
    global _setup
    if log_file is not None:
        fmt = "console" if fmt == "console" else "json"
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.WatchedFileHandler(
            log_file, mode="w" if truncate else "a", encoding="utf-8")
        colour_stream: TextIO | None = None
    else:
        stream = stream or sys.stderr
        if fmt == "auto":
            fmt = "console" if _is_terminal(stream) else "json"
        handler = logging.StreamHandler(stream)
        colour_stream = stream
    level = logging.DEBUG if verbosity > 0 else logging.INFO
    handler.setFormatter(_formatter(fmt, colour_stream))
    handlers = [] if quiet and log_file is None else [handler]
    if notices:
        notice = _NoticeHandler(level=logging.WARNING)
        notice.setFormatter(_formatter("notice", None))
        handlers.append(notice)
    handlers.append(_ListenerHandler(level=logging.INFO))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if old is not handler:
            old.close()
    for new in handlers:
        root.addHandler(new)
    root.setLevel(level)
    http_level = logging.DEBUG if verbosity > 1 else logging.WARNING
    for name in _STDLIB_LOGGERS:
        logging.getLogger(name).setLevel(http_level)

    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    on_terminal = log_file is None and not quiet and _is_terminal(stream)
    _setup = LogSetup(fmt=fmt, file=Path(log_file) if log_file else None,
                      on_terminal=on_terminal, notices=notices)
    return fmt


def active() -> LogSetup:
    """Where the log goes now (as the last :func:`configure` set it)."""
    return _setup


def get_logger(name: str = "fiveo_sync") -> Any:
    """A structlog logger bound to ``name``."""
    return structlog.stdlib.get_logger(name)


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with each info-or-above structlog event (a dict) while inside."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def render_notice(_logger: object, _method: str, event_dict: dict[str, Any]) -> str:
    """One short line for a person: ``warning: event: key=value …`` (a structlog renderer)."""
    level = str(event_dict.get("level") or "warning").lower()
    fields = " ".join(f"{k}={v}" for k, v in event_dict.items()
                      if k not in _NOT_SHOWN_IN_NOTICES and v not in (None, ""))
    text = f"{level}: {event_dict.get('event')}"
    text = f"{text}: {fields}" if fields else text
    if event_dict.get("exception"):  # an internal error: the traceback is the evidence
        text += "\n" + str(event_dict["exception"]).rstrip()
    return text


# -- internals ---------------------------------------------------------------------------

def _is_terminal(stream: TextIO | None) -> bool:
    return bool(stream is not None and getattr(stream, "isatty", lambda: False)())


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


# Tracebacks without the frames' local variables: locals can hold credentials (a session's
# auth, a request's headers) that redaction, which sees only the event's own keys, cannot find.
_JSON_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False))


def _formatter(fmt: str, stream: TextIO | None) -> logging.Formatter:
    if fmt == "json":
        final = [_JSON_TRACEBACKS, redact_event,
                 structlog.processors.JSONRenderer(sort_keys=False)]
    elif fmt == "notice":
        final = [structlog.processors.format_exc_info, redact_event, render_notice]
    else:
        colors = "NO_COLOR" not in os.environ and _is_terminal(stream)
        final = [redact_event, structlog.dev.ConsoleRenderer(
            colors=colors,
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False))]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final])


class _NoticeHandler(logging.Handler):
    """Short lines on *the current* ``sys.stderr``.

    Looked up at each line, so a live progress display that has taken stderr over prints
    them above itself instead of being torn by them.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict) and record.msg.get("event") in _TOLD_BY_THE_CLI:
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


class _ListenerHandler(logging.Handler):
    """Hands each structlog event dict (redacted) to the registered listeners."""

    def emit(self, record: logging.LogRecord) -> None:
        if not _listeners or not isinstance(record.msg, dict):
            return
        event = redact_value({**record.msg, "level": record.levelname.lower()})
        for listener in list(_listeners):
            listener(event)
