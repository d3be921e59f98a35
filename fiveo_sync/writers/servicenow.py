"""Indicator results as ``u_fiveo_indicator`` records, diffed into a ServiceNow write plan.

design.md "Write-back": one record per (indicator, scope, breakdown, period), keyed by
``u_key = fiveo:{indicator}:{scope_type}:{scope}:{breakdown or "all"}:{period}``. Values are
sent the way the Table API stores and returns them (servicenow-api.md §4, §6): strings,
``""`` for empty, date-times UTC ``YYYY-MM-DD HH:MM:SS``. Numbers are rounded to 2 decimals.

Service-view and combined results go to ServiceNow (product-view results go to Jira). A
record whose content is unchanged is skipped; ``u_run_id`` and ``u_computed_at`` are
bookkeeping and never make a record "changed" on their own. A record that vanished from the
results is marked ``u_status = retired``, never deleted.

Every period is a record, so ``u_period_state`` says whether its period had ended when it
was computed (``complete``) or is the period to date (``partial``): lists and reports filter
on it to show complete periods first (docs/owner-views.md). ``u_scope_name``,
``u_owner_name`` and ``u_owner_id`` name the service and its owner as people know them;
``u_evidence`` links to the list of exactly the records the value was computed from.
``u_owner_state`` is ``active``, or ``missing``, ``inactive``, ``not_found`` for a service
whose owner left (docs/ownership.md), ``unknown`` before users are pulled, ``""`` when not
assessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.headline import period_state
from fiveo_sync.writers.context import PublishContext
from fiveo_sync.writers.plan import Plan, WriteOp

TARGET = "servicenow"
RETIRED = "retired"
SERVICENOW_VIEWS = frozenset({"service", "combined"})

BOOKKEEPING_COLUMNS = ("u_run_id", "u_computed_at")
CONTENT_COLUMNS = (
    "u_key", "u_indicator", "u_name", "u_o", "u_view", "u_scope_type", "u_scope",
    "u_breakdown", "u_period", "u_period_start", "u_period_end", "u_value", "u_unit",
    "u_target", "u_status", "u_trend", "u_delta", "u_sample_size", "u_excluded", "u_sources",
    "u_period_state", "u_scope_name", "u_owner_name", "u_owner_id", "u_evidence",
    "u_owner_state",
)
# The deployed length of u_evidence: a longer link is left out rather than cut (a cut
# list would select other records than were counted).
EVIDENCE_MAX_CHARS = 4000
COLUMNS = CONTENT_COLUMNS + BOOKKEEPING_COLUMNS
_NUMERIC_COLUMNS = frozenset({"u_value", "u_delta", "u_sample_size", "u_excluded"})


def format_number(value: float | int | None) -> str:
    """A number as the record stores it: up to 2 decimals, no trailing zeros, ``""`` if None."""
    if value is None:
        return ""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_datetime(moment: datetime) -> str:
    """An aware datetime as a ServiceNow UTC date-time ``YYYY-MM-DD HH:MM:SS``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def build_u_key(result: IndicatorResult) -> str:
    """The record key of a result (``breakdown`` defaults to ``all``)."""
    return (f"fiveo:{result.indicator}:{result.scope_type}:{result.scope}:"
            f"{result.breakdown or 'all'}:{result.period}")


def build_evidence_text(result: IndicatorResult, context: PublishContext | None) -> str:
    """``u_evidence``: the list URL of the counted records, or ``""``.

    A ServiceNow list is preferred; a combined result counted from Jira issues gets the Jira
    issue search. A link longer than :data:`EVIDENCE_MAX_CHARS` is left out (never cut).
    """
    if context is None:
        return ""
    links = sorted(context.evidence(result), key=lambda link: link.platform != "servicenow")
    for link in links:
        if len(link.url) <= EVIDENCE_MAX_CHARS:
            return link.url
    return ""


def _owner_state(context: PublishContext, result: IndicatorResult) -> str:
    state = context.owner_state(result.scope_type, result.scope)
    return state.state if state is not None else ""


