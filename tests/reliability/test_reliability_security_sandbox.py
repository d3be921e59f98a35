"""Issue 7, security: the sandboxes listen on loopback only unless told otherwise.

They serve throwaway credentials and write endpoints (plain HTTP by default), so one that bound
every interface would publish them to the network. Checked on the bound socket and by
connecting through this machine's non-loopback address (when it has one). The sandboxes
stay plain HTTP here on purpose: these tests open raw TCP connections to see which
interfaces listen, and the classes' default (``tls=False``) is what they guard.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.cli import build_parser
from fiveo_sync.commands.sandbox import build_sandbox

SANDBOXES = {"servicenow": ServiceNowSandbox, "jira": JiraSandbox}


def _external_address() -> str | None:
    """An address of this machine that is not loopback, or None (no route configured)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address  # noqa: S104


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("platform", sorted(SANDBOXES))
def test_sandbox_binds_loopback_by_default(platform):
    with SANDBOXES[platform](seed=3, scale="small") as sandbox:
        host, port = sandbox._server.server_address[:2]
        assert host == "127.0.0.1"
        assert sandbox.url == f"http://127.0.0.1:{port}"
        assert _reachable("127.0.0.1", port)
        external = _external_address()
        if external is not None:
            assert not _reachable(external, port), f"{platform} sandbox reachable on {external}"


def test_binding_elsewhere_takes_an_explicit_host():
    # Negative control for the reachability probe above: told to, it listens everywhere.
    external = _external_address()
    if external is None:
        pytest.skip("no non-loopback address on this machine")
    with JiraSandbox(seed=3, scale="small", host="0.0.0.0") as sandbox:  # noqa: S104
        assert _reachable(external, sandbox._server.server_address[1])


@pytest.mark.parametrize("platform", sorted(SANDBOXES))
def test_sandbox_command_defaults_to_loopback(platform):
    args = build_parser().parse_args(["sandbox", platform])
    assert args.host == "127.0.0.1"
    assert build_sandbox(args).host == "127.0.0.1"


@pytest.mark.parametrize("platform", sorted(SANDBOXES))
def test_sandbox_command_serves_on_loopback_only(platform):
    # The real command in the foreground, as a developer starts it.
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "fiveo_sync", "--log-format", "json", "sandbox", platform,
         "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        parts = urlsplit(json.loads("".join(lines))["url"])
        assert parts.hostname == "127.0.0.1"
        assert _reachable("127.0.0.1", parts.port), "the sandbox command stopped serving"
        external = _external_address()
        if external is not None:
            assert not _reachable(external, parts.port)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.mark.parametrize("platform", sorted(SANDBOXES))
def test_foreground_serving_of_a_started_sandbox_keeps_its_socket(platform):
    # What the sandbox command does: start (to print the URL), then serve in the foreground.
    # Binding the port a second time used to crash the ServiceNow command (exit 70).
    errors: list[BaseException] = []

    def foreground(sandbox) -> None:
        try:
            sandbox.serve_forever()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    with SANDBOXES[platform](seed=3, scale="small") as sandbox:
        worker = threading.Thread(target=foreground, args=(sandbox,), daemon=True)
        worker.start()
        assert _reachable("127.0.0.1", urlsplit(sandbox.url).port)
    worker.join(timeout=30)
    assert errors == []
    assert not worker.is_alive(), "serve_forever did not return after stop()"
