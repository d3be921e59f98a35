"""Deterministic sandbox data from a :class:`connectors.world.World`.

Everything derives from the world's seed, scale and ``now``: services with owners and support
groups, people, SLA definitions, normal/standard/emergency changes (some unsuccessful, some
quoting Jira keys of the world's products), problems, incidents with priority-dependent
resolution times, reopen and reassignment counts, SLA breaches, incidents caused by changes
and linked to problems, and one ``task_sla`` per incident. Rows are written straight into
compact lists (see :mod:`.table`). Generated history ends an hour before ``world.now``.
"""

from __future__ import annotations

import bisect
import random
import time
from datetime import timedelta

from connectors.servicenow.sandbox.database import SN_FORMAT, Database
from connectors.servicenow.sandbox.meta_tables import populate_meta
from connectors.servicenow.sandbox.schema import load_choices
from connectors.world import World, build_change_description, build_sys_id

_PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3,
             (2, 3): 4, (3, 2): 4, (3, 3): 5}
# Mean hours to resolve per priority, and the resolution SLA target in hours.
_MEAN_HOURS = {1: 5.0, 2: 14.0, 3: 40.0, 4: 90.0, 5: 200.0}
_SLA_HOURS = {1: 4, 2: 8, 3: 72, 4: 120, 5: 240}
_CATEGORIES = (("software", "internal application", "Application error in {svc}"),
               ("network", "vpn", "{svc} unreachable over VPN"),
               ("database", "db2", "{svc} database timeouts"),
               ("hardware", "", "Server fault affecting {svc}"),
               ("inquiry", "email", "Question about {svc}"),
               ("u_cloud", "", "Cloud capacity alert for {svc}"))
_CHG_NOTES = {"successful": "Completed without issues",
              "successful_issues": "Completed with minor issues", "unsuccessful": "Backed out"}
_CONTACT = ("email", "phone", "self-service", "monitoring", "walk-in")
_INC_CLOSE = ("Solution provided", "Workaround provided", "Resolved by change",
              "Resolved by caller", "Known error", "Duplicate")
INTEGRATION_USER = "fiveo.integration"
READONLY_USER = "fiveo.readonly"


def _fmt(ts: float) -> str:
    return time.strftime(SN_FORMAT, time.gmtime(ts))


def _duration(seconds: float) -> str:
    """Durations are epoch-offset date-times (servicenow-api.md §6)."""
    return _fmt(max(0, int(seconds)))


class _Filler:
    """Builds rows of one table from a template of defaults, by column position."""

    def __init__(self, db: Database, table: str, defaults: dict[str, str]) -> None:
        self.table = db.tables[table]
        self.index = self.table.schema.index
        self.template = self.table.blank()
        for column, value in defaults.items():
            if column in self.index:  # shared defaults name columns some tables lack
                self.template[self.index[column]] = value

    def add(self, values: dict[str, str]) -> None:
        row = self.template.copy()
        index = self.index
        for column, value in values.items():
            row[index[column]] = value
        self.table.rows[values["sys_id"]] = row

    def add_to(self, sys_id: str, values: dict[str, str]) -> None:
        """Overwrite some columns of a row added before."""
        row = self.table.rows[sys_id]
        for column, value in values.items():
            row[self.index[column]] = value


def populate(db: Database, world: World) -> None:
    """Fill every table of ``db`` from ``world``."""
    end = world.now.timestamp() - 3600
    start = world.history_start.timestamp()
    _people_and_groups(db, world, start)
    _services(db, world, start)
    slas = _contract_slas(db, world, start)
    _choices(db, start)
    changes = _changes(db, world, start, end)
    problems = _problems(db, world, start, end)
    _incidents(db, world, start, end, changes, problems, slas)
    populate_meta(db)  # last: no rng draws, so the world's data is unchanged


