"""Issue 7, security: the sandboxes listen on loopback only unless told otherwise.

They serve throwaway credentials and write endpoints with no TLS, so a default that bound
every interface would publish them to the network. Checked on the bound socket and by
connecting through this machine's non-loopback address (when it has one).
"""

from __future__ import annotations

import socket

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
