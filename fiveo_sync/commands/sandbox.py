"""``fiveo-sync sandbox servicenow|jira``: one platform emulator in the foreground."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fiveo_sync.errors import ConfigError


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sandbox``."""
    parser.add_argument("platform", choices=("servicenow", "jira"))
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--seed", type=int, default=7, help="data seed (same seed, same org)")
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of requests that fail (0 to 1)")
    parser.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud",
                        help="Jira only: Cloud or Data Center behaviour")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a certificate from a throwaway local CA; the CA "
                             "bundle path is printed as ca_bundle (set http.ca_bundle to it)")
    parser.add_argument("--ca-dir", type=Path, default=None,
                        help="with --tls: write the CA bundle (sandbox-ca.pem) into this folder "
                             "instead of a temporary one")


def build_sandbox(args: argparse.Namespace) -> Any:
    """The sandbox object for the parsed arguments (not started)."""
    if not 0 <= args.fault_rate <= 1:
        raise ConfigError("--fault-rate must be between 0 and 1")
    if args.ca_dir is not None and not args.tls:
        raise ConfigError("--ca-dir needs --tls")
    common = {"seed": args.seed, "scale": args.scale, "host": args.host, "port": args.port,
              "latency_ms": args.latency_ms, "fault_rate": args.fault_rate}
    if args.tls:
        common.update(tls=True, ca=_local_ca(args.ca_dir))
    if args.platform == "servicenow":
        from connectors.servicenow.sandbox import ServiceNowSandbox

        return ServiceNowSandbox(**common)
    from connectors.jira.sandbox import JiraSandbox

    return JiraSandbox(deployment=args.deployment, **common)


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Start the sandbox, print where it is and how to log in, serve until interrupted."""
    sandbox = build_sandbox(args)
    with sandbox:
        info = {"platform": args.platform, "url": sandbox.url,
                "credentials": _printable(sandbox.credentials)}
        if sandbox.ca_bundle is not None:
            info["ca_bundle"] = sandbox.ca_bundle
        print(json.dumps(info, indent=2), file=ctx.out, flush=True)
        ctx.log.info("sandbox_started", platform=args.platform, url=sandbox.url,
                     seed=args.seed, scale=args.scale, ca_bundle=sandbox.ca_bundle)
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            ctx.log.info("sandbox_stopped", platform=args.platform)
    return 0


def _local_ca(folder: Path | None) -> Any:
    from connectors.tls import LocalCA

    try:
        return LocalCA(folder)
    except OSError as exc:
        raise ConfigError(f"--ca-dir {folder}: cannot write the CA bundle there "
                          f"({exc.strerror or exc})") from None


def _printable(credentials: Any) -> Any:
    # Sandbox credentials are throwaway test values: printing them is the point.
    if isinstance(credentials, dict):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in credentials.items()}
    return credentials
