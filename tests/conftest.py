"""Fixtures shared by every test."""

from __future__ import annotations

import pytest

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
               "http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxies_no_fiveo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback tests must not go through a proxy, nor pick up the developer's settings."""
    import os

    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("FIVEO_"):
            monkeypatch.delenv(name, raising=False)
