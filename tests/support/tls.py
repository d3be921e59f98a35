"""TLS in tests: ``http`` settings that trust a sandbox's throwaway CA, verification on.

Integration tests start the sandboxes with ``tls=True`` and reach them as production reaches
a platform behind a private CA: ``http.verify: true`` and ``http.ca_bundle`` set to the
sandbox's bundle (``sandbox.ca_bundle``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fiveo_sync.settings import HttpSettings


def verified_http(sandbox: Any, http: HttpSettings | None = None) -> HttpSettings:
    """``http`` (defaults when None) trusting ``sandbox``'s CA; as is for plain HTTP."""
    http = http or HttpSettings()
    if sandbox.ca_bundle is None:
        return http
    return http.model_copy(update={"verify": True, "ca_bundle": Path(sandbox.ca_bundle)})
