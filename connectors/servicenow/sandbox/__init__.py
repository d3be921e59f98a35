"""A faithful local emulator of the ServiceNow REST APIs (servicenow-api.md §16).

Use :class:`ServiceNowSandbox` as a context manager in tests, or
:func:`build_sandbox_from_args` from the CLI.
"""

from __future__ import annotations

from typing import Any

from connectors.servicenow.sandbox.sandbox import LoggedRequest, ServiceNowSandbox

__all__ = ["LoggedRequest", "ServiceNowSandbox", "build_sandbox_from_args"]


def build_sandbox_from_args(args: Any) -> ServiceNowSandbox:
    """A sandbox from parsed CLI flags (``host, port, seed, scale, latency_ms, fault_rate``)."""
    return ServiceNowSandbox(seed=args.seed, scale=args.scale, host=args.host, port=args.port,
                             latency_ms=getattr(args, "latency_ms", 0) or 0,
                             fault_rate=getattr(args, "fault_rate", 0.0) or 0.0)
