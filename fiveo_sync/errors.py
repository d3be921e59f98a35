"""Errors of fiveo-sync, classified by what the operator must do next.

Only ``fiveo_sync.cli`` turns these into exit codes (sysexits(3))::

    FiveoSyncError
    ├── ConfigError  ── MappingError(file, line, col, path)   78 EX_CONFIG
    ├── AuthError            401/403, missing role               77 EX_NOPERM
    ├── UnavailableError     timeouts, 429, 5xx after retries    69 EX_UNAVAILABLE
    ├── DataError            malformed record, other 4xx on write 65 EX_DATAERR
    ├── StateError           state store unwritable or full     74 EX_IOERR
    └── LockedError          another run holds the lock          75 EX_TEMPFAIL
    RunReport.failed_targets non-empty (not an exception)        3  partial
    uncaught exception (traceback logged)                        70 EX_SOFTWARE
    argparse usage error                                         2

Connectors translate every library exception (``requests``, pysnow, jira) into one of
these at their boundary, with any URL already redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_DATAERR = 65
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70
EXIT_IOERR = 74
EXIT_TEMPFAIL = 75
EXIT_NOPERM = 77
EXIT_CONFIG = 78


class FiveoSyncError(Exception):
    """Base of every error fiveo-sync raises on purpose.

    Attributes:
        exit_code: the sysexits code the CLI exits with.
    """

    exit_code = EXIT_SOFTWARE

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        if not self.context:
            return self.message
        details = ", ".join(f"{k}={v}" for k, v in self.context.items())
        return f"{self.message} ({details})"


class ConfigError(FiveoSyncError):
    """Settings are missing, malformed or contradictory."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class Location:
    """A position in a mapping or settings file, 1-based like editors show it."""

    file: str
    line: int = 0
    col: int = 0
    path: str = ""

    def __str__(self) -> str:
        # Environment variables and whole files have no line: name them alone.
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.path}" if self.path else where


class MappingError(ConfigError):
    """One or more problems in mapping (or settings) files, each located.

    Attributes:
        problems: ``(Location, message)`` pairs, in file order.
    """

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = list(problems)
        lines = [f"{loc}: {msg}" for loc, msg in self.problems]
        super().__init__("\n".join(lines) if lines else "invalid mapping")

    def __str__(self) -> str:
        return self.message


class AuthError(FiveoSyncError):
    """Credentials rejected (401) or a permission missing (403)."""

    exit_code = EXIT_NOPERM


class UnavailableError(FiveoSyncError):
    """The platform did not answer usefully within the retry budget."""

    exit_code = EXIT_UNAVAILABLE


class DataError(FiveoSyncError):
    """The platform refused or returned data that cannot be used (other 4xx, bad body)."""

    exit_code = EXIT_DATAERR


class StateError(FiveoSyncError):
    """The state store cannot be opened, written or migrated."""

    exit_code = EXIT_IOERR


class LockedError(FiveoSyncError):
    """Another run holds the run lock on the same state store."""

    exit_code = EXIT_TEMPFAIL


class NotAvailableYetError(FiveoSyncError):
    """A command of the design whose implementation has not landed."""

    exit_code = EXIT_SOFTWARE
