"""Load a golden case: canonical records, portfolio, mappings, history, hand-written expectations.

Records are CANONICAL (indicators.md §2.1 names), one JSON object per line with a ``kind``.
Expectations are written by hand from indicators.md; nothing here is produced by the engine.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from fiveo_sync import records as rec
from fiveo_sync.compute import compute_records
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.engine.spec import IndicatorFileSpec

REPO = Path(__file__).resolve().parents[2]
SHIPPED_INDICATORS = REPO / "mappings" / "indicators"
CASES = Path(__file__).resolve().parent / "cases"

DEFAULT_PORTFOLIO = {
    "version": 1, "kind": "portfolio",
    "services": [{"id": "payments", "business_service": "6f3c0e0adb1e1010a3b5f1b2ca9619c2",
                  "products": ["payments-web"]}],
    "products": [{"id": "payments-web", "jira_projects": ["PAY"], "boards": [12]}],
}

_KINDS = {
    "incident": (rec.Incident, "incidents"), "change": (rec.Change, "changes"),
    "problem": (rec.Problem, "problems"), "sla": (rec.Sla, "slas"),
    "work_item": (rec.WorkItem, "work_items"), "sprint": (rec.Sprint, "sprints"),
    "sprint_scope": (rec.SprintScope, "sprint_scopes"),
    "outage": (rec.Outage, "outages"), "survey_response": (rec.SurveyResponse, "survey_responses"),
    "improvement": (rec.Improvement, "improvements"),
}
_DEFAULTS = {"reopen_count": 0, "major": False, "known_error": False, "has_breached": False,
             "is_subtask": False, "status_category": "new", "labels": frozenset(),
             "sprints": (), "status_history": (), "jira_keys": frozenset(), "kind": "resolution",
             "stage": "completed", "items": (), "answered": False, "answers": 0,
             "security": False, "breakdown": "all"}


def when(text: str | None) -> datetime | None:
    """Parse ``2025-03-03T08:00Z`` style text into aware UTC."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _build(kind: str, row: dict[str, Any]) -> Any:
    cls, _ = _KINDS[kind]
    kwargs: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        name = spec.name
        if name not in row and name not in _DEFAULTS and \
                spec.default is not dataclasses.MISSING:
            continue  # the record's own default (an empty history)
        value = row.get(name, _DEFAULTS.get(name))
        if isinstance(value, str) and name in (
                "opened_at", "resolved_at", "closed_at", "work_end", "start_time", "end_time",
                "created", "done_at", "started_at", "start", "complete", "taken_at",
                "begin", "end", "sent_at", "taken_on"):
            value = when(value)
        elif name in ("jira_keys", "labels"):
            value = frozenset(value or ())
        elif name == "sprints":
            value = tuple(value or ())
        elif name == "status_history":
            value = tuple(rec.StatusChange(when(c["at"]), c.get("from"), c.get("to"),
                                           c.get("to_status")) for c in value or ())
        elif name == "items":
            value = tuple(rec.SprintScopeItem(i["key"], i.get("story_points"),
                                              i.get("status_category")) for i in value or ())
        kwargs[name] = value
    return cls(**kwargs)


def load_records(path: Path) -> rec.CanonicalData:
    """CanonicalData from a JSONL file of canonical records."""
    grouped: dict[str, list[Any]] = {attr: [] for _, attr in _KINDS.values()}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        row = json.loads(line)
        kind = row.pop("record")
        grouped[_KINDS[kind][1]].append(_build(kind, row))
    return rec.CanonicalData(**{k: tuple(v) for k, v in grouped.items()})


def load_indicator_files(directory: Path) -> list[IndicatorFileSpec]:
    """Indicator files of a mappings directory, validated."""
    return [IndicatorFileSpec.model_validate(yaml.safe_load(p.read_text()))
            for p in sorted(directory.glob("*.yaml"))]


def history_result(row: dict[str, Any]) -> dict[str, Any]:
    """A stored-result payload from the few fields a case gives for its history."""
    base = {"name": "", "o": row["indicator"].split(".")[0], "view": "service",
            "scope_type": "service", "scope": "payments", "breakdown": "all",
            "period_kind": "month", "unit": "", "n": 5, "excluded": 0, "target": "",
            "target_low": None, "target_high": None, "direction": "down", "status": "met",
            "baseline": None, "trend": "none", "delta": None, "sources": [], "flags": {},
            "snapshot": False}
    base.update(row)
    return base


def run_case(case: Path, indicators_dir: Path | None = None) -> list[IndicatorResult]:
    """Compute a case with the shipped (or the case's own) indicator files.

    The records fill in-memory canonical tables and go the way of a stored run's: the SQL
    engine, then periods, status and trends (``compute.compute_records``).
    """
    meta = json.loads((case / "case.json").read_text())
    portfolio = PortfolioSpec.model_validate(meta.get("portfolio", DEFAULT_PORTFOLIO))
    directory = indicators_dir or (case / "indicators" if (case / "indicators").is_dir()
                                   else SHIPPED_INDICATORS)
    history = [history_result(r) for r in meta.get("history", [])]
    return compute_records(load_indicator_files(directory),
                           load_records(case / "records.jsonl"), portfolio, when(meta["now"]),
                           history)