def build_record(result: IndicatorResult, *, run_id: str, computed_at: datetime,
                 context: PublishContext | None = None) -> dict[str, str]:
    """The ``u_fiveo_indicator`` column values for one result, all strings.

    Args:
        result: the indicator result.
        run_id: the run that computed it (bookkeeping column).
        computed_at: when it was computed (bookkeeping column; also what
            ``u_period_state`` is measured against).
        context: names and evidence links (None: ids only, no link).

    Returns:
        Column name to string value, for every column of :data:`COLUMNS`.
    """
    context_names = context or PublishContext()
    owner_id, owner_name = context_names.owner(result.scope_type, result.scope)
    return {
        "u_key": build_u_key(result),
        "u_indicator": result.indicator,
        "u_name": result.name,
        "u_o": result.o,
        "u_view": result.view,
        "u_scope_type": result.scope_type,
        "u_scope": result.scope,
        "u_breakdown": result.breakdown or "all",
        "u_period": result.period,
        "u_period_start": format_datetime(result.period_start),
        "u_period_end": format_datetime(result.period_end),
        "u_value": format_number(result.value),
        "u_unit": result.unit,
        "u_target": result.target,
        "u_status": result.status,
        "u_trend": result.trend,
        "u_delta": format_number(result.delta),
        "u_sample_size": str(int(result.n)),
        "u_excluded": str(int(result.excluded)),
        "u_sources": ",".join(result.sources),
        "u_period_state": period_state(result, computed_at),
        "u_scope_name": context_names.scope_name(result.scope_type, result.scope),
        "u_owner_name": owner_name,
        "u_owner_id": owner_id,
        "u_evidence": build_evidence_text(result, context),
        "u_owner_state": _owner_state(context_names, result),
        "u_run_id": run_id,
        "u_computed_at": format_datetime(computed_at),
    }


def _same(column: str, wanted: str, held: Any) -> bool:
    """Whether the platform's value equals ours, tolerating its number formatting."""
    held_text = "" if held is None else str(held)
    if held_text == wanted:
        return True
    if column in _NUMERIC_COLUMNS and wanted and held_text:
        try:
            return round(float(held_text), 2) == round(float(wanted), 2)
        except ValueError:
            return False
    return False


def changed_columns(wanted: Mapping[str, str], held: Mapping[str, Any]) -> tuple[str, ...]:
    """The content columns whose platform value differs from the wanted one."""
    return tuple(c for c in CONTENT_COLUMNS if not _same(c, wanted.get(c, ""), held.get(c)))


def build_servicenow_plan(results: Iterable[IndicatorResult],
                          current: Mapping[str, Mapping[str, Any]], *, run_id: str,
                          computed_at: datetime,
                          context: PublishContext | None = None) -> Plan:
    """Diff the results against the records ServiceNow holds into a plan.

    Args:
        results: every result to publish (product-view results are left out here).
        current: the records the platform holds, by ``u_key`` (each may carry ``sys_id``).
        run_id: the current run, written into created and updated records.
        computed_at: the computation time, written likewise.
        context: names and evidence links for the records (None: ids only, no links).

    Returns:
        A plan of ``create``, ``update``, ``skip_unchanged`` and ``mark`` operations.
    """
    ops: list[WriteOp] = []
    wanted_keys: set[str] = set()
    for result in results:
        if result.view not in SERVICENOW_VIEWS:
            continue
        record = build_record(result, run_id=run_id, computed_at=computed_at,
                              context=context)
        key = record["u_key"]
        if key in wanted_keys:
            continue  # the store keeps one result per key; tolerate repeats from callers
        wanted_keys.add(key)
        held = current.get(key)
        if held is None:
            ops.append(WriteOp("create", TARGET, key, record, reason="not on the platform"))
            continue
        ref = str(held.get("sys_id") or "")
        changed = changed_columns(record, held)
        if not changed:
            ops.append(WriteOp("skip_unchanged", TARGET, key, {}, reason="unchanged", ref=ref))
        else:
            ops.append(WriteOp("update", TARGET, key, record, reason="values changed",
                               ref=ref, changed=changed))
    for key, held in current.items():
        if key in wanted_keys:
            continue
        ref = str(held.get("sys_id") or "")
        if str(held.get("u_status") or "") == RETIRED:
            ops.append(WriteOp("skip_unchanged", TARGET, key, {}, reason="already retired",
                               ref=ref))
            continue
        # The full record goes with the mark so an import-set transform that copies empty
        # fields cannot blank the columns we do not mean to change.
        fields = {c: str(held.get(c) or "") for c in CONTENT_COLUMNS}
        fields.update(u_key=key, u_status=RETIRED, u_run_id=run_id,
                      u_computed_at=format_datetime(computed_at))
        ops.append(WriteOp("mark", TARGET, key, fields, reason="no longer in the results",
                           ref=ref, changed=("u_status",)))
    return Plan(tuple(ops))
