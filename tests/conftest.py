"""Fixtures shared by every test, and the fault matrix printed after the suite."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from support.fault_matrix import MATRIX, MatrixRow

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
               "http_proxy", "https_proxy", "no_proxy", "all_proxy")
# requests lets these override a session's own ``verify`` (a sandbox CA bundle) whenever
# the session trusts the environment, as third-party clients' sessions do.
_CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def _no_proxies_no_fiveo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback tests must not go through a proxy, nor pick up the developer's settings."""
    import os

    for name in _PROXY_VARS + _CA_BUNDLE_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("FIVEO_"):
            monkeypatch.delenv(name, raising=False)


# The fault matrix of tests/reliability, printed after the suite. Under pytest-xdist the
# rows are collected in the workers, which hand them to the controller as plain dicts.
def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["fault_matrix"] = [asdict(row) for row in MATRIX.rows]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    rows = getattr(node, "workeroutput", {}).get("fault_matrix", [])
    MATRIX.rows.extend(MatrixRow(**row) for row in rows)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault matrix (cells, requests, retries, outcome) after the suite."""
    if not MATRIX.rows:
        return
    terminalreporter.section("fault matrix")
    for line in MATRIX.render():
        terminalreporter.write_line(line)
