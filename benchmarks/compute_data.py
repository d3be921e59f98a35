"""Deterministic raw data for the compute benchmark, written straight into a state store.

The store holds what ``pull`` would have stored (``fiveo_sync.state.StateStore`` rows: one
JSON payload per record, keyed like the connectors key them): ServiceNow Table API rows with
the fields the connector asks for (``incident``, ``change_request``, ``problem``,
``task_sla``, ``cmdb_ci_service``, ``sys_user_group``, ``sys_user``, ``contract_sla``) and
Jira Cloud issues with their complete changelogs, boards, sprints, sprint scopes, fields and
statuses. Nothing goes through HTTP: ServiceNow rows follow the sandbox generator's
distributions (priority-dependent resolution times, failing changes causing incidents, one
task SLA per incident); Jira issues are the sandbox's own ``build_issue`` rendered by its
``Renderer``. Rows go in with ``executemany``.

The organisation is :func:`connectors.world.build_world` at scale ``large`` (50 services,
20 products) over 365 days; the portfolio written beside the store names all of it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from connectors.jira.connector import BASE_FIELDS
from connectors.jira.sandbox.catalog import all_fields
from connectors.jira.sandbox.data import (
    CLOUD_FIELDS,
    ISSUE_TYPES,
    STATUS_BY_ID,
    build_issue,
    build_sprints,
)
from connectors.jira.sandbox.render import Renderer, agile_time
from connectors.world import World, build_change_description, build_sys_id, build_world
from fiveo_sync.state import StateStore

NOW = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
SEED = 7
REPO = Path(__file__).resolve().parents[1]
BASE = "https://acme.atlassian.net"
_SN = "%Y-%m-%d %H:%M:%S"
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3,
             (2, 3): 4, (3, 2): 4, (3, 3): 5}
_MEAN_HOURS = {1: 5.0, 2: 14.0, 3: 40.0, 4: 90.0, 5: 200.0}
_SLA_HOURS = {1: 4, 2: 8, 3: 72, 4: 120, 5: 240}
_CATEGORIES = (("software", "Application error in {svc}"), ("network", "{svc} unreachable"),
               ("database", "{svc} database timeouts"), ("hardware", "Server fault in {svc}"),
               ("inquiry", "Question about {svc}"))


@dataclass(frozen=True)
class DataSpec:
    """How much data one benchmark case holds."""

    incidents: int
    changes: int
    jira_issues: int

    @property
    def problems(self) -> int:
        return max(50, self.incidents // 25)

    @property
    def name(self) -> str:
        return f"inc{self.incidents}_chg{self.changes}_jira{self.jira_issues}"


FULL = DataSpec(incidents=1_000_000, changes=200_000, jira_issues=300_000)


def scaled(factor: float) -> DataSpec:
    """``FULL`` times ``factor`` (at least a few records of each kind)."""
    return DataSpec(max(100, round(FULL.incidents * factor)),
                    max(20, round(FULL.changes * factor)),
                    max(400, round(FULL.jira_issues * factor)))


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sn(ts: float) -> str:
    return time.strftime(_SN, time.gmtime(ts))


def _iso(ts: float) -> str:
    return time.strftime(_ISO, time.gmtime(ts))


def _sys_id(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


class _Writer:
    """Batched ``executemany`` into the ``records`` table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.counts: dict[str, int] = {}

    def add(self, source: str, stream: str, key: str, updated: str, payload: object) -> None:
        self.rows.append((source, stream, key, updated, _dumps(payload)))
        self.counts[f"{source}.{stream}"] = self.counts.get(f"{source}.{stream}", 0) + 1
        if len(self.rows) >= 20_000:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO records (source, stream, key, updated, "
                              "payload) VALUES (?, ?, ?, ?, ?)", self.rows)
        self.rows.clear()


def build_case_world(spec: DataSpec) -> World:
    """The organisation of a case (scale large: 50 services, 20 products, 12 months)."""
    return build_world(SEED, "large", NOW, incidents=spec.incidents, changes=spec.changes,
                       problems=spec.problems, jira_issues=spec.jira_issues,
                       history_days=365)


