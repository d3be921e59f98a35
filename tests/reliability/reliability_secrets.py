"""Look for secrets in files: as written, URL-encoded, and inside Basic auth headers."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote


def secret_forms(secrets: dict[str, str], logins: dict[str, str]) -> dict[bytes, str]:
    """Byte patterns that reveal a secret, each with a name saying which and how.

    Args:
        secrets: secret values by name.
        logins: for Basic-auth secrets, the user name going with the secret's name.
    """
    forms: dict[bytes, str] = {}
    for name, value in secrets.items():
        if len(value) < 6:
            continue  # too short to mean anything in a scan
        forms[value.encode()] = name
        encoded = quote(value, safe="")
        if encoded != value:
            forms[encoded.encode()] = f"{name} (URL-encoded)"
        user = logins.get(name)
        if user is not None:
            token = base64.b64encode(f"{user}:{value}".encode())
            forms[token] = f"{name} (Basic auth header)"
    return forms


def scan(root: Path, forms: dict[bytes, str]) -> tuple[list[str], list[Path]]:
    """Every ``file: secret`` hit under ``root``, and the files scanned."""
    hits, scanned = [], []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        scanned.append(path)
        data = path.read_bytes()
        for pattern, name in forms.items():
            if pattern in data:
                hits.append(f"{path.relative_to(root)}: {name}")
    return hits, scanned
