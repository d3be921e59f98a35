"""Canonical records → rows of the canonical tables (pure).

Each ``iter_*`` generator yields one ``dict`` per row, keyed by the column names of
:mod:`fiveo_sync.canonical.schema` and holding JSON values: date-times as ISO 8601 with
their offset (read back as ``TIMESTAMPTZ``), sets as sorted lists, non-finite numbers as
the strings DuckDB casts back (``"nan"``, ``"inf"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from fiveo_sync.canonical.keymap import RawKey, RawKeyTap
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.records import CanonicalData, WorkItem

Row = dict[str, Any]


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _num(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)  # "nan", "inf", "-inf": valid DOUBLE literals, not valid JSON numbers


def _raw(key: RawKey | None) -> Row:
    if key is None:  # no raw record behind it: SQL NULLs
        return {"raw_source": None, "raw_stream": None, "raw_key": None}
    return {"raw_source": key[0], "raw_stream": key[1], "raw_key": key[2]}


def iter_incidents(data: CanonicalData, keys: RawKeyTap) -> Iterator[Row]:
    """Rows of ``incidents``."""
    for i in data.incidents:
        yield {**_raw(keys.key_of("incident", i.id)), "id": i.id, "number": i.number,
               "state": i.state, "priority": i.priority, "opened_at": _ts(i.opened_at),
               "resolved_at": _ts(i.resolved_at), "service": i.service,
               "assignment_group": i.assignment_group, "caused_by": i.caused_by,
               "rfc": i.rfc, "problem": i.problem, "reopen_count": i.reopen_count,
               "ci": i.ci, "category": i.category, "major": i.major,
               "jira_keys": sorted(i.jira_keys), "security": i.security,
               "supplier": i.supplier}


def iter_changes(data: CanonicalData, keys: RawKeyTap) -> Iterator[Row]:
    """Rows of ``changes``."""
    for c in data.changes:
        yield {**_raw(keys.key_of("change", c.id)), "id": c.id, "number": c.number,
               "type": c.type, "state": c.state, "close_code": c.close_code,
               "closed_at": _ts(c.closed_at), "work_end": _ts(c.work_end),
               "service": c.service, "jira_keys": sorted(c.jira_keys)}


def iter_problems(data: CanonicalData, keys: RawKeyTap) -> Iterator[Row]:
    """Rows of ``problems``."""
    for p in data.problems:
        yield {**_raw(keys.key_of("problem", p.id)), "id": p.id, "state": p.state,
               "priority": p.priority, "known_error": p.known_error,
               "opened_at": _ts(p.opened_at), "closed_at": _ts(p.closed_at),
               "service": p.service, "jira_keys": sorted(p.jira_keys)}


def iter_slas(data: CanonicalData, keys: RawKeyTap) -> Iterator[Row]:
    """Rows of ``slas``."""
    for s in data.slas:
        yield {**_raw(keys.key_of("sla", s.id)), "id": s.id, "task": s.task,
               "definition": s.definition, "kind": s.kind, "stage": s.stage,
               "has_breached": s.has_breached, "start_time": _ts(s.start_time),
               "end_time": _ts(s.end_time)}


def iter_work_item_tables(data: CanonicalData, keys: RawKeyTap
                          ) -> Iterator[tuple[str, Row]]:
    """``(table, row)`` for ``work_items`` and their three history tables."""
    for w in data.work_items:
        raw = _raw(keys.key_of("work_item", w.key))
        yield "work_items", {**raw, **_work_item(w)}
        for seq, s in enumerate(w.status_history, 1):
            yield "work_item_status_changes", {
                **raw, "work_item": w.key, "seq": seq, "changed_at": _ts(s.at),
                "from_category": s.from_category, "to_category": s.to_category,
                "to_status_name": s.to_status_name}
        for seq, m in enumerate(w.sprint_history, 1):
            yield "work_item_sprint_changes", {
                **raw, "work_item": w.key, "seq": seq, "changed_at": _ts(m.at),
                "from_sprints": list(m.from_sprints), "to_sprints": list(m.to_sprints)}
        for seq, p in enumerate(w.points_history, 1):
            yield "work_item_points_changes", {
                **raw, "work_item": w.key, "seq": seq, "changed_at": _ts(p.at),
                "from_points": _num(p.from_points), "to_points": _num(p.to_points)}


def _work_item(w: WorkItem) -> Row:
    return {"key": w.key, "project": w.project, "type": w.type, "is_subtask": w.is_subtask,
            "status_category": w.status_category, "status": w.status,
            "resolution": w.resolution, "created": _ts(w.created), "labels": sorted(w.labels),
            "epic_key": w.epic_key, "story_points": _num(w.story_points),
            "sprints": list(w.sprints), "done_at": _ts(w.done_at),
            "started_at": _ts(w.started_at), "security": w.security,
            "satisfaction": _num(w.satisfaction)}


def iter_sprints(data: CanonicalData, keys: RawKeyTap) -> Iterator[Row]:
    """Rows of ``sprints``."""
    for s in data.sprints:
        yield {**_raw(keys.key_of("sprint", s.id)), "id": s.id, "board": s.board,
               "state": s.state, "start": _ts(s.start), "complete": _ts(s.complete),
               "goal": s.goal}


def iter_scope_tables(data: CanonicalData, keys: RawKeyTap) -> Iterator[tuple[str, Row]]:
    """``(table, row)`` for ``sprint_scopes`` and ``sprint_scope_items``."""
    for scope in data.sprint_scopes:
        raw = _raw(keys.scope_key(scope.sprint, scope.moment))
        yield "sprint_scopes", {**raw, "sprint": scope.sprint, "moment": scope.moment,
                                "taken_at": _ts(scope.taken_at), "source": scope.source}
        for seq, item in enumerate(scope.items, 1):
            yield "sprint_scope_items", {
                **raw, "sprint": scope.sprint, "moment": scope.moment, "seq": seq,
                "key": item.key, "story_points": _num(item.story_points),
                "status_category": item.status_category}


def iter_services(data: CanonicalData, portfolio: PortfolioSpec, keys: RawKeyTap
                  ) -> Iterator[Row]:
    """Rows of ``services``: the canonical services with their portfolio links."""
    for record in data.services:
        spec = portfolio.service(record.id)
        yield {**_raw(keys.key_of("service", record.sys_id)), "id": record.id,
               "sys_id": record.sys_id, "name": record.name, "owner": record.owner,
               "support_groups": list(spec.support_groups) if spec else [],
               "products": list(spec.products) if spec else []}


def iter_evidence_tables(data: CanonicalData, keys: RawKeyTap
                         ) -> Iterator[tuple[str, Row]]:
    """``(table, row)`` for ``outages``, ``survey_responses``, ``suppliers`` and ``groups``."""
    for o in data.outages:
        yield "outages", {**_raw(keys.key_of("outage", o.id)), "id": o.id, "number": o.number,
                          "type": o.type, "service": o.service, "begin": _ts(o.begin),
                          "end": _ts(o.end), "duration_s": _num(o.duration_s),
                          "task": o.task}
    for r in data.survey_responses:
        yield "survey_responses", {
            **_raw(keys.key_of("survey_response", r.id)), "id": r.id, "number": r.number,
            "survey": r.survey, "state": r.state, "answered": r.answered,
            "score": _num(r.score), "answers": r.answers, "task": r.task,
            "service": r.service, "user": r.user, "sent_at": _ts(r.sent_at),
            "taken_on": _ts(r.taken_on)}
    for c in data.suppliers:
        yield "suppliers", {**_raw(keys.key_of("supplier", c.id)), "id": c.id,
                            "name": c.name, "vendor": c.vendor}
    for g in data.groups:
        yield "groups", {**_raw(keys.key_of("group", g.id)), "id": g.id, "name": g.name,
                         "companies": list(g.companies), "supplier": g.supplier}


def iter_products(portfolio: PortfolioSpec) -> Iterator[Row]:
    """Rows of ``products``, straight from the portfolio (no raw record behind them)."""
    for product in portfolio.products:
        yield {"id": product.id, "name": product.name, "owner": product.owner,
               "jira_projects": list(product.jira_projects), "boards": list(product.boards),
               "services": [s.id for s in portfolio.services_of_product(product.id)]}


def iter_all_rows(data: CanonicalData, portfolio: PortfolioSpec, keys: RawKeyTap
                  ) -> Iterator[tuple[str, Row]]:
    """``(table, row)`` for every canonical table, table by table."""
    singles: Iterable[tuple[str, Iterable[Row]]] = (
        ("incidents", iter_incidents(data, keys)), ("changes", iter_changes(data, keys)),
        ("problems", iter_problems(data, keys)), ("slas", iter_slas(data, keys)))
    for table, rows in singles:
        yield from ((table, row) for row in rows)
    yield from iter_work_item_tables(data, keys)
    yield from (("sprints", row) for row in iter_sprints(data, keys))
    yield from iter_scope_tables(data, keys)
    yield from (("services", row) for row in iter_services(data, portfolio, keys))
    yield from (("products", row) for row in iter_products(portfolio))
    yield from iter_evidence_tables(data, keys)