def _common(table: str) -> dict[str, str]:
    return {"sys_domain": "global", "sys_domain_path": "/", "sys_class_name": table,
            "sys_created_by": "admin", "sys_updated_by": "admin", "sys_mod_count": "0"}


def _people_and_groups(db: Database, world: World, start: float) -> None:
    users = _Filler(db, "sys_user", {**_common("sys_user"), "active": "true",
                                     "locked_out": "false", "vip": "false",
                                     "web_service_access_only": "false",
                                     "internal_integration_user": "false",
                                     "preferred_language": "en", "notification": "2"})
    stamp = _fmt(start - 86400 * 30)
    for person in world.people:
        first, _, last = person.display_name.partition(" ")
        users.add({"sys_id": person.sn_sys_id, "user_name": person.user_name, "name":
                   person.display_name, "first_name": first, "last_name": last,
                   "email": person.email, "time_zone": person.time_zone,
                   "sys_created_on": stamp, "sys_updated_on": stamp})
        if not person.active:  # a leaver: deactivated (the update stamps the moment)
            users.add_to(person.sn_sys_id, {"active": "false", "locked_out": "true",
                                            "sys_updated_on": _fmt(person.left_at.timestamp()),
                                            "sys_mod_count": "1"})
    for name in (INTEGRATION_USER, READONLY_USER):
        users.add({"sys_id": build_sys_id("sys_user", world.seed, name), "user_name": name,
                   "name": name.replace(".", " ").title(), "time_zone": "UTC",
                   "web_service_access_only": "true", "internal_integration_user": "true",
                   "sys_created_on": stamp, "sys_updated_on": stamp})
    groups = _Filler(db, "sys_user_group", {**_common("sys_user_group"), "active": "true",
                                            "type": "", "exclude_manager": "false",
                                            "include_members": "false"})
    for service in world.services:
        groups.add({"sys_id": service.support_group_sys_id, "name": service.support_group,
                    "manager": service.manager.sn_sys_id, "description":
                    f"Second-line support for {service.name}",
                    "email": f"{service.id}-l2@example.org",
                    "sys_created_on": stamp, "sys_updated_on": stamp})


def _services(db: Database, world: World, start: float) -> None:
    fill = _Filler(db, "cmdb_ci_service", {**_common("cmdb_ci_service"),
                                           "operational_status": "1", "used_for": "Production",
                                           "install_status": "1"})
    stamp = _fmt(start - 86400 * 20)
    for i, service in enumerate(world.services):
        fill.add({"sys_id": service.sys_id, "name": service.name,
                  "owned_by": service.owner.sn_sys_id, "managed_by": service.manager.sn_sys_id,
                  "managed_by_group": service.support_group_sys_id,
                  "support_group": service.support_group_sys_id,
                  "busines_criticality": f"{i % 4 + 1} - " + ("most critical",
                                                              "somewhat critical",
                                                              "less critical",
                                                              "not critical")[i % 4],
                  "service_classification": "Business Service",
                  "short_description": f"{service.name} business service",
                  "u_jira_products": ",".join(service.products),
                  "sys_created_on": stamp, "sys_updated_on": stamp})


def _contract_slas(db: Database, world: World, start: float) -> dict[int, str]:
    fill = _Filler(db, "contract_sla", {**_common("contract_sla"), "type": "SLA",
                                        "target": "resolution", "active": "true",
                                        "collection": "incident", "timezone": "UTC"})
    stamp = _fmt(start - 86400 * 25)
    ids = {}
    for priority, hours in _SLA_HOURS.items():
        sys_id = build_sys_id("contract_sla", world.seed, priority)
        ids[priority] = sys_id
        fill.add({"sys_id": sys_id, "name": f"Priority {priority} resolution ({hours} hour)",
                  "duration": _duration(hours * 3600),
                  "start_condition": f"priority={priority}^active=true",
                  "stop_condition": "stateIN6,7", "sys_created_on": stamp,
                  "sys_updated_on": stamp})
    return ids


