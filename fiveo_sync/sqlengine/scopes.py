"""Which records belong to which scope, as ``(record column, [(scope id, key)])`` maps.

As indicators.md §2.3 scopes records: ServiceNow kinds by the scope's service (SLAs through
their incident's), incidents of an indicator scoped ``by support_groups`` by the assignment
groups of scopes that have any (the others still by service), Jira work items by the
scope's projects, improvement items by their owner (the scope's service or one of its
products). A record in several scopes is a unit of each.
"""

from __future__ import annotations

from typing import Any

from fiveo_sync.engine.scope import Scope


def scope_maps(spec: Any, scopes: list[Scope]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(record column, [(scope id, key)])`` for each way the source is scoped."""
    kind = spec.source
    if kind == "work_item":
        return [("project", [(s.id, p) for s in scopes for p in sorted(s.projects)])]
    if kind == "improvement":  # owner: "<scope_type>:<scope>" (fields.LEDGER_COLUMNS)
        return [("owner", [(s.id, f"service:{s.service}") for s in scopes if s.service] +
                 [(s.id, f"product:{p}") for s in scopes for p in sorted(s.products)])]
    key = "task.service" if kind == "sla" else "service"
    by_group = kind == "incident" and spec.scope_by == "support_groups"
    groups = [(s.id, g) for s in scopes if by_group and s.support_groups
              for g in sorted(s.support_groups)]
    services = [(s.id, s.service) for s in scopes if s.service is not None
                and not (by_group and s.support_groups)]
    maps = [(key, services)]
    if groups:
        maps.append(("assignment_group", groups))
    return maps
