"""Improvement items as write plans: ServiceNow records (services), Jira issues (products).

The decisions come from :func:`fiveo_sync.improvement.plan_improvements`; here they become
:class:`~fiveo_sync.writers.plan.WriteOp` values the connectors' improvement executors
carry out (``docs/improvement.md``). Every op's key is the item key; a resolve is an
``update`` whose reason says so (the plan's four actions stay as they are).

- ServiceNow: one record of the configured table (``sn_cim_register``), the key in its
  ``key_field`` (``correlation_id``); ``state`` is the new state on create and the resolved
  state with ``close_notes`` on resolve; ``assigned_to`` is the sys_id of the assignee
  where the pulled ``sys_user`` knows it.
- Jira: an issue in the product's project with the configured type and label, plus the
  label :func:`fiveo_sync.improvement.jira_label` (the key's hash: labels hold no ``:``
  safely in every JQL client); resolving comments the note and moves the issue to a done
  status in one transition.

Both descriptions end with ``digest <16 hex>``: the content fiveo-sync last wrote, read
back to skip unchanged items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.improvement import (
    CREATE,
    LEAVE,
    RESOLVE,
    UNCHANGED,
    UPDATE,
    ImprovementItem,
    jira_label,
)
from fiveo_sync.writers import jira_markup
from fiveo_sync.writers.plan import Plan, WriteOp

SUMMARY_MAX = 255  # Jira's summary limit; ServiceNow short_description is 160 by default
SHORT_DESCRIPTION_MAX = 160
PERIOD_HEADER = ("Period", "Value", "Status", "Evidence")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def description_lines(item: ImprovementItem) -> list[str]:
    """The plain-text description: what was missed, when, by how much, and the evidence."""
    lines = [item.title, "",
             f"Indicator: {item.name} ({item.indicator})",
             f"{item.scope_type.capitalize()}: {item.scope_name} ({item.scope}); "
             f"breakdown: {item.breakdown}",
             f"Target: {item.target}", "", "Complete periods:"]
    for period, value, status, url in item.periods:
        lines.append(f"- {period}: {value} ({status})" + (f" evidence: {url}" if url else ""))
    lines += ["", item.assignee_note,
              f"Kept up to date by fiveo-sync: item {item.key}, digest {item.digest}"]
    return lines


def build_servicenow_improvement_plan(items: Iterable[ImprovementItem], spec: ImprovementSpec,
                                      users: Mapping[str, str] | None = None) -> Plan:
    """The ServiceNow ops of the services' items.

    Args:
        items: planner decisions (products' items are left out here).
        spec: the improvement file (table columns, states).
        users: ``user_name`` → ``sys_id`` of pulled users, for ``assigned_to``.

    Returns:
        A plan keyed by item key.
    """
    target = spec.servicenow
    ops = []
    for item in items:
        if item.platform != "servicenow":
            continue
        if item.action in (UNCHANGED, LEAVE):
            ops.append(WriteOp("skip_unchanged", "servicenow", item.key, {}, item.reason,
                               ref=item.ref))
            continue
        fields = {"short_description": _cut(item.title, SHORT_DESCRIPTION_MAX),
                  "description": "\n".join(description_lines(item)),
                  "assigned_to": (users or {}).get(item.assignee, "")}
        if item.action == CREATE:
            fields.update({target.key_field: item.key, "state": target.new_state})
            ops.append(WriteOp("create", "servicenow", item.key, fields, item.reason))
        elif item.action == UPDATE:
            ops.append(WriteOp("update", "servicenow", item.key, fields, item.reason,
                               ref=item.ref, changed=tuple(fields)))
        elif item.action == RESOLVE:
            fields.update(state=target.resolved_state, close_notes=item.note)
            ops.append(WriteOp("update", "servicenow", item.key, fields,
                               "resolve: " + item.reason, ref=item.ref,
                               changed=tuple(fields)))
    return Plan(tuple(ops))


def _jira_description(item: ImprovementItem, flavour: str) -> Any:
    """The issue description, within Jira's size limit.

    A period's evidence link lists up to 2,000 record keys, so an episode of a large
    product does not fit: the longest links become plain text first, as on the scorecard,
    then the earliest periods leave, the intro saying how many (the dashboard and the
    ServiceNow side keep them all). The digest stays that of the whole item.
    """
    limit = jira_markup.MAX_DESCRIPTION_CHARS
    for budget in jira_markup.LINK_BUDGETS:
        document, size = _jira_document(item, flavour, budget, item.periods)
        if size <= limit:
            return document
    # The most recent periods that fit, found by bisection (an item can span hundreds).
    fits, over = 0, len(item.periods)
    while over - fits > 1:
        middle = (fits + over) // 2
        if _jira_document(item, flavour, 0, item.periods[-middle:])[1] <= limit:
            fits = middle
        else:
            over = middle
    return _jira_document(item, flavour, 0, item.periods[-max(fits, 1):])[0]


def _jira_document(item: ImprovementItem, flavour: str, budget: int,
                   periods: tuple[tuple[str, str, str, str], ...]) -> tuple[Any, int]:
    rows = [(period, value, jira_markup.Lozenge(status, _COLOURS.get(status, "neutral")),
             _records_cell(url, budget))
            for period, value, status, url in periods]
    intro = (f"{item.name} ({item.indicator}) of {item.scope_name}: target {item.target}. "
             f"{item.assignee_note} Kept up to date by fiveo-sync: item {item.key}, "
             f"digest {item.digest}.")
    left = len(item.periods) - len(periods)
    if left:
        intro += (f" The {left} earliest period{'s are' if left > 1 else ' is'} left out "
                  "here to stay within Jira's size limit (the dashboard shows all).")
    section = [("Complete periods", rows)]
    if flavour == "adf":
        document = jira_markup.build_adf_document(intro, section, PERIOD_HEADER)
    else:
        document = jira_markup.build_wiki_document(intro, section, PERIOD_HEADER)
    return document, jira_markup.document_size(document)


def _records_cell(url: str, budget: int) -> jira_markup.Cell:
    if not url:
        return "–"
    if len(url) <= budget:
        return ("records", url)
    return "records: too many for a link here, see the dashboard"


_COLOURS = {"met": "green", "at_risk": "yellow", "missed": "red"}


def _jira_comment(note: str, flavour: str) -> Any:
    if flavour == "adf":
        return jira_markup.build_adf_list(note, [])
    return jira_markup.build_wiki_list(note, [])


def build_jira_improvement_plan(items: Iterable[ImprovementItem], spec: ImprovementSpec, *,
                                flavour: str,
                                assignees: Mapping[str, str] | None = None) -> Plan:
    """The Jira ops of the products' items.

    Args:
        items: planner decisions (services' items are left out here).
        spec: the improvement file (issue type, label).
        flavour: ``adf`` (Cloud) or ``wiki`` (Data Center).
        assignees: assignee id → the Jira user field to set (``{"accountId": …}`` on
            Cloud, ``{"name": …}`` on Data Center), for the assignees Jira knows.

    Returns:
        A plan keyed by item key.
    """
    ops = []
    for item in items:
        if item.platform != "jira":
            continue
        if item.action in (UNCHANGED, LEAVE):
            ops.append(WriteOp("skip_unchanged", "jira", item.key, {}, item.reason,
                               ref=item.ref))
            continue
        fields: dict[str, Any] = {
            "kind": "improvement", "project": item.project,
            "issue_type": spec.jira.issue_type, "summary": _cut(item.title, SUMMARY_MAX),
            "labels": [spec.jira.label, jira_label(item.key)],
            "description": _jira_description(item, flavour),
            "assignee": dict((assignees or {}).get(item.assignee) or {}) or None}
        if item.action == CREATE:
            ops.append(WriteOp("create", "jira", item.key, fields, item.reason))
            continue
        if item.action == RESOLVE:
            fields["resolve_comment"] = _jira_comment(item.note, flavour)
        reason = ("resolve: " if item.action == RESOLVE else "") + item.reason
        ops.append(WriteOp("update", "jira", item.key, fields, reason, ref=item.ref,
                           changed=("summary", "description", "assignee")
                           + (("status",) if item.action == RESOLVE else ())))
    return Plan(tuple(ops))
