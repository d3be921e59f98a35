"""HTTPS for the sandboxes: a throwaway local CA and the server side of the handshake.

:class:`LocalCA` is made with ``trustme`` (ECDSA keys: about 10 ms for a CA and its server
certificate, so tests can afford one per process); its server certificate covers
``127.0.0.1``, ``localhost`` and ``::1``, and its CA certificate is written as a PEM file
that clients take as their CA bundle (``requests``' ``verify=``, ``http.ca_bundle``).
:func:`shared_ca` is the one CA of the process, so every sandbox started with TLS trusts
the same bundle. :class:`TLSServerMixin` makes a ``ThreadingHTTPServer`` speak TLS with the
handshake done in each connection's own thread: a client that stalls in the handshake holds
up only its own connection, never the accept loop.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import ssl
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler
from typing import Any

import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")
BUNDLE_NAME = "sandbox-ca.pem"
HANDSHAKE_TIMEOUT_S = 10.0


class LocalCA:
    """A certificate authority that lives as long as the process, and its server certificate.

    Args:
        directory: where the CA bundle PEM is written; a fresh temporary directory (removed
            at exit) when ``None``.

    Attributes:
        ca_bundle: the CA certificate PEM file clients verify the sandboxes against.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self._ca = trustme.CA(organization_name="fiveo-sync sandbox CA")
        self._cert = self._ca.issue_cert(*SERVER_NAMES)
        if directory is None:
            folder = Path(tempfile.mkdtemp(prefix="fiveo-sandbox-ca-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        else:
            folder = Path(directory)
            folder.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = folder / BUNDLE_NAME
        self._ca.cert_pem.write_to_path(str(self.ca_bundle))

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the sandbox certificate (TLS 1.2 or newer)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._cert.configure_cert(context)
        return context


_shared: LocalCA | None = None
_shared_lock = threading.Lock()


def shared_ca() -> LocalCA:
    """The process's one sandbox CA, made on first use (bundle in a temporary directory)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalCA()
        return _shared


class TLSServerMixin:
    """Mix into a ``socketserver`` server before it: TLS per connection when ``ssl_context``.

    The listening socket stays plain; each accepted socket is wrapped in
    :meth:`finish_request`, which runs in the connection's thread under
    ``ThreadingMixIn``. A failed or stalled handshake (a client that does not trust the
    CA, a port scanner, a client speaking plain HTTP) closes that connection quietly.
    """

    ssl_context: ssl.SSLContext | None = None
    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Do the handshake (when TLS is on), then let the handler serve the connection."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)  # type: ignore[misc]
            return
        previous = request.gettimeout()
        try:
            request.settimeout(self.handshake_timeout_s)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(previous)
        except (ssl.SSLError, OSError):
            return  # wrap_socket closed the socket; the client sees the alert or the close
        try:
            super().finish_request(tls, client_address)  # type: ignore[misc]
        except (ssl.SSLError, ConnectionError):
            pass  # the client hung up mid-answer (e.g. it timed out on a slow fault)
        finally:
            # socketserver's own shutdown_request gets the detached plain socket: close the
            # TLS one here (a handler may already have closed it to inject a fault).
            try:
                tls.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            tls.close()


class TLSHTTPServer(TLSServerMixin, ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that serves HTTPS when given a context, plain HTTP without.

    Args:
        address: ``(host, port)`` to bind.
        handler: the request handler class.
        ssl_context: the server context (:meth:`LocalCA.server_context`), or ``None``.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseRequestHandler],
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(address, handler)
        self.ssl_context = ssl_context
