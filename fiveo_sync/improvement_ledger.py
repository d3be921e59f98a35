"""The loop's history: every improvement item fiveo-sync created, when it opened and ended.

Kept in the state store (meta ``improvement_ledger``, one entry per item key) so the
Optimise indicators can measure the loop itself (improvements opened and closed per
quarter, time to restore the target). Pure functions over the entries; the push step
(:mod:`fiveo_sync.commands.push_improvement`) saves them.

Writes are recorded ahead (``intend``) and confirmed after (``settle``), so a run killed
between a write landing and its confirmation is settled by the next run from what the
platforms hold (``reconcile``):

- ``pending``: a create was sent at ``opened_at``; becomes ``open`` once it landed;
- ``resolving``: a resolve was sent at ``resolved_at``; becomes ``resolved`` once it landed;
- ``open`` found closed on the platform without fiveo-sync resolving it → ``closed_by_owner``
  (``resolved_at`` is the run that noticed).

``pending`` entries (a create that never landed) are no record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from fiveo_sync.engine.result import format_utc, parse_utc
from fiveo_sync.improvement import CREATE, LEAVE, RESOLVE, ImprovementItem, jira_label
from fiveo_sync.records_evidence import Improvement

LEDGER_KEY = "improvement_ledger"
PENDING, OPEN, RESOLVING = "pending", "open", "resolving"
RESOLVED, CLOSED_BY_OWNER = "resolved", "closed_by_owner"
_LANDED = ("created", "updated", "unchanged", "marked")


def _entry(item: ImprovementItem, state: str, opened_at: str) -> dict[str, Any]:
    return {"key": item.key, "platform": item.platform, "indicator": item.indicator,
            "scope_type": item.scope_type, "scope": item.scope, "breakdown": item.breakdown,
            "state": state, "opened_at": opened_at, "resolved_at": None}


def _held(held: Mapping[str, Any], key: str) -> Any:
    return held.get(key) or held.get(jira_label(key))


def reconcile(ledger: Mapping[str, dict], items: Iterable[ImprovementItem],
              held: Mapping[str, Any], now: datetime) -> dict[str, dict]:
    """Settle the entries against the items the platforms hold (read before writing).

    Items fiveo-sync finds on a platform but has no entry for (made before the ledger
    existed) are entered as first seen at ``now``.
    """
    out = {key: dict(entry) for key, entry in ledger.items()}
    stamp = format_utc(now)
    for key, entry in out.items():
        found = _held(held, key)
        if found is None:
            continue
        if entry["state"] == PENDING:
            entry["state"] = OPEN  # the create of a killed run landed
        if entry["state"] == RESOLVING and found.closed:
            entry["state"] = RESOLVED
        elif entry["state"] == OPEN and found.closed:
            entry.update(state=CLOSED_BY_OWNER, resolved_at=stamp)
    for item in items:
        if item.key in out or item.action == CREATE or _held(held, item.key) is None:
            continue
        entry = out[item.key] = _entry(item, OPEN, stamp)
        if item.action == LEAVE:
            entry.update(state=CLOSED_BY_OWNER, resolved_at=stamp)
    return out


def intend(ledger: Mapping[str, dict], items: Iterable[ImprovementItem],
           now: datetime) -> dict[str, dict]:
    """Record the creates and resolves about to be sent (before sending them)."""
    out = {key: dict(entry) for key, entry in ledger.items()}
    stamp = format_utc(now)
    for item in items:
        entry = out.get(item.key)
        if item.action == CREATE and (entry is None or entry["state"] == PENDING):
            out[item.key] = _entry(item, PENDING, stamp)
        elif item.action == RESOLVE:
            entry = out.setdefault(item.key, _entry(item, OPEN, stamp))
            entry.update(state=RESOLVING, resolved_at=stamp)
    return out


def settle(ledger: Mapping[str, dict], landed: Iterable[str]) -> dict[str, dict]:
    """Confirm the entries whose write landed (``landed``: item keys)."""
    out = {key: dict(entry) for key, entry in ledger.items()}
    for key in landed:
        entry = out.get(key)
        if entry is None:
            continue
        if entry["state"] == PENDING:
            entry["state"] = OPEN
        elif entry["state"] == RESOLVING:
            entry["state"] = RESOLVED
    return out


def landed_keys(report: Any) -> list[str]:
    """The item keys a write report shows as written (or found unchanged)."""
    return [o.key for o in getattr(report, "outcomes", ()) if o.action in _LANDED]


def improvement_records(ledger: Mapping[str, dict] | None) -> tuple[Improvement, ...]:
    """The entries as canonical records, by key; a resolve not yet confirmed is open."""
    out = []
    for key in sorted(ledger or {}):
        entry = (ledger or {})[key]
        state = entry.get("state")
        if state == PENDING:
            continue
        ended = state in (RESOLVED, CLOSED_BY_OWNER)
        out.append(Improvement(
            id=key, indicator=str(entry.get("indicator") or ""),
            scope_type=str(entry.get("scope_type") or ""), scope=str(entry.get("scope") or ""),
            breakdown=str(entry.get("breakdown") or "all"),
            state=state if ended else OPEN,
            opened_at=parse_utc(entry["opened_at"]) if entry.get("opened_at") else None,
            resolved_at=parse_utc(entry["resolved_at"]) if ended and entry.get("resolved_at")
            else None))
    return tuple(out)