def _choices(db: Database, start: float) -> None:
    fill = _Filler(db, "sys_choice", {"language": "en", "inactive": "false",
                                      "sys_created_by": "admin", "sys_updated_by": "admin",
                                      "sys_mod_count": "0"})
    stamp = _fmt(start - 86400 * 40)
    for table, elements in load_choices().items():
        for element, pairs in elements.items():
            for sequence, (value, label) in enumerate(pairs):
                fill.add({"sys_id": build_sys_id("sys_choice", table, element, value),
                          "name": table, "element": element, "value": value, "label": label,
                          "sequence": str(sequence), "sys_created_on": stamp,
                          "sys_updated_on": stamp})


def _changes(db: Database, world: World, start: float,
             end: float) -> dict[str, list[tuple[float, str]]]:
    rng = random.Random(f"{world.seed}:change_request")
    fill = _Filler(db, "change_request", {
        **_common("change_request"), "approval": "approved", "phase": "requested",
        "phase_state": "open", "conflict_status": "Not Run", "escalation": "0",
        "upon_approval": "proceed", "upon_reject": "cancel", "knowledge": "false",
        "made_sla": "true", "on_hold": "false", "unauthorized": "false", "cab_required": "false",
        "production_system": "false", "outside_maintenance_schedule": "false",
        "is_bulk": "false", "category": "Software", "scope": "3", "contact_type": "phone"})
    by_service: dict[str, list[tuple[float, str]]] = {s.sys_id: [] for s in world.services}
    products = {p.key: p for p in world.products}
    services, people = world.services, world.people
    for i in range(world.count("changes")):
        service = services[rng.randrange(len(services))]
        kind = rng.choices(("normal", "standard", "emergency"), (6, 3, 1))[0]
        planned = start + rng.random() * (end - start)
        work_start = planned + rng.uniform(-1800, 1800)
        work_end = work_start + rng.uniform(900, 4 * 3600)
        fail_weight = 3 if kind == "emergency" else 1
        code = rng.choices(("successful", "successful_issues", "unsuccessful"),
                           (85, 8, 7 * fail_weight))[0]
        sys_id = build_sys_id("change_request", world.seed, i)
        opened = planned - rng.uniform(2, 10) * 86400
        values = {"sys_id": sys_id, "number": f"CHG{30000 + i:07d}", "type": kind,
                  "business_service": service.sys_id,
                  "assignment_group": service.support_group_sys_id,
                  "assigned_to": people[rng.randrange(len(people))].sn_sys_id,
                  "requested_by": service.owner.sn_sys_id,
                  "opened_by": people[rng.randrange(len(people))].sn_sys_id,
                  "risk": str(rng.choice((2, 3, 3, 4))), "impact": str(rng.choice((1, 2, 3))),
                  "priority": str(rng.choice((2, 3, 4))), "urgency": "2",
                  "short_description": f"{kind.title()} change to {service.name}",
                  "opened_at": _fmt(max(start, opened)), "start_date": _fmt(planned),
                  "end_date": _fmt(planned + 4 * 3600), "sys_created_on": _fmt(max(start, opened))}
        if work_end < end:
            values.update(state="3", close_code=code, work_start=_fmt(work_start),
                          work_end=_fmt(work_end), closed_at=_fmt(work_end + 600),
                          active="false", close_notes=_CHG_NOTES[code],
                          sys_updated_on=_fmt(work_end + 600), sys_mod_count="9")
            if code == "unsuccessful":
                by_service[service.sys_id].append((work_end, sys_id))
        else:
            values.update(state=rng.choice(("-5", "-4", "-3", "-2")), active="true",
                          approval="requested", sys_updated_on=_fmt(max(start, opened)),
                          sys_mod_count="2")
        values["description"] = build_change_description(rng, service, products, kind)
        fill.add(values)
    for entries in by_service.values():
        entries.sort()
    return by_service


