"""The HTTP transport of the sandbox: a stdlib ``ThreadingHTTPServer`` on loopback.

HTTP/1.1 with keep-alive (``Content-Length`` on every reply) so pooled clients behave as
against a real instance. The handler only parses and writes bytes; routing, auth and faults
live in :class:`connectors.servicenow.sandbox.sandbox.ServiceNowSandbox`. Transport faults
are done here: ``drop`` closes the socket unanswered, ``truncate`` sends half the body.
Bodies of 1 KiB or more are gzipped when the client sends ``Accept-Encoding: gzip``, as the
instance does (servicenow-api.md §5); ``bytes_sent`` counts body bytes on the wire.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.servicenow.sandbox.reply import ApiRequest, Reply
from connectors.tls import TLSServerMixin


class SandboxServer(TLSServerMixin, ThreadingHTTPServer):
    """A threaded server whose handler asks ``dispatcher`` for each reply.

    With ``ssl_context`` it serves HTTPS, the handshake done in each connection's thread
    (:class:`connectors.tls.TLSServerMixin`).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Any,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(address, _Handler)
        self.ssl_context = ssl_context
        self.dispatcher = dispatcher
        self.bytes_sent = 0
        self._bytes_lock = threading.Lock()

    def count_sent(self, size: int) -> None:
        """Add to the body bytes sent (benchmarks read it as "bytes received")."""
        with self._bytes_lock:
            self.bytes_sent += size


def gzip_body(payload: bytes, accept_encoding: str | None) -> bytes | None:
    """The gzipped body when the client accepts gzip and the body is worth it, else None.

    Level 1: on loopback the sandbox's CPU is the scarce resource, not bandwidth.
    """
    if len(payload) < 1024 or "gzip" not in (accept_encoding or "").lower():
        return None
    return gzip.compress(payload, compresslevel=1, mtime=0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Status line, headers and body go out as separate small writes; without this,
    # Nagle's algorithm meets the client's delayed ACK and each POST stalls ~40 ms.
    disable_nagle_algorithm = True
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the stdlib access log; the sandbox keeps its own request log."""

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET  # noqa: N815

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        method = headers.get("x-http-method-override", self.command).upper()
        request = ApiRequest(method=method, path=parts.path,
                             params=dict(parse_qsl(parts.query, keep_blank_values=True)),
                             query_string=parts.query, headers=headers, body=body)
        reply, transport_fault = self.server.dispatcher.dispatch(request)
        if transport_fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(reply, truncate=transport_fault == "truncate", head=self.command == "HEAD")

    def _write(self, reply: Reply, *, truncate: bool, head: bool) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
        self.send_response(reply.status)
        if payload or reply.raw is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        packed = gzip_body(payload, self.headers.get("Accept-Encoding"))
        if packed is not None:
            payload = packed
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Is-Logged-In", "true")
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return
        if truncate:
            payload = payload[: max(1, len(payload) // 2)]
        self.server.count_sent(len(payload))
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
