"""The checks of ``fiveo-sync doctor``: one result per check, the report and the exit code.

A check is a fact about one platform (reachable, credentials accepted, a table readable, a
permission held, a setting resolved) with what to do when it fails. The platform probes
live beside their connectors (``connectors/servicenow/doctor.py``,
``connectors/jira/doctor.py``); this module holds what they share.

Each failed check carries the remedy class that decides the exit code, worst first:
``config`` 78 (a setting or mapping must change), ``permission`` 77 (credentials or a
role/permission), ``unreachable`` 69 (network, TLS, platform down), ``data`` 65 (the
platform answered something unusable). All checks passing exits 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from connectors.http import RetryPolicy
from fiveo_sync.errors import (
    EXIT_CONFIG,
    EXIT_DATAERR,
    EXIT_NOPERM,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    AuthError,
    ConfigError,
    DataError,
    FiveoSyncError,
    UnavailableError,
)

Remedy = Literal["config", "permission", "unreachable", "data"]

EXIT_BY_REMEDY: dict[str, int] = {
    "config": EXIT_CONFIG,
    "permission": EXIT_NOPERM,
    "unreachable": EXIT_UNAVAILABLE,
    "data": EXIT_DATAERR,
}
_PRECEDENCE = ("config", "permission", "unreachable", "data")


@dataclass(frozen=True)
class Check:
    """The outcome of one doctor check.

    Attributes:
        platform: ``servicenow``, ``jira`` or ``settings``.
        name: what was checked, e.g. ``read incident`` or ``permissions PAY``.
        ok: whether it passed.
        detail: what was found (never a secret).
        fix: what the operator should do; empty when the check passed.
        remedy: the class of failure (decides the exit code); None when ok.
    """

    platform: str
    name: str
    ok: bool
    detail: str
    fix: str = ""
    remedy: Remedy | None = None

    @classmethod
    def passed(cls, platform: str, name: str, detail: str) -> Check:
        """A passing check."""
        return cls(platform, name, True, detail)

    @classmethod
    def failed(cls, platform: str, name: str, detail: str, fix: str, remedy: Remedy) -> Check:
        """A failing check with its fix and remedy class."""
        return cls(platform, name, False, detail, fix, remedy)

    def render(self) -> str:
        """One line: ``ok``/``FAILED``, platform, check, detail and, when failed, the fix."""
        status = "ok" if self.ok else "FAILED"
        line = f"{status:<6} {self.platform:<10} {self.name}: {self.detail}"
        return line if self.ok else f"{line}\n       fix: {self.fix}"


def build_probe_policy(http: Any) -> RetryPolicy:
    """A short retry budget from ``settings.http``: doctor answers in seconds."""
    return RetryPolicy(timeout_s=min(float(http.timeout_s), 15.0), max_attempts=2,
                       max_wait_s=5.0, budget_s=30.0, backoff_s=0.2)


def probe_request(http: Any, method: str, url: str, *,
                  accept: tuple[int, ...] = (400, 401, 403, 404),
                  **kwargs: Any) -> tuple[int, Any]:
    """One probe through a connector's ``HttpClient``: ``(status, JSON body or None)``.

    Error statuses in ``accept`` come back instead of raising, and a body that is not JSON
    (an HTML error page, a proxy's login page) is ``None`` rather than a retried failure.
    """
    response, _ = http.request(method, url, accept=accept, parse_json=False, **kwargs)
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return response.status_code, body


def remedy_of(error: FiveoSyncError) -> Remedy:
    """The remedy class of an error raised while probing."""
    if isinstance(error, AuthError):
        return "permission"
    if isinstance(error, UnavailableError):
        return "unreachable"
    if isinstance(error, ConfigError):
        return "config"
    if isinstance(error, DataError):
        return "data"
    return "data"


def exit_code(checks: Iterable[Check]) -> int:
    """0 when every check passed, else the code of the worst remedy class."""
    remedies = {c.remedy for c in checks if not c.ok}
    for remedy in _PRECEDENCE:
        if remedy in remedies:
            return EXIT_BY_REMEDY[remedy]
    return EXIT_OK


def write_report(checks: list[Check], out: TextIO) -> None:
    """Print one line per check (plus its fix) and a summary line."""
    for check in checks:
        print(check.render(), file=out)
    failed = sum(1 for c in checks if not c.ok)
    verdict = "all passed" if not failed else f"{failed} failed"
    print(f"doctor: {len(checks)} checks, {verdict}", file=out)