def _problems(db: Database, world: World, start: float, end: float) -> dict[str, list[str]]:
    rng = random.Random(f"{world.seed}:problem")
    fill = _Filler(db, "problem", {**_common("problem"), "known_error": "false",
                                   "major_problem": "false", "knowledge": "false",
                                   "made_sla": "true", "escalation": "0", "urgency": "3",
                                   "impact": "3", "priority": "4", "upon_approval": "proceed",
                                   "upon_reject": "cancel", "approval": "not requested",
                                   "contact_type": "phone"})
    by_service: dict[str, list[str]] = {s.sys_id: [] for s in world.services}
    for i in range(world.count("problems")):
        service = world.services[rng.randrange(len(world.services))]
        sys_id = build_sys_id("problem", world.seed, i)
        opened = start + rng.random() * (end - start)
        duration = rng.expovariate(1 / (20 * 86400))
        values = {"sys_id": sys_id, "number": f"PRB{40000 + i:07d}",
                  "business_service": service.sys_id,
                  "assignment_group": service.support_group_sys_id,
                  "opened_by": service.manager.sn_sys_id,
                  "short_description": f"Recurring failures in {service.name}",
                  "opened_at": _fmt(opened), "sys_created_on": _fmt(opened)}
        if opened + duration < end:
            values.update(state="107", problem_state="107", active="false",
                          resolution_code=rng.choice(("fix_applied", "fix_applied",
                                                      "risk_accepted", "duplicate")),
                          resolved_at=_fmt(opened + duration),
                          closed_at=_fmt(opened + duration + 3600),
                          sys_updated_on=_fmt(opened + duration + 3600), sys_mod_count="7")
        else:
            state = rng.choice(("101", "102", "103", "104"))
            values.update(state=state, problem_state=state, active="true",
                          known_error="true" if state == "104" else "false",
                          sys_updated_on=_fmt(opened), sys_mod_count="1")
        fill.add(values)
        by_service[service.sys_id].append(sys_id)
    return by_service


