"""Fault injection and rate limiting of the sandbox (servicenow-api.md §9).

Kinds: ``429`` (``Retry-After``, ``X-RateLimit-*`` and the real body), ``500``, ``503``,
``slow`` (answers after ``slow_s``, past a client's timeout), ``drop`` (closes the
connection without an answer) and ``truncate`` (a JSON body cut in half). Faults come from a
seeded random draw at ``rate`` and from an explicit queue (:meth:`Faults.fail_next`). The
hourly rate rule counts requests per user in the current clock hour.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors.servicenow.sandbox.reply import Reply, error_reply

KINDS = ("429", "500", "503", "slow", "drop", "truncate")
RULE_SYS_ID = "0b3f2e3c1b0d3010a5b0e9f7b04bcb7e"


@dataclass(frozen=True)
class Fault:
    """One injected failure: a kind, or an HTTP status with an optional ``Retry-After``."""

    kind: str
    retry_after: float | None = None


class Faults:
    """Decides, per request, whether and how to fail.

    Args:
        rate: probability of a random fault per API request.
        kinds: the kinds drawn from (default all of :data:`KINDS`).
        seed: seeds the draw, so a fault run is reproducible.
    """

    def __init__(self, rate: float = 0.0, kinds: tuple[str, ...] | None = None,
                 seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._queue: deque[Fault] = deque()
        self.set(rate, kinds)
        self.slow_s = 2.0
        self.retry_after_s = 0.0
        self.injected: dict[str, int] = {}

    def set(self, rate: float, kinds: tuple[str, ...] | list[str] | None = None) -> None:
        """Change the random fault rate and kinds."""
        unknown = set(kinds or ()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self.rate = rate
            self.kinds = tuple(kinds or KINDS)

    def fail_next(self, status: int | str, times: int = 1,
                  retry_after: float | None = None) -> None:
        """Fail the next ``times`` API requests with ``status`` (or a kind name)."""
        with self._lock:
            self._queue.extend(Fault(str(status), retry_after) for _ in range(times))

    def draw(self) -> Fault | None:
        """The fault for the current request, if any."""
        with self._lock:
            if self._queue:
                fault = self._queue.popleft()
            elif self.rate > 0 and self._rng.random() < self.rate:
                fault = Fault(self._rng.choice(self.kinds), self.retry_after_s)
            else:
                return None
            self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
            return fault


class RateRule:
    """An hourly per-user request limit (``sys_rate_limit_rules``).

    Args:
        limit: requests per hour.
        clock: the sandbox clock.
        user: the user the rule applies to (``None`` = all users).
    """

    def __init__(self, limit: int, clock: Callable[[], datetime], user: str | None = None) -> None:
        self.limit = limit
        self.clock = clock
        self.user = user
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def check(self, user: str) -> tuple[bool, dict[str, str], int]:
        """Count one request: ``(allowed, headers, seconds until the window resets)``."""
        if self.user is not None and user != self.user:
            return True, {}, 0
        now = self.clock().timestamp()
        hour = int(now // 3600)
        reset = (hour + 1) * 3600
        with self._lock:
            count = self._counts.get((user, hour), 0) + 1
            self._counts[(user, hour)] = count
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Reset": str(reset),
                   "X-RateLimit-Rule": RULE_SYS_ID}
        return count <= self.limit, headers, max(1, int(reset - now))


def fault_reply(fault: Fault, now: datetime) -> Reply | None:
    """The reply an injected HTTP-status fault gives (``None`` for transport kinds)."""
    retry = fault.retry_after
    if fault.kind == "429":
        headers = {"Retry-After": str(int(retry or 0)),
                   "X-RateLimit-Limit": "100", "X-RateLimit-Rule": "injected",
                   "X-RateLimit-Reset": str(int(now.timestamp()) + 3600)}
        return error_reply(429, "Rate limit exceeded",
                           "Rate limit of 100 requests per hour for Table API exceeded",
                           headers)
    if fault.kind.isdigit():
        headers = {"Retry-After": str(int(retry))} if retry is not None else {}
        messages = {"500": "Internal server error", "502": "Bad Gateway",
                    "503": "Service Unavailable"}
        return error_reply(int(fault.kind), messages.get(fault.kind, "Error"),
                           "Injected by the sandbox", headers)
    return None
