"""One ServiceNow summary record per service and product, diffed into a write plan.

The summary table (``writeback.servicenow.summary_table``, default ``u_fiveo_summary``)
holds what the portfolio page shows per element, for lists, reports and dashboards on the
platform: the owner and whether they left, the last complete period, the headline status
per O (``u_organise`` … ``u_optimise``) and per characteristic (``u_quality`` …
``u_satisfaction``), the open improvement items and the missed series
(:mod:`fiveo_sync.element_status`). A status column is ``""`` when the element has no
indicator there.

Records are keyed ``u_key = fiveo-summary:{scope_type}:{scope}`` and written like the
indicator records (servicenow-api.md §7): created once, updated with the changed columns
only, and skipped when unchanged; ``u_updated`` is bookkeeping and never makes a record
changed on its own. An element that left the portfolio keeps its last record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fiveo_sync.element_status import O_ORDER, build_element_status
from fiveo_sync.engine.spec import CHARACTERISTICS
from fiveo_sync.writers.plan import Plan, WriteOp
from fiveo_sync.writers.servicenow import format_datetime

TARGET = "servicenow"
KEY_PREFIX = "fiveo-summary"
STATUS_COLUMNS = tuple(f"u_{o}" for o in O_ORDER) + tuple(f"u_{c}" for c in CHARACTERISTICS)
CONTENT_COLUMNS = ("u_key", "u_scope_type", "u_scope", "u_scope_name", "u_owner",
                   "u_owner_state", "u_period", *STATUS_COLUMNS, "u_open_improvements",
                   "u_missed")
BOOKKEEPING_COLUMNS = ("u_updated",)
COLUMNS = CONTENT_COLUMNS + BOOKKEEPING_COLUMNS
_NUMERIC_COLUMNS = frozenset({"u_open_improvements", "u_missed"})


def build_summary_key(scope_type: str, scope: str) -> str:
    """The summary record key of a service or product."""
    return f"{KEY_PREFIX}:{scope_type}:{scope}"


def open_improvement_counts(items: Iterable[Mapping[str, Any]] | None) -> Counter:
    """Open improvement items per ``(scope_type, scope)``."""
    return Counter((str(i.get("scope_type")), str(i.get("scope"))) for i in items or ())


def build_summary_record(view: Any, *, open_items: int, updated_at: datetime) -> dict[str, str]:
    """The summary columns of one owner view (``fiveo_sync.views.View``), all strings.

    Args:
        view: the service's or product's view.
        open_items: how many improvement items are open for it.
        updated_at: when this push ran (bookkeeping column ``u_updated``).
    """
    element = build_element_status(view)
    ownership = getattr(view, "ownership", None)
    owner = getattr(view, "owner", None) or ""
    name = getattr(view, "owner_name", None)
    record = {
        "u_key": build_summary_key(view.kind, view.id),
        "u_scope_type": view.kind, "u_scope": view.id,
        "u_scope_name": view.name or view.id,
        "u_owner": f"{name} ({owner})" if name and owner and name != owner else owner,
        "u_owner_state": ownership.state if ownership is not None else "",
        "u_period": element.period,
    }
    for o in O_ORDER:
        record[f"u_{o}"] = _status_text(element.status("o", o))
    for characteristic in CHARACTERISTICS:
        record[f"u_{characteristic}"] = _status_text(
            element.status("characteristic", characteristic))
    record.update(u_open_improvements=str(open_items), u_missed=str(element.missed),
                  u_updated=format_datetime(updated_at))
    return record


def _status_text(status: str) -> str:
    return "" if status == "none" else status


def _same(column: str, wanted: str, held: Any) -> bool:
    held_text = "" if held is None else str(held)
    if held_text == wanted or column not in _NUMERIC_COLUMNS:
        return held_text == wanted
    try:  # an integer column may come back as "2.0" or " 2"
        return float(held_text) == float(wanted)
    except ValueError:
        return False


def changed_columns(wanted: Mapping[str, str], held: Mapping[str, Any]) -> tuple[str, ...]:
    """The content columns whose platform value differs from the wanted one."""
    return tuple(c for c in CONTENT_COLUMNS if not _same(c, wanted.get(c, ""), held.get(c)))


def build_summary_plan(views: Sequence[Any], current: Mapping[str, Mapping[str, Any]], *,
                       improvements: Iterable[Mapping[str, Any]] | None,
                       updated_at: datetime) -> Plan:
    """Diff the elements' summaries against the records ServiceNow holds.

    Args:
        views: the owner views, one per service and product.
        current: the summary records the platform holds, by ``u_key`` (with ``sys_id``).
        improvements: the open improvement items (dicts with ``scope_type``, ``scope``).
        updated_at: the push's clock, written into created and updated records.

    Returns:
        ``create``, ``update`` and ``skip_unchanged`` operations keyed by ``u_key``.
    """
    counts = open_improvement_counts(improvements)
    ops, seen = [], set()
    for view in views:
        record = build_summary_record(view, open_items=counts[(view.kind, view.id)],
                                      updated_at=updated_at)
        key = record["u_key"]
        if key in seen:
            continue
        seen.add(key)
        held = current.get(key)
        if held is None:
            ops.append(WriteOp("create", TARGET, key, record, reason="summary not on the platform"))
            continue
        ref = str(held.get("sys_id") or "")
        changed = changed_columns(record, held)
        if changed:
            ops.append(WriteOp("update", TARGET, key, record, reason="summary changed",
                               ref=ref, changed=changed))
        else:
            ops.append(WriteOp("skip_unchanged", TARGET, key, {}, reason="summary unchanged",
                               ref=ref))
    return Plan(tuple(ops))