def _incidents(db: Database, world: World, start: float, end: float,
               changes: dict[str, list[tuple[float, str]]],
               problems: dict[str, list[str]], slas: dict[int, str]) -> None:
    rng = random.Random(f"{world.seed}:incident")
    fill = _Filler(db, "incident", {
        **_common("incident"), "approval": "not requested", "escalation": "0",
        "knowledge": "false", "notify": "1", "severity": "3", "upon_approval": "proceed",
        "upon_reject": "cancel", "child_incidents": "0"})
    slas_fill = _Filler(db, "task_sla", {**_common("task_sla"), "timezone": "UTC"})
    services, people = world.services, world.people
    weights = [1 + (i % 3) for i in range(len(services))]
    for i in range(world.count("incidents")):
        service = rng.choices(services, weights)[0]
        impact, urgency = rng.choices((1, 2, 3), (1, 3, 6))[0], rng.choices((1, 2, 3), (1, 3, 6))[0]
        priority = _PRIORITY[(impact, urgency)]
        opened = start + rng.random() * (end - start)
        to_resolve = rng.expovariate(1 / (_MEAN_HOURS[priority] * 3600)) + 300
        category, subcategory, text = rng.choice(_CATEGORIES)
        sys_id = build_sys_id("incident", world.seed, i)
        caller = people[rng.randrange(len(people))].sn_sys_id
        values = {"sys_id": sys_id, "number": f"INC{10000 + i:07d}",
                  "business_service": service.sys_id,
                  "assignment_group": service.support_group_sys_id,
                  "assigned_to": people[rng.randrange(len(people))].sn_sys_id,
                  "caller_id": caller, "opened_by": caller,
                  "impact": str(impact), "urgency": str(urgency), "priority": str(priority),
                  "category": category, "subcategory": subcategory,
                  "contact_type": rng.choice(_CONTACT),
                  "short_description": text.format(svc=service.name),
                  "description": f"{text.format(svc=service.name)}. Reported via service desk.",
                  "opened_at": _fmt(opened), "sys_created_on": _fmt(opened),
                  "reassignment_count": str(rng.choices((0, 1, 2, 3), (60, 25, 10, 5))[0]),
                  "reopen_count": str(rng.choices((0, 1, 2), (94, 5, 1))[0])}
        failed = changes.get(service.sys_id) or []
        cut = bisect.bisect_left(failed, (opened, ""))
        if cut and rng.random() < 0.3 and opened - failed[cut - 1][0] < 7 * 86400:
            values["caused_by"] = failed[cut - 1][1]
        linked = problems.get(service.sys_id) or []
        if linked and rng.random() < 0.05:
            values["problem_id"] = rng.choice(linked)
        resolved = opened + to_resolve
        breached = to_resolve > _SLA_HOURS[priority] * 3600
        if resolved < end:
            closed = resolved + 3 * 86400
            values.update(resolved_at=_fmt(resolved), resolved_by=values["assigned_to"],
                          close_code=rng.choice(_INC_CLOSE), close_notes="Resolved.",
                          calendar_duration=_duration(to_resolve),
                          calendar_stc=str(int(to_resolve)),
                          business_duration=_duration(to_resolve * 0.4),
                          business_stc=str(int(to_resolve * 0.4)),
                          made_sla="false" if breached else "true")
            if closed < end:
                values.update(state="7", incident_state="7", active="false",
                              closed_at=_fmt(closed), closed_by=values["assigned_to"],
                              sys_updated_on=_fmt(closed), sys_mod_count="12")
            else:
                values.update(state="6", incident_state="6", active="true",
                              sys_updated_on=_fmt(resolved), sys_mod_count="8")
        else:
            state = rng.choice(("1", "2", "2", "3"))
            touched = opened + min(end - opened, rng.random() * 7200)
            breached_open = end - opened > _SLA_HOURS[priority] * 3600
            values.update(state=state, incident_state=state, active="true",
                          hold_reason="1" if state == "3" else "",
                          made_sla="false" if breached_open else "true",
                          sys_updated_on=_fmt(touched), sys_mod_count="3")
        fill.add(values)
        _task_sla(slas_fill, world, i, values, slas[priority], opened, resolved, end,
                  _SLA_HOURS[priority] * 3600)


def _task_sla(fill: _Filler, world: World, i: int, incident: dict[str, str], sla: str,
              opened: float, resolved: float, end: float, target: float) -> None:
    done = resolved < end
    elapsed = (resolved if done else end) - opened
    breached = elapsed > target
    stamp = incident["resolved_at"] if done else incident["opened_at"]
    fill.add({"sys_id": build_sys_id("task_sla", world.seed, i), "task": incident["sys_id"],
              "sla": sla, "stage": "completed" if done else "in_progress",
              "has_breached": "true" if breached else "false",
              "active": "false" if done else "true",
              "percentage": f"{100 * elapsed / target:.2f}",
              "business_percentage": f"{40 * elapsed / target:.2f}",
              "start_time": incident["opened_at"], "end_time": incident.get("resolved_at", ""),
              "planned_end_time": _fmt(opened + target),
              "original_breach_time": _fmt(opened + target),
              "duration": _duration(elapsed), "business_duration": _duration(elapsed * 0.4),
              "time_left": _duration(max(0.0, target - elapsed)),
              "business_time_left": _duration(max(0.0, target - elapsed) * 0.4),
              "sys_created_on": incident["opened_at"], "sys_updated_on": stamp})


def history_window(world: World) -> tuple[str, str]:
    """The first and last raw date-times generated data may carry."""
    return (world.history_start.strftime(SN_FORMAT),
            (world.now - timedelta(hours=1)).strftime(SN_FORMAT))
