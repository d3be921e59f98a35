"""Mapping of jira-library and requests exceptions to :mod:`fiveo_sync.errors`.

The jira library raises one ``JIRAError`` for everything (jira-api.md §11); requests
raises ``ConnectionError``/``Timeout``. Both are classified by remedy at the connector
boundary, with URLs redacted and the platform's own message kept.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from fiveo_sync.errors import AuthError, DataError, FiveoSyncError, UnavailableError
from fiveo_sync.redaction import redact_text, redact_url


def _message(text: str | None) -> str:
    if not text:
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        return "" if text.lstrip().startswith("<") else redact_text(text.strip()[:200])
    if isinstance(body, dict):
        parts = list(body.get("errorMessages") or [])
        parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
        parts += [str(body[k]) for k in ("message", "errorMessage") if body.get(k)]
        return redact_text("; ".join(str(p) for p in parts))
    return ""


def map_jira_error(exc: Any) -> FiveoSyncError:
    """A ``jira.exceptions.JIRAError`` as a fiveo-sync error."""
    status = getattr(exc, "status_code", None)
    url = redact_url(str(getattr(exc, "url", "") or ""))
    message = _message(getattr(exc, "text", None)) or str(status or "error")
    if status in (401, 403):
        return AuthError(f"jira refused the credentials or a permission: {message}",
                         platform="jira", status=status, url=url)
    if status is None or status == 429 or status >= 500:
        return UnavailableError(f"jira unavailable: {message}", platform="jira",
                                status=status, url=url)
    return DataError(f"jira rejected the request: {message}", platform="jira",
                     status=status, url=url)


def map_request_error(exc: requests.RequestException, url: str) -> FiveoSyncError:
    """A requests transport error as :class:`UnavailableError`."""
    return UnavailableError(f"jira unreachable: {type(exc).__name__}", platform="jira",
                            url=redact_url(url))
