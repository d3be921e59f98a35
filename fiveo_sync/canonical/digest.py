"""Whether the canonical file is current: a digest of everything the tables derive from.

Inputs: the table layout and fiveo-sync version (new code may normalise differently), the
parsed source maps and portfolio (comments and formatting do not count), and a mark per
stored stream — record count, newest ``updated`` and the sum of the ``updated`` instants —
with the lookup streams (groups, users, SLA definitions, services, companies, survey
metrics and surveys, Jira fields, statuses, boards) listed apart, since a change there
touches every record. A page saved, replaced or deleted moves its stream's mark; reading
the marks is one aggregate query over the store (~0.1 s for 250,000 records),
so the check runs before every ``sql`` or ``export``.

What the marks miss: a record replaced by a payload with the same ``updated`` stamp (an
overlap re-read of the same version, which is the same data).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from fiveo_sync import __version__
from fiveo_sync.canonical.schema import SCHEMA_VERSION
from fiveo_sync.errors import StateError

LOOKUP_STREAMS = frozenset({
    ("servicenow", "sys_user_group"), ("servicenow", "sys_user"),
    ("servicenow", "contract_sla"), ("servicenow", "cmdb_ci_service"),
    ("servicenow", "core_company"), ("servicenow", "asmt_metric"),
    ("servicenow", "asmt_metric_type"), ("jira", "field"), ("jira", "status"), ("jira", "board")})

# The store keeps the marks per stream (schema v5, maintained by triggers); a store of an
# older layout is aggregated. unixepoch() needs SQLite 3.38; the sum is an exact integer
# whatever the row order.
_MARKS = ("SELECT source, stream, n, newest, total FROM stream_marks WHERE n > 0 "
          "ORDER BY source, stream")
_MARKS_AGGREGATED = ("SELECT source, stream, count(*), max(updated), "
                     "coalesce(sum(unixepoch(updated)), 0) FROM records "
                     "GROUP BY source, stream ORDER BY source, stream")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fetch_stream_marks(store_path: Path) -> dict[tuple[str, str], list[Any]]:
    """``{(source, stream): [count, newest updated, sum of updated]}`` of a state store.

    Opens its own read-only connection: the aggregate is not part of the store's API and
    must never take a write lock.
    """
    uri = f"{Path(store_path).resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            kept = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'stream_marks'").fetchone()
            rows = conn.execute(_MARKS if kept else _MARKS_AGGREGATED).fetchall()
    except sqlite3.Error as exc:
        raise StateError(f"cannot read state store: {exc}", path=str(store_path)) from exc
    return {(source, stream): [count, newest, total]
            for source, stream, count, newest, total in rows}


def build_inputs(mappings: Any, marks: dict[tuple[str, str], list[Any]]) -> dict[str, Any]:
    """The digest's inputs, as a JSON-able dict (stored in the file for diagnosis)."""
    lookups = {f"{s}/{t}": mark for (s, t), mark in marks.items() if (s, t) in LOOKUP_STREAMS}
    records = {f"{s}/{t}": mark for (s, t), mark in marks.items()
               if (s, t) not in LOOKUP_STREAMS}
    return {"layout": [SCHEMA_VERSION, __version__],
            "sources": _sha(mappings.sources.model_dump_json()),
            "portfolio": _sha(mappings.portfolio.model_dump_json()),
            "lookups": lookups, "records": records}


def digest_of(inputs: dict[str, Any]) -> str:
    """The SHA-256 of the inputs (canonical JSON)."""
    return _sha(json.dumps(inputs, sort_keys=True, separators=(",", ":")))


def changed_inputs(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Names of the inputs that differ (``layout``, ``sources``, ``records`` …), for logs."""
    if not old:
        return ["no canonical file"]
    return sorted(name for name in new if old.get(name) != new[name])
