"""The one HTTP layer: shared sessions, timeouts, the retry policy and error mapping.

Every request of both connectors goes through :meth:`HttpClient.request`. Retries live here
and nowhere else (tenacity): ``Retry-After`` is honoured exactly for 429 and 503 (seconds or
an HTTP-date) up to ``max_wait_s``; 5xx, timeouts, dropped connections and truncated bodies
back off exponentially with jitter, for idempotent calls only; the whole call stops after
``max_attempts`` or ``budget_s``. 401/403 fail at once as :class:`AuthError` with the
platform's message; other 4xx are :class:`DataError` unless the caller accepts them. A
server certificate that fails verification is a :class:`ConfigError` at once (exit 78): no
retry fixes trust, the operator sets ``http.ca_bundle`` (or the platform its certificate).

Platform facts: servicenow-api.md §8–9, jira-api.md §7–8.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import requests
import tenacity
from requests.adapters import HTTPAdapter

from fiveo_sync.errors import AuthError, ConfigError, DataError, UnavailableError
from fiveo_sync.redaction import redact_text, redact_url

USER_AGENT = "fiveo-sync/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one platform is retried.

    Attributes:
        timeout_s: read timeout per request (connect timeout is the smaller of this and 10).
        max_attempts: attempts per call, the first included.
        max_wait_s: the longest single wait; a longer ``Retry-After`` fails the call.
        budget_s: total time one call may spend, waits included.
        backoff_s: the base of the exponential backoff.
    """

    timeout_s: float = 30.0
    max_attempts: int = 6
    max_wait_s: float = 120.0
    budget_s: float = 600.0
    backoff_s: float = 0.5


@dataclass
class HttpStats:
    """Counters for one client, safe to share between threads."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        """Add to counters by name."""
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        with self._lock:
            return {"requests": self.requests, "retries": self.retries,
                    "bytes_received": self.bytes_received, "errors": self.errors}


class _Retryable(Exception):
    """A failure worth another attempt; ``wait_s`` is set when the platform said how long."""

    def __init__(self, reason: str, wait_s: float | None = None,
                 response: requests.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s
        self.response = response


def build_session(*, verify: bool | str = True, pool_size: int = 8) -> requests.Session:
    """A session with a connection pool sized for concurrent paging and no hidden retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json",
                            "Accept-Encoding": "gzip, deflate"})
    # Proxies only when configured in settings, never silently from the environment.
    session.trust_env = False
    return session


def certificate_failure(exc: BaseException) -> str | None:
    """Why the server's certificate was rejected, when that is what ``exc`` is, else None.

    requests wraps :class:`ssl.SSLCertVerificationError` in urllib3 errors; other TLS
    failures (a connection cut during the handshake) stay ordinary connection errors.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            detail = getattr(current, "verify_message", None)  # set by OpenSSL, not always
            return f"certificate verify failed: {detail}" if detail else str(current)
        pending.extend([current.__cause__, current.__context__, *current.args,
                        getattr(current, "reason", None)])
    return None


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def platform_message(response: requests.Response) -> str:
    """The human message in a platform error body (ServiceNow or Jira shapes, or text)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and not text.startswith("<") else response.reason or ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # ServiceNow
            parts = [error.get("message"), error.get("detail")]
            return ": ".join(str(p) for p in parts if p)
        messages = list(body.get("errorMessages") or [])  # Jira
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages += [f"{k}: {v}" for k, v in errors.items()]
        for key in ("message", "errorMessage"):
            if body.get(key):
                messages.append(str(body[key]))
        if messages:
            return "; ".join(str(m) for m in messages)
    return response.reason or ""


