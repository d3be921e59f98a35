"""Removing secrets from anything that may be logged or shown.

Two nets: by *name* (keys such as ``password``, ``Authorization``, ``api_token`` and secret
query parameters lose their values) and by *value* (every secret loaded into the settings is
registered here, and any string containing one has it replaced). The second net is the
backstop for secrets that end up somewhere unexpected, such as inside an error message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

_SECRET_NAME = re.compile(
    r"(pass(word)?|passwd|secret|token|api[_-]?key|authorization|cookie|pat|"
    r"client[_-]?secret|refresh[_-]?token|access[_-]?token|credential)s?$",
    re.IGNORECASE,
)
_lock = threading.Lock()
_secret_values: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def is_secret_name(name: str) -> bool:
    """True when a key or parameter name denotes a secret."""
    return bool(_SECRET_NAME.search(name.replace("-", "_")))


def register_secret(value: str | None) -> None:
    """Remember a secret value so :func:`redact_text` removes it wherever it appears."""
    global _secret_pattern
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _secret_values:
            return
        _secret_values.add(value)
        # Longest first so that a secret containing another is masked whole.
        alternatives = sorted(_secret_values, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(v) for v in alternatives))


def redact_text(text: str) -> str:
    """Replace every registered secret value in ``text``, and auth header values."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _SECRET_PARAM_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _AUTH_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}", text)


_AUTH_IN_TEXT = re.compile(r"((?:Basic|Bearer)\s+)[A-Za-z0-9._~+/=-]{6,}")
# Secret query parameters inside free text (stdlib HTTP debug lines, error messages).
_SECRET_PARAM_IN_TEXT = re.compile(
    r"\b((?:password|passwd|api_token|access_token|refresh_token|client_secret|apikey|"
    r"api_key|token)=)[^&\s\"']+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with user info and secret query parameter values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*^=,:")
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_value(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with secret-named keys masked, recursively, and URLs redacted."""
    if _depth > 8:
        return value
    if isinstance(value, Mapping):
        return {k: (MASK if isinstance(k, str) and is_secret_name(k) and v not in (None, "")
                    else redact_value(v, _depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v, _depth + 1) for v in value)
    if isinstance(value, str):
        if "://" in value:
            return redact_url(value)
        return redact_text(value)
    return value
