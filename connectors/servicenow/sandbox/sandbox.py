"""``ServiceNowSandbox``: a faithful local ServiceNow instance for tests, demos and the CLI.

Routes (servicenow-api.md §1): Table API (unversioned, ``v1``, ``v2``), Import Set API,
Attachment API, Aggregate API (``/stats``), Batch API (``/v1/batch``) and
``/oauth_token.do``. Users: ``fiveo.integration`` (read and write),
``fiveo.readonly`` (read only: writes get 403), ``admin``; an OAuth client whose
client-credentials grant runs as the integration user. Data comes from
:func:`connectors.world.build_world` (see :mod:`.generator`). The sandbox clock starts at
``world.now`` and runs in real time; :meth:`ServiceNowSandbox.advance` jumps it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from connectors.servicenow.sandbox.attachment import AttachmentApi
from connectors.servicenow.sandbox.auth import Authenticator
from connectors.servicenow.sandbox.batch import BatchApi
from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.evidence import populate_evidence
from connectors.servicenow.sandbox.faults import Faults, RateRule, fault_reply
from connectors.servicenow.sandbox.generator import (
    INTEGRATION_USER,
    READONLY_USER,
    populate,
)
from connectors.servicenow.sandbox.importset import ImportSetApi
from connectors.servicenow.sandbox.reply import ApiRequest, LoggedRequest, Reply, error_reply
from connectors.servicenow.sandbox.server import SandboxServer
from connectors.servicenow.sandbox.stats import StatsApi
from connectors.servicenow.sandbox.tableapi import Acl, TableApi, build_context
from connectors.tls import LocalCA, shared_ca
from connectors.world import build_sys_id, build_world


class ServiceNowSandbox:
    """A ServiceNow instance on loopback.

    Args:
        seed: drives all generated data.
        scale: ``small``, ``medium`` or ``large``.
        now: anchor of the generated history and start of the sandbox clock.
        host: interface to bind.
        port: TCP port (0 = ephemeral).
        latency_ms: added to every request.
        fault_rate: probability of a random fault per API request.
        fault_kinds: kinds drawn from (see :mod:`.faults`).
        tls: serve HTTPS with a certificate from ``ca`` (see :attr:`ca_bundle`).
        ca: the CA to use with ``tls`` (default :func:`connectors.tls.shared_ca`).
        **count_overrides: world count overrides, e.g. ``incidents=50_000``.
    """

    def __init__(self, seed: int = 7, scale: str = "small", now: datetime | None = None,
                 host: str = "127.0.0.1", port: int = 0, latency_ms: int = 0,
                 fault_rate: float = 0.0, fault_kinds: list[str] | tuple[str, ...] | None = None,
                 tls: bool = False, ca: LocalCA | None = None,
                 **count_overrides: int) -> None:
        self.world = build_world(seed, scale, now, **count_overrides)
        self.host, self.port = host, port
        self.latency_ms = latency_ms
        self._started = time.monotonic()
        self._offset_s = 0.0
        self.db = Database(self.clock)
        populate(self.db, self.world)
        populate_evidence(self.db, self.world)  # its own rng: the tables above unchanged
        secret = build_sys_id("sandbox-secret", seed)
        self._passwords = {INTEGRATION_USER: f"int-{secret[:12]}",
                           READONLY_USER: f"ro-{secret[12:24]}", "admin": f"adm-{secret[24:]}"}
        self._client = (f"fiveo-{secret[:8]}", f"cs-{secret[8:28]}")
        self.auth = Authenticator(dict(self._passwords),
                                  {self._client[0]: (self._client[1], INTEGRATION_USER)},
                                  self.clock)
        writers = {INTEGRATION_USER, "admin"}
        self.acl = Acl(writers)
        self.faults = Faults(fault_rate, tuple(fault_kinds) if fault_kinds else None, seed)
        self.rate_rule: RateRule | None = None
        self._list_hooks: list[Callable[[str, ApiRequest], None]] = []
        self.tables_api = TableApi(self.db, self.acl, lambda: self.url, self._after_list)
        self.import_api = ImportSetApi(self.db, writers, lambda: self.url)
        self.attachment_api = AttachmentApi(self.db, writers, lambda: self.url)
        self.stats_api = StatsApi(self.db, self.acl.can_read, lambda: self.url,
                                  lambda user: build_context(self.db, user))
        self.batch_api = BatchApi(self._route)
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._ca = (ca or shared_ca()) if tls else None
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ServiceNowSandbox:
        """Bind and serve in a background thread."""
        if self._server is None:
            self._server = self._bind()
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            name="servicenow-sandbox", daemon=True)
            self._thread.start()
        return self

    def _bind(self) -> SandboxServer:
        context = self._ca.server_context() if self._ca is not None else None
        return SandboxServer((self.host, self.port), self, context)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's foreground mode)."""
        if self._server is not None:
            # Already serving (``with sandbox:`` started it): binding the port a second time
            # failed with "Address already in use"; wait on the running server instead.
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
            return
        self._server = self._bind()
        self.port = self._server.server_address[1]
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ServiceNowSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The instance URL, e.g. ``http://127.0.0.1:54321`` (``https://`` with TLS)."""
        scheme = "https" if self._ca is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def ca_bundle(self) -> str | None:
        """The CA bundle PEM that verifies this sandbox's certificate; None without TLS."""
        return str(self._ca.ca_bundle) if self._ca is not None else None

    @property
    def credentials(self) -> dict[str, tuple[str, str]]:
        """``integration``, ``readonly`` and ``admin`` (user, password); ``oauth_client``."""
        return {"integration": (INTEGRATION_USER, self._passwords[INTEGRATION_USER]),
                "readonly": (READONLY_USER, self._passwords[READONLY_USER]),
                "admin": ("admin", self._passwords["admin"]),
                "oauth_client": self._client}

    # -- clock -----------------------------------------------------------------------------

    def clock(self) -> datetime:
        """Sandbox time: ``world.now`` plus real time elapsed plus :meth:`advance` jumps."""
        elapsed = time.monotonic() - self._started + self._offset_s
        return self.world.now + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self._offset_s += seconds

    # -- knobs -----------------------------------------------------------------------------

    def set_faults(self, rate: float, kinds: list[str] | tuple[str, ...] | None = None) -> None:
        """Random faults at ``rate`` drawn from ``kinds`` (all kinds when ``None``)."""
        self.faults.set(rate, tuple(kinds) if kinds else None)

    def fail_next(self, status: int | str, times: int = 1,
                  retry_after: float | None = None) -> None:
        """Fail the next ``times`` API requests with an HTTP status or a fault kind."""
        self.faults.fail_next(status, times, retry_after)

    def set_rate_limit(self, per_hour: int | None, user: str | None = None) -> None:
        """An hourly rate-limit rule (``None`` removes it)."""
        self.rate_rule = RateRule(per_hour, self.clock, user) if per_hour else None

    def on_list(self, hook: Callable[[str, ApiRequest], None] | None) -> None:
        """Run ``hook(table, request)`` after each list page is built (``None`` clears)."""
        self._list_hooks = [hook] if hook else []

    def _after_list(self, table: str, req: ApiRequest) -> None:
        for hook in list(self._list_hooks):
            hook(table, req)

    # -- direct data access ------------------------------------------------------------------

    def table(self, name: str) -> list[dict[str, str]]:
        """Every row of a table as ``{column: raw value}``."""
        target = self.db.tables[name]
        with self.db.lock:
            return [target.as_dict(r) for r in target.rows.values()]

    def record(self, table: str, sys_id: str) -> dict[str, str] | None:
        """One row as ``{column: raw value}``."""
        target = self.db.tables[table]
        row = target.get(sys_id)
        return None if row is None else target.as_dict(row)

    def create(self, table: str, **values: Any) -> dict[str, str]:
        """Create a record as the integration user would."""
        return self.db.tables[table].as_dict(self.db.create(table, values, "admin"))

    def update(self, table: str, sys_id: str, **values: Any) -> dict[str, str]:
        """Update a record (stamps ``sys_updated_on``); KeyError when missing."""
        row = self.db.update(table, sys_id, values, "admin")
        if row is None:
            raise KeyError(sys_id)
        return self.db.tables[table].as_dict(row)

    def delete(self, table: str, sys_id: str) -> None:
        """Delete a record, writing its ``sys_audit_delete`` row; KeyError when missing."""
        if not self.db.delete(table, sys_id, "admin"):
            raise KeyError(sys_id)

    def requests_for(self, path_part: str = "", method: str | None = None) -> int:
        """How many logged requests have ``path_part`` in their path."""
        with self._log_lock:
            return sum(1 for r in self.log if path_part in r.path
                       and (method is None or r.method == method))

    def request_counts(self) -> Counter[str]:
        """Requests per path."""
        with self._log_lock:
            return Counter(r.path for r in self.log)

    def clear_log(self) -> None:
        """Forget logged requests."""
        with self._log_lock:
            self.log.clear()

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, req: ApiRequest) -> tuple[Reply, str | None]:
        """Answer one request: ``(reply, transport fault or None)``."""
        reply, transport = self._dispatch(req)
        with self._log_lock:
            self.log.append(LoggedRequest(req.method, req.path, dict(req.params), req.user,
                                          reply.status))
        return reply, transport

    def _dispatch(self, req: ApiRequest) -> tuple[Reply, str | None]:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if req.path == "/oauth_token.do":
            return self.auth.token(req), None
        if not req.path.startswith("/api/"):
            return error_reply(400, "Requested URI does not represent any resource", None), None
        user = self.auth.user_for(req)
        if user is None:
            return self.auth.unauthorized(), None
        req.user = user
        limit_headers: dict[str, str] = {}
        if self.rate_rule is not None:
            allowed, limit_headers, wait = self.rate_rule.check(user)
            if not allowed:
                return error_reply(
                    429, "Rate limit exceeded",
                    f"Rate limit of {self.rate_rule.limit} requests per hour for Table API "
                    "exceeded", {**limit_headers, "Retry-After": str(wait)}), None
        fault = self.faults.draw()
        transport = None
        if fault is not None:
            injected = fault_reply(fault, self.clock())
            if injected is not None:
                return injected, None
            if fault.kind == "slow":
                time.sleep(self.faults.slow_s)
            transport = fault.kind if fault.kind in ("drop", "truncate") else None
        reply = self._route(req)
        reply.headers.update(limit_headers)
        return reply, transport

    def _route(self, req: ApiRequest) -> Reply:
        parts = [p for p in req.path.split("/") if p][2:]  # drop "api", "now"
        version = ""
        if parts and parts[0] in ("v1", "v2"):
            version, parts = parts[0], parts[1:]
        if len(parts) >= 2 and parts[0] == "table" and len(parts) <= 3:
            return self.tables_api.handle(req, version, parts[1],
                                          parts[2] if len(parts) == 3 else None)
        if len(parts) >= 2 and parts[0] == "import" and len(parts) <= 3:
            return self.import_api.handle(req, parts[1], parts[2] if len(parts) == 3 else None)
        if parts and parts[0] == "attachment":
            return self.attachment_api.handle(req, "/".join(parts[1:]))
        if len(parts) == 2 and parts[0] == "stats":
            return self.stats_api.handle(req, parts[1])
        if parts == ["batch"]:
            return self.batch_api.handle(req)
        return error_reply(400, "Requested URI does not represent any resource", None)