def write_mappings(world: World, folder: Path) -> Path:
    """The shipped sources and indicators plus a portfolio naming the whole world."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(REPO / "mappings", folder)
    products = {p.key: p for p in world.products}
    portfolio = {
        "version": 1, "kind": "portfolio",
        "services": [{"id": s.id, "business_service": s.name, "owner": s.owner.user_name,
                      "support_groups": [s.support_group],
                      "products": [k.lower() for k in s.products]} for s in world.services],
        "products": [{"id": p.key.lower(), "name": p.name, "jira_projects": [p.key],
                      "boards": [b for b in (p.scrum_board_id, p.kanban_board_id)
                                 if b is not None],
                      "owner": p.owner.jira_account_id} for p in products.values()],
    }
    (folder / "portfolio.yaml").write_text(yaml.safe_dump(portfolio, sort_keys=False),
                                           encoding="utf-8")
    return folder


def build_dataset(spec: DataSpec, out_dir: Path) -> tuple[Path, Path]:
    """Create (or reuse) the state store and mapping folder of a case.

    Returns:
        ``(store path, mappings folder)``.
    """
    folder = out_dir / spec.name
    db, mappings = folder / "state.sqlite", folder / "mappings"
    world = build_case_world(spec)
    write_mappings(world, mappings)
    if (folder / "complete").exists():
        return db, mappings
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    StateStore(db).close()  # creates the schema
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    writer = _Writer(conn)
    _servicenow(world, writer)
    _jira(world, writer)
    writer.flush()
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    (folder / "counts.json").write_text(_dumps(writer.counts) + "\n", encoding="utf-8")
    (folder / "complete").write_text("ok\n", encoding="utf-8")
    return db, mappings


# -- ServiceNow ----------------------------------------------------------------------------


def _servicenow(world: World, w: _Writer) -> None:
    start = world.history_start.timestamp()
    end = world.now.timestamp() - 3600
    stamp = _sn(start - 86400 * 20)
    iso = _iso(start - 86400 * 20)
    for p in world.people:
        w.add("servicenow", "sys_user", p.sn_sys_id, iso,
              {"sys_id": p.sn_sys_id, "sys_updated_on": stamp, "user_name": p.user_name})
    for s in world.services:
        w.add("servicenow", "sys_user_group", s.support_group_sys_id, iso,
              {"name": s.support_group, "sys_id": s.support_group_sys_id,
               "sys_updated_on": stamp})
        w.add("servicenow", "cmdb_ci_service", s.sys_id, iso,
              {"name": s.name, "owned_by": s.owner.sn_sys_id, "sys_id": s.sys_id,
               "sys_updated_on": stamp})
    slas = {}
    for priority, hours in _SLA_HOURS.items():
        slas[priority] = sys_id = build_sys_id("contract_sla", world.seed, priority)
        w.add("servicenow", "contract_sla", sys_id, iso,
              {"name": f"Priority {priority} resolution ({hours} hour)", "sys_id": sys_id,
               "sys_updated_on": stamp})
    failed = _changes(world, w, start, end)
    problems = _problems(world, w, start, end)
    _incidents(world, w, start, end, failed, problems, slas)


def _changes(world: World, w: _Writer, start: float, end: float) -> dict[str, list]:
    rng = random.Random(f"{world.seed}:change_request")
    failed: dict[str, list[tuple[float, str]]] = {s.sys_id: [] for s in world.services}
    products = {p.key: p for p in world.products}
    for i in range(world.count("changes")):
        service = world.services[rng.randrange(len(world.services))]
        kind = rng.choices(("normal", "standard", "emergency"), (6, 3, 1))[0]
        planned = start + rng.random() * (end - start)
        work_end = planned + rng.uniform(-1800, 1800) + rng.uniform(900, 4 * 3600)
        code = rng.choices(("successful", "successful_issues", "unsuccessful"),
                           (85, 8, 21 if kind == "emergency" else 7))[0]
        sys_id = _sys_id("change_request", world.seed, i)
        row = {"business_service": service.sys_id, "close_code": "", "closed_at": "",
               "correlation_id": "", "number": f"CHG{30000 + i:07d}",
               "short_description": f"{kind.title()} change to {service.name}",
               "sys_id": sys_id, "type": kind, "work_end": ""}
        if work_end < end:
            updated = work_end + 600
            row.update(state="3", close_code=code, work_end=_sn(work_end),
                       closed_at=_sn(updated))
            if code == "unsuccessful":
                failed[service.sys_id].append((work_end, sys_id))
        else:
            updated = max(start, planned - 5 * 86400)
            row["state"] = rng.choice(("-5", "-4", "-3", "-2"))
        row["description"] = build_change_description(rng, service, products, kind)
        row["sys_updated_on"] = _sn(updated)
        w.add("servicenow", "change_request", sys_id, _iso(updated), row)
    for entries in failed.values():
        entries.sort()
    return failed


def _problems(world: World, w: _Writer, start: float, end: float) -> dict[str, list[str]]:
    rng = random.Random(f"{world.seed}:problem")
    by_service: dict[str, list[str]] = {s.sys_id: [] for s in world.services}
    for i in range(world.count("problems")):
        service = world.services[rng.randrange(len(world.services))]
        sys_id = _sys_id("problem", world.seed, i)
        opened = start + rng.random() * (end - start)
        duration = rng.expovariate(1 / (20 * 86400))
        row = {"business_service": service.sys_id, "closed_at": "", "correlation_id": "",
               "description": "", "known_error": "false", "opened_at": _sn(opened),
               "priority": "4", "short_description": f"Recurring failures in {service.name}",
               "sys_id": sys_id}
        if opened + duration < end:
            updated = opened + duration + 3600
            row.update(state="107", closed_at=_sn(updated))
        else:
            updated = opened
            row["state"] = state = rng.choice(("101", "102", "103", "104"))
            row["known_error"] = "true" if state == "104" else "false"
        row["sys_updated_on"] = _sn(updated)
        w.add("servicenow", "problem", sys_id, _iso(updated), row)
        by_service[service.sys_id].append(sys_id)
    return by_service


def _incidents(world: World, w: _Writer, start: float, end: float,
               failed: dict[str, list[tuple[float, str]]], problems: dict[str, list[str]],
               slas: dict[int, str]) -> None:
    rng = random.Random(f"{world.seed}:incident")
    services = world.services
    weights = [1 + (i % 3) for i in range(len(services))]
    for i in range(world.count("incidents")):
        service = rng.choices(services, weights)[0]
        impact, urgency = rng.choices((1, 2, 3), (1, 3, 6))[0], rng.choices((1, 2, 3), (1, 3, 6))[0]
        priority = _PRIORITY[(impact, urgency)]
        opened = start + rng.random() * (end - start)
        to_resolve = rng.expovariate(1 / (_MEAN_HOURS[priority] * 3600)) + 300
        category, text = rng.choice(_CATEGORIES)
        sys_id = _sys_id("incident", world.seed, i)
        short = text.format(svc=service.name)
        row = {"assignment_group": service.support_group_sys_id,
               "business_service": service.sys_id, "category": category, "caused_by": "",
               "cmdb_ci": "", "correlation_id": "", "description": f"{short}. Reported.",
               "number": f"INC{10000 + i:07d}", "opened_at": _sn(opened),
               "priority": str(priority), "problem_id": "",
               "reopen_count": str(rng.choices((0, 1, 2), (94, 5, 1))[0]),
               "resolved_at": "", "rfc": "", "short_description": short, "sys_id": sys_id}
        changes = failed.get(service.sys_id) or []
        cut = bisect.bisect_left(changes, (opened, ""))
        if cut and rng.random() < 0.3 and opened - changes[cut - 1][0] < 7 * 86400:
            row["caused_by"] = changes[cut - 1][1]
        linked = problems.get(service.sys_id) or []
        if linked and rng.random() < 0.05:
            row["problem_id"] = rng.choice(linked)
        resolved = opened + to_resolve
        if resolved < end:
            row["resolved_at"] = _sn(resolved)
            closed = resolved + 3 * 86400
            row["state"], updated = ("7", closed) if closed < end else ("6", resolved)
        else:
            row["state"] = rng.choice(("1", "2", "2", "3"))
            updated = opened + min(end - opened, rng.random() * 7200)
        row["sys_updated_on"] = _sn(updated)
        w.add("servicenow", "incident", sys_id, _iso(updated), row)
        target = _SLA_HOURS[priority] * 3600
        done = resolved < end
        sla_id = _sys_id("task_sla", world.seed, i)
        sla_updated = resolved if done else opened
        w.add("servicenow", "task_sla", sla_id, _iso(sla_updated), {
            "end_time": row["resolved_at"],
            "has_breached": "true" if ((resolved if done else end) - opened) > target
            else "false",
            "sla": slas[priority], "stage": "completed" if done else "in_progress",
            "start_time": row["opened_at"], "sys_id": sla_id,
            "sys_updated_on": _sn(sla_updated), "task": sys_id})


# -- Jira ----------------------------------------------------------------------------------


def _jira(world: World, w: _Writer) -> None:
    fields = CLOUD_FIELDS
    renderer = Renderer(BASE, True, "3", ZoneInfo("Pacific/Auckland"), world.people, fields)
    taken = agile_time(world.now)
    for entry in all_fields(True, fields):
        w.add("jira", "field", entry["id"], _iso(world.now.timestamp()), entry)
    for status in renderer.statuses():
        w.add("jira", "status", status["id"], _iso(world.now.timestamp()), status)
    wanted = set(BASE_FIELDS) | {fields.sprint, fields.story_points}
    next_sprint, next_issue = 1, 10000
    for index, product in enumerate(world.products):
        project = {"id": 10000 + index, "key": product.key, "name": product.name}
        for board_id, kind in ((product.scrum_board_id, "scrum"),
                               (product.kanban_board_id, "kanban")):
            if board_id is not None:
                w.add("jira", "board", str(board_id), _iso(world.now.timestamp()),
                      _board(board_id, kind, product.key, product.name, project["id"]))
        sprints = build_sprints(world, product, next_sprint)
        next_sprint += len(sprints)
        by_id = {s.id: s for s in sprints}
        for sprint in sprints:
            stamp = sprint.complete or sprint.start or sprint.created
            w.add("jira", "sprint", str(sprint.id), _iso(stamp.timestamp()),
                  renderer.sprint(sprint))
        scopes: dict[int, list[dict]] = {s.id: [] for s in sprints if s.state == "closed"}
        for issue_id, payload, issue in _issues(world, product, next_issue, sprints, renderer,
                                                project, by_id, wanted):
            updated = datetime.fromisoformat(payload["fields"]["updated"])
            w.add("jira", "issue", str(issue_id), _iso(updated.timestamp()), payload)
            _add_to_scopes(scopes, by_id, issue)
        next_issue += product.issue_count
        for sprint_id, items in scopes.items():
            for moment in ("start", "close"):
                w.add("jira", "sprint_scope", f"{sprint_id}:{moment}", taken, {
                    "board_id": product.scrum_board_id, "items": items, "moment": moment,
                    "source": "sprint_report", "sprint_id": sprint_id, "taken_at": taken})


def _issues(world: World, product, first_id: int, sprints, renderer: Renderer,
            project: dict, by_id: dict, wanted: set[str]) -> Iterator[tuple[int, dict, object]]:
    for number in range(1, product.issue_count + 1):
        issue_id = first_id + number - 1
        issue = build_issue(world, product, number, issue_id, sprints, renderer.fields,
                            len(world.people))
        yield issue_id, renderer.issue(issue, project, by_id, wanted, issue.histories,
                                       None), issue


def _add_to_scopes(scopes: dict[int, list[dict]], by_id: dict, issue) -> None:
    """The issue in each closed sprint it was ever in, with its category at sprint close."""
    seen: set[int] = set()
    for history in issue.histories or ():
        for item in history.items:
            if item[0] == "Sprint" and item[5]:
                seen.update(int(v) for v in item[5].split(",") if v.strip())
    for sprint_id in seen:
        if sprint_id not in scopes:
            continue
        complete = by_id[sprint_id].complete
        status = "10000"
        for history in issue.histories or ():
            if history.created > complete:
                break
            for item in history.items:
                if item[0] == "status":
                    status = item[5]
        scopes[sprint_id].append({
            "is_subtask": ISSUE_TYPES[issue.type][1], "issue_type": issue.type,
            "key": issue.key, "status_category": STATUS_BY_ID[status][2],
            "story_points": issue.points})


def _board(board_id: int, kind: str, key: str, name: str, project_id: int) -> dict:
    columns = [{"name": n, "statuses": [{"id": s, "self": f"{BASE}/rest/api/2/status/{s}"}]}
               for s, n, _ in STATUS_BY_ID.values()]
    return {
        "configuration": {
            "columnConfig": {"columns": columns, "constraintType": "issueCount"},
            "estimation": {"field": {"displayName": "Story point estimate",
                                     "fieldId": CLOUD_FIELDS.story_points}, "type": "field"},
            "filter": {"id": str(10000 + board_id)}, "id": board_id,
            "location": {"id": str(project_id), "key": key, "name": name, "type": "project"},
            "name": f"{key} {'board' if kind == 'scrum' else 'kanban'}",
            "ranking": {"rankCustomFieldId": 10019}, "type": kind},
        "id": board_id,
        "location": {"displayName": f"{name} ({key})", "name": f"{name} ({key})",
                     "projectId": project_id, "projectKey": key, "projectName": name,
                     "projectTypeKey": "software"},
        "name": f"{key} {'board' if kind == 'scrum' else 'kanban'}",
        "self": f"{BASE}/rest/agile/1.0/board/{board_id}", "type": kind}


if __name__ == "__main__":
    import sys

    t0 = time.perf_counter()
    print(build_dataset(scaled(float(sys.argv[1])), Path(sys.argv[2])))
    print(f"{time.perf_counter() - t0:.1f}s")
