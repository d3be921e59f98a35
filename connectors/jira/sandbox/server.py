"""The Jira sandbox: a threaded loopback HTTP server emulating Cloud or Data Center.

Transport behaviours (jira-api.md §7–10): Basic email + API token on Cloud, Bearer PAT on
Data Center, a read-only account whose writes answer 403; injected faults (429 with
``Retry-After`` and ``RateLimit-Reason``, 500, 503, slow answers, dropped connections,
truncated bodies); a request log with counters per path for tests. Bodies of 1 KiB or
more are gzipped when the client sends ``Accept-Encoding: gzip``, as Atlassian's edge does;
``bytes_sent`` counts body bytes on the wire.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from connectors.jira.sandbox.dataset import Dataset
from connectors.jira.sandbox.render import Renderer
from connectors.jira.sandbox.routing import Reply, Request, route
from connectors.tls import LocalCA, TLSHTTPServer, shared_ca
from connectors.world import World, build_world

FAULT_KINDS = ("429", "500", "503", "slow", "drop", "truncate")


class JiraSandbox:
    """A faithful local Jira (Cloud or Data Center) over real HTTP on loopback.

    Args:
        seed: drives the generated organisation and data.
        scale: ``small``, ``medium`` or ``large`` (``large`` >= 100,000 issues).
        deployment: ``cloud`` or ``datacenter``.
        now: the anchor of generated data; the sandbox clock advances from it in real time.
        host: the interface to bind.
        port: 0 picks a free port.
        latency_ms: delay added to every request.
        fault_rate: probability that a request is answered with an injected fault.
        fault_kinds: which faults to inject (default all of :data:`FAULT_KINDS`).
        user_time_zone: the ``/myself`` time zone of the integration accounts.
        sprint_field: ``strings`` renders the Data Center sprint field in the old Server
            form (``…Sprint@…[id=…,goal=a, b,…]``); Cloud always serves objects.
        index_lag_s: Cloud search misses issues updated this recently unless they are
            named in ``reconcileIssues`` (jira-api.md §2.1).
        tls: serve HTTPS with a certificate from ``ca`` (see :attr:`ca_bundle`).
        ca: the CA to use with ``tls`` (default :func:`connectors.tls.shared_ca`).
        **count_overrides: passed to :func:`connectors.world.build_world`
            (e.g. ``jira_issues=20_000``).
    """

    def __init__(self, seed: int = 7, scale: str = "small", deployment: str = "cloud",
                 now: datetime | None = None, host: str = "127.0.0.1", port: int = 0,
                 latency_ms: int = 0, fault_rate: float = 0.0,
                 fault_kinds: Iterable[str] | None = None,
                 user_time_zone: str = "Pacific/Auckland", sprint_field: str = "objects",
                 index_lag_s: float = 0.0, tls: bool = False, ca: LocalCA | None = None,
                 **count_overrides: int) -> None:
        if deployment not in ("cloud", "datacenter"):
            raise ValueError("deployment must be 'cloud' or 'datacenter'")
        if sprint_field not in ("objects", "strings"):
            raise ValueError("sprint_field must be 'objects' or 'strings'")
        self.deployment = deployment
        self.cloud = deployment == "cloud"
        self.world: World = build_world(seed, scale, now, **count_overrides)
        self.data = Dataset(self.world, deployment)
        self.data.sprint_strings = sprint_field == "strings"
        self.data.index_lag_s = index_lag_s
        self.zone = ZoneInfo(user_time_zone)
        self.host, self.port = host, port
        self.latency_ms = latency_ms
        self.request_log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.counters: Counter[str] = Counter()
        self.writes: list[tuple[str, str, Any]] = []
        # (issue key, kind) of every write that asked Jira to notify watchers
        # (``notifyUsers`` true or absent), for tests of calm write-back.
        self.notifications: list[tuple[str, str]] = []
        self.bytes_sent = 0
        self.properties: dict[tuple[str, str], Any] = {}
        self.dashboards: list[dict[str, Any]] = []
        self.search_hooks: list[Callable[[JiraSandbox], None]] = []
        self._faults_rng = random.Random(seed * 7919 + 13)
        self._fault_rate = fault_rate
        self._fault_kinds = tuple(fault_kinds or FAULT_KINDS)
        self._forced: list[tuple[int, str | None]] = []
        self._repeat_token = 0
        self._lock = threading.Lock()
        self._started_at = time.monotonic()
        self._offset = timedelta(0)
        self._ca = (ca or shared_ca()) if tls else None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.credentials, self.readonly_credentials = self._build_credentials(seed)

    # -- credentials --------------------------------------------------------------------

    def _build_credentials(self, seed: int) -> tuple[dict[str, str], dict[str, str]]:
        if self.cloud:
            return ({"email": "svc-fiveo@example.org", "api_token": f"ATATT-sandbox-{seed}"},
                    {"email": "viewer@example.org", "api_token": f"ATATT-viewer-{seed}"})
        return ({"pat": f"NjQ-sandbox-pat-{seed}"}, {"pat": f"NjQ-viewer-pat-{seed}"})

    def authenticate(self, header: str | None) -> str | None:
        """``admin``, ``viewer`` or ``None`` for an ``Authorization`` header."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        accounts = {"admin": self.credentials, "viewer": self.readonly_credentials}
        if self.cloud and scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            for role, cred in accounts.items():
                if cred["email"] == email and cred["api_token"] == token:
                    return role
        if not self.cloud and scheme.lower() == "bearer":
            for role, cred in accounts.items():
                if cred["pat"] == value.strip():
                    return role
        return None

    # -- clock and knobs ----------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox clock: ``world.now`` plus real elapsed time plus :meth:`advance`."""
        elapsed = timedelta(seconds=time.monotonic() - self._started_at)
        return self.world.now + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self._offset += timedelta(seconds=seconds)

    def set_faults(self, rate: float, kinds: Iterable[str] | None = None) -> None:
        """Inject faults on a fraction ``rate`` of requests."""
        with self._lock:
            self._fault_rate = rate
            self._fault_kinds = tuple(kinds or FAULT_KINDS)

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (429/503 carry Retry-After)."""
        with self._lock:
            self._forced.extend([(status, retry_after)] * times)

    def repeat_next_page_token(self, times: int = 1) -> None:
        """Make the next Cloud search page hand back the token it was called with."""
        with self._lock:
            self._repeat_token += times

    def take_repeat_token(self) -> bool:
        """Consume one pending repeated-token fault."""
        with self._lock:
            if self._repeat_token:
                self._repeat_token -= 1
                return True
            return False

    def after_next_search_page(self, hook: Callable[[JiraSandbox], None]) -> None:
        """Run ``hook(sandbox)`` right after the next search page is computed."""
        with self._lock:
            self.search_hooks.append(hook)

    def requests_to(self, fragment: str) -> int:
        """How many requests had ``fragment`` in their path."""
        with self._lock:
            return sum(n for path, n in self.counters.items() if fragment in path)

    def reset_log(self) -> None:
        """Forget the request log and counters."""
        with self._lock:
            self.request_log.clear()
            self.counters.clear()

    def _draw_fault(self) -> tuple[str, str | None] | None:
        with self._lock:
            if self._forced:
                status, retry_after = self._forced.pop(0)
                return str(status), retry_after
            if self._fault_rate and self._faults_rng.random() < self._fault_rate:
                return self._faults_rng.choice(self._fault_kinds), "0"
        return None

    # -- data helpers for tests ---------------------------------------------------------

    def renderer(self, version: str = "2") -> Renderer:
        """A renderer as the admin account would see the API."""
        return Renderer(self.url, self.cloud, version, self.zone, self.world.people,
                        self.data.fields)

    def update_issue(self, key: str, **changes: Any) -> None:
        """Update an issue now (status id, summary, labels_add, points, ...)."""
        self.data.update_issue(key, self.now(), **changes)

    def create_issue(self, project: str, kind: str = "Task", summary: str = "New work") -> str:
        """Create an issue now; returns its key."""
        return self.data.create_issue(project, kind, summary, self.now()).key

    def delete_issue(self, key: str) -> None:
        """Delete an issue (no tombstone, as in Jira)."""
        self.data.delete_issue(key)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (``https://`` with TLS)."""
        scheme = "https" if self._ca is not None else "http"
        if self._server is None:
            return f"{scheme}://{self.host}:{self.port}"
        host, port = self._server.server_address[:2]
        return f"{scheme}://{host}:{port}"

    @property
    def ca_bundle(self) -> str | None:
        """The CA bundle PEM that verifies this sandbox's certificate; None without TLS."""
        return str(self._ca.ca_bundle) if self._ca is not None else None

    def _bind(self) -> ThreadingHTTPServer:
        context = self._ca.server_context() if self._ca is not None else None
        return TLSHTTPServer((self.host, self.port), _make_handler(self), context)

    def start(self) -> JiraSandbox:
        """Bind and serve in a daemon thread."""
        self._server = self._bind()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="jira-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (the ``fiveo-sync sandbox jira`` command)."""
        if self._server is not None and self._thread is not None:
            # Already serving (``with sandbox:`` started it): a second serve loop on the same
            # server could outlive stop(); wait on the running one instead.
            while self._thread.is_alive():
                self._thread.join(0.5)
            return
        if self._server is None:
            self._server = self._bind()
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JiraSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, method: str, target: str, headers: dict[str, str],
               body: bytes) -> tuple[Reply, str | None]:
        """Answer one request (without transport faults); also returns any fault kind."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.request_log.append((method, parts.path, query))
            self.counters[parts.path] += 1
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        fault = self._draw_fault()
        if fault is not None and fault[0] not in ("slow", "drop", "truncate"):
            return _fault_reply(int(fault[0]), fault[1], self.cloud), None
        role = self.authenticate(headers.get("authorization"))
        version = "3" if parts.path.startswith("/rest/api/3/") else "2"
        try:
            # Multipart uploads (attachments) reach their route as raw bytes.
            multipart = headers.get("content-type", "").startswith("multipart/")
            payload = body if multipart else json.loads(body) if body else None
        except ValueError:
            return Reply(400, {"errorMessages": ["Unexpected character in the request body."],
                               "errors": {}}), None
        request = Request(method, parts.path, query, payload, role, version,
                          self.renderer(version), headers)
        reply = route(self, request)
        return reply, fault[0] if fault else None


def _fault_reply(status: int, retry_after: str | None, cloud: bool) -> Reply:
    headers = {}
    if status == 429:
        headers = {"Retry-After": retry_after or "1", "X-RateLimit-Limit": "100",
                   "X-RateLimit-Remaining": "0"}
        if cloud:
            headers["RateLimit-Reason"] = "jira-burst-based"
            return Reply(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                         headers)
        headers["X-RateLimit-FillRate"] = "10"
        headers["X-RateLimit-Interval-Seconds"] = "1"
        return Reply(429, "<html><head><title>429 Too Many Requests</title></head>"
                          "<body><h1>HTTP Status 429 – Too Many Requests</h1></body></html>",
                     headers, content_type="text/html;charset=UTF-8")
    if status == 503:
        return Reply(503, "<html><body>Service Unavailable</body></html>",
                     {"Retry-After": retry_after or "1"}, content_type="text/html")
    return Reply(status, {"errorMessages": ["Internal server error"], "errors": {}})


def _gzip_body(data: bytes, accept_encoding: str | None) -> bytes | None:
    """Gzipped ``data`` when the client accepts gzip and it is 1 KiB or more, else None.

    Level 1: on loopback the sandbox's CPU is the scarce resource, not bandwidth.
    """
    if len(data) < 1024 or "gzip" not in (accept_encoding or "").lower():
        return None
    return gzip.compress(data, compresslevel=1, mtime=0)


def _make_handler(sandbox: JiraSandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Status line, headers and body go out as separate small writes; without this,
        # Nagle's algorithm meets the client's delayed ACK and each POST stalls ~40 ms.
        disable_nagle_algorithm = True
        server_version = "JiraSandbox/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Stay quiet; the sandbox keeps its own request log."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply, fault = sandbox.handle(self.command, self.path, headers, body)
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "slow":
                time.sleep(0.2)
            data = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            packed = _gzip_body(data, headers.get("accept-encoding"))
            if packed is not None:
                data = packed
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Vary", "Accept-Encoding")
            with sandbox._lock:
                sandbox.bytes_sent += len(data)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault == "truncate" and len(data) > 4:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.close()
                return
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815

    return Handler
