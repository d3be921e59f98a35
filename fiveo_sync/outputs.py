"""Local outputs of a run: the HTML dashboard and ``results.json`` from the stored results.

Both show the owner views of :func:`fiveo_sync.views.load_owner_views`: per series the last
complete period (``headline``) and the current period to date (``partial``), owners by
display name, evidence links to the counted records.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fiveo_sync.commands.report import views_to_json
from fiveo_sync.report.html import write_dashboard
from fiveo_sync.state.store import StateStore
from fiveo_sync.views import load_owner_views


def write_outputs(store: StateStore, mappings: Any, out_dir: Path, *,
                  generated_at: datetime, settings: Any = None) -> list[Path]:
    """Write the dashboard (a page per view, ``index.html``) and ``results.json``.

    Args:
        store: the state store.
        mappings: the loaded mappings (``portfolio``).
        out_dir: the output folder.
        generated_at: the run's clock: periods ending by then are complete.
        settings: the settings, for the instance URLs of evidence links (None: no links).
    """
    views = load_owner_views(store, mappings.portfolio, settings, generated_at)
    written = write_dashboard(views, out_dir, generated_at=generated_at,
                              improvement_manager=improvement_manager_label(
                                  store, mappings.portfolio),
                              improvements=open_improvement_items(store, mappings))
    document = {"generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "views": views_to_json(views)}
    written.append(write_json_atomically(out_dir / "results.json", document))
    return written


def open_improvement_items(store: Any, mappings: Any) -> list[dict[str, Any]] | None:
    """The open improvement items the last push left, or None without ``improvement.yaml``."""
    if getattr(mappings, "improvement", None) is None or not hasattr(store, "get_meta"):
        return None
    from fiveo_sync.improvement import OPEN_ITEMS_KEY

    return store.get_meta(OPEN_ITEMS_KEY) or []


def improvement_manager_label(store: Any, portfolio: Any) -> str | None:
    """``Name (id)`` of the portfolio's continual improvement manager, or None."""
    from fiveo_sync.names import build_name_book

    manager = getattr(getattr(portfolio, "governance", None), "improvement_manager", None)
    return build_name_book(store, [manager]).label(manager) if manager else None


def write_json_atomically(path: Path, document: Any) -> Path:
    """Write JSON to ``path`` via a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