class HttpClient:
    """Requests to one platform with the shared retry policy and error mapping.

    Args:
        platform: ``servicenow`` or ``jira`` (named in every error).
        session: the shared session (auth attached by the connector).
        policy: timeouts and retry budget.
        sleep: injectable for tests; defaults to :func:`time.sleep`.
        before_request: a hook run before each attempt (e.g. refresh an OAuth token).
    """

    def __init__(self, platform: str, session: requests.Session, policy: RetryPolicy,
                 *, sleep: Callable[[float], None] = time.sleep,
                 before_request: Callable[[], None] | None = None,
                 on_unauthorized: Callable[[], bool] | None = None) -> None:
        self.platform = platform
        self.session = session
        self.policy = policy
        self.stats = HttpStats()
        self._sleep = sleep
        self._before_request = before_request
        self._on_unauthorized = on_unauthorized

    def request(self, method: str, url: str, *, idempotent: bool | None = None,
                accept: Iterable[int] = (), parse_json: bool = True,
                **kwargs: Any) -> tuple[requests.Response, Any]:
        """Send a request with retries; return the response and its parsed JSON body.

        Args:
            method: HTTP method.
            url: absolute URL.
            idempotent: whether 5xx and broken connections may be retried; defaults to
                True for GET, HEAD, PUT and DELETE.
            accept: non-2xx statuses returned to the caller instead of raised.
            parse_json: parse the body (a truncated body is then retried).
            **kwargs: passed to :meth:`requests.Session.request`.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        accepted = frozenset(accept)
        kwargs.setdefault("timeout", (min(10.0, self.policy.timeout_s), self.policy.timeout_s))
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=(tenacity.stop_after_attempt(self.policy.max_attempts)
                  | tenacity.stop_after_delay(self.policy.budget_s)
                  | self._stop_when_told),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=lambda _state: self.stats.add(retries=1),
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, accepted, parse_json, idempotent, kwargs)
        except _Retryable as exc:
            self.stats.add(errors=1)
            raise self._unavailable(exc, url) from None

    def _attempt(self, method: str, url: str, accepted: frozenset[int], parse_json: bool,
                 idempotent: bool, kwargs: dict[str, Any]) -> tuple[requests.Response, Any]:
        if self._before_request is not None:
            self._before_request()
        self.stats.add(requests=1)
        try:
            response = self.session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            reason = certificate_failure(exc)
            if reason is not None:
                raise self._untrusted(url, reason) from None
            if not idempotent and not isinstance(exc, requests.ConnectTimeout):
                # ``failure`` tells a writer whether the platform may still be working on
                # the request (a timeout) before it looks for what the request did.
                raise UnavailableError(
                    f"{self.platform}: connection failed during a non-idempotent request",
                    platform=self.platform, url=redact_url(url),
                    failure="timeout" if isinstance(exc, requests.Timeout) else None) from None
            raise _Retryable(type(exc).__name__) from None
        except requests.RequestException as exc:
            if not idempotent:
                # E.g. a body cut off while requests read it: the write was applied, and
                # sending it again would apply it twice.
                raise UnavailableError(
                    f"{self.platform}: the answer to a non-idempotent request was cut off",
                    platform=self.platform, url=redact_url(url)) from None
            raise _Retryable(type(exc).__name__) from None
        status = response.status_code
        try:
            content = response.content
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError):
            if not idempotent:
                # The platform answered, so the write was applied: sending it again would
                # apply it twice (a second Jira issue, a second ServiceNow record).
                raise UnavailableError(
                    f"{self.platform}: the answer to a non-idempotent request was cut off",
                    platform=self.platform, url=redact_url(url)) from None
            raise _Retryable("body cut off") from None
        self.stats.add(bytes_received=len(content))
        if status == 401 and self._on_unauthorized is not None and self._on_unauthorized():
            raise _Retryable("token refreshed", wait_s=0.0)
        if status in (401, 403) and status not in accepted:
            raise AuthError(
                f"{self.platform} refused the credentials or a permission: "
                f"{redact_text(platform_message(response)) or status}",
                platform=self.platform, status=status, url=redact_url(url))
        if status == 429 or (status == 503 and "Retry-After" in response.headers):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {status}", wait_s=wait if wait is not None else None,
                             response=response)
        if status >= 500 and status not in accepted:
            if not idempotent:
                raise UnavailableError(
                    f"{self.platform} answered {status} to a write; not retried",
                    platform=self.platform, status=status, url=redact_url(url))
            raise _Retryable(f"HTTP {status}", response=response)
        if status >= 400 and status not in accepted:
            raise DataError(
                f"{self.platform} rejected the request: "
                f"{redact_text(platform_message(response)) or status}",
                platform=self.platform, status=status, url=redact_url(url))
        body: Any = None
        if parse_json and content and status != 204:
            try:
                body = json.loads(content)
            except ValueError:
                if not idempotent:
                    raise DataError(f"{self.platform} sent an unreadable body to a write",
                                    platform=self.platform, url=redact_url(url)) from None
                raise _Retryable("truncated or invalid JSON body") from None
        return response, body

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds before the next attempt: the platform's word, else backoff with jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            return exc.wait_s  # Retry-After honoured exactly, no jitter on this branch
        backoff = tenacity.wait_random_exponential(multiplier=self.policy.backoff_s,
                                                   max=self.policy.max_wait_s)
        return backoff(state)

    def _stop_when_told(self, state: tenacity.RetryCallState) -> bool:
        """Give up at once on waits longer than allowed and on Jira quota limits."""
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, _Retryable):
            return False
        if exc.wait_s is not None and exc.wait_s > self.policy.max_wait_s:
            return True
        if exc.response is not None and exc.response.status_code == 429:
            # Quota waits can be an hour: fail fast (jira-api.md §7).
            return exc.response.headers.get("RateLimit-Reason", "").startswith("jira-quota")
        return False

    def _untrusted(self, url: str, reason: str) -> ConfigError:
        # Not retried: the same certificate fails the same way; the operator must fix trust.
        verify = self.session.verify
        trusted = (f"the CA bundle {verify}" if isinstance(verify, str)
                   else "the system CA store")
        return ConfigError(
            f"{self.platform}: TLS certificate verification failed ({reason}), checked "
            f"against {trusted}. If the platform uses a private or corporate CA, set "
            "http.ca_bundle to that CA's PEM file",
            platform=self.platform, url=redact_url(url))

    def _unavailable(self, exc: _Retryable, url: str) -> UnavailableError:
        detail = exc.reason
        if exc.response is not None:
            message = platform_message(exc.response)
            if message:
                detail = f"{detail}: {redact_text(message)}"
        return UnavailableError(
            f"{self.platform} unavailable after retries: {detail}",
            platform=self.platform, url=redact_url(url))
