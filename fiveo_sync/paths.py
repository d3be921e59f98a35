"""Where the shipped mapping files and example settings are, in a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The shipped ``mappings`` or ``config`` folder.

    A source checkout (and an editable install) has them at the repository root; a wheel
    carries copies under ``fiveo_sync/_data/``.
    """
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped {name}/ folder is missing from this installation")
