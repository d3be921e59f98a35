"""Fixtures shared by every test."""

from __future__ import annotations

import pytest

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
