"""Generated evidence beyond tickets: outages, satisfaction surveys and suppliers.

Filled after every other table from a ``random.Random`` of its own (seeded from the world
seed plus ``":evidence"``), so none of the incident, change or problem values drawn before
change. It reads the generated incidents and changes, never the other generators' streams.

- ``cmdb_ci_outage``: unplanned outages and degradations of business services, most opened
  from a priority 1–2 incident (``task_number``), planned outages in the window of a closed
  normal change. Fixed cases anchored on ``world.now``: an outage spanning two months, two
  overlapping outages of one service, and one service (:data:`MISS_SERVICE`) well below a
  99.9 % availability in the last complete month and below it in the month before; the
  other services stay under 30 unplanned minutes in the last complete month.
- ``asmt_metric_type`` / ``asmt_metric`` / ``asmt_assessment_instance`` /
  ``asmt_metric_result``: the customer-satisfaction survey sent to the caller when an
  incident closes; some are answered (``complete``, two 1–5 scale results and sometimes a
  comment), the rest stay ``ready`` or are ``canceled`` when they expired.
- ``core_company`` (three vendors, two other companies) and ``sys_user_group.vendors``: the
  support group of every third service is staffed by a vendor.
- ``incident`` rows of category ``security`` (numbered from :data:`SECURITY_FIRST`), three a
  month across the services, from a ``random.Random`` of their own, added last so no other
  generated value moves; the recent ones are still open.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import UTC, datetime

from connectors.servicenow.sandbox.database import SN_FORMAT, Database
from connectors.world import World, build_sys_id

MISS_SERVICE = 2  # index of the service whose availability is missed (Customer Portal)
SURVEY_NAME = "Customer Satisfaction"
SURVEY_DAYS = 7
_SUPPLIERS = (("Northwind Hosting", "Hosting", "Dublin", "Ireland"),
              ("Contoso Networks", "Network", "Lyon", "France"),
              ("Fabrikam Support Services", "Service desk", "Pune", "India"))
_OTHER_COMPANIES = (("Example Org", False, True), ("Acme Hardware", True, False))
_METRICS = (("overall", "Overall satisfaction",
             "How satisfied are you with the resolution of your incident?", "scale"),
            ("speed", "Speed of resolution",
             "How satisfied are you with the time it took to resolve it?", "scale"),
            ("comments", "Comments", "Anything else you would like to tell us?", "string"))
_COMMENTS = ("Quick and friendly, thank you.", "Took too long to get an answer.",
             "Had to explain the problem twice.", "Great support as always.",
             "The workaround is fine for now.")
_HOUR = 3600.0
SECURITY_FIRST = 5_000_001  # security incident numbers: INC5000001…, clear of the others
SECURITY_PER_MONTH = 3
_SECURITY_TEXTS = ("Phishing e-mail reported by a user of {svc}",
                   "Suspicious login attempts on {svc}",
                   "Malware alert on a {svc} server", "Vulnerable library found in {svc}")


def _fmt(ts: float) -> str:
    return time.strftime(SN_FORMAT, time.gmtime(ts))


def _parse(text: str) -> float:
    return datetime.strptime(text, SN_FORMAT).replace(tzinfo=UTC).timestamp()


def _month_start(year: int, month: int) -> float:
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def _common(table: str, stamp: str) -> dict[str, str]:
    return {"sys_domain": "global", "sys_domain_path": "/", "sys_class_name": table,
            "sys_created_by": "admin", "sys_updated_by": "admin", "sys_mod_count": "0",
            "sys_created_on": stamp, "sys_updated_on": stamp}


def populate_evidence(db: Database, world: World) -> None:
    """Fill the outage, survey and supplier tables; mark vendor-staffed groups.

    Args:
        db: the sandbox database, its incidents and changes already generated
            (:func:`connectors.servicenow.sandbox.generator.populate`).
        world: the organisation.
    """
    # The same window as the generator's: history start to an hour before now.
    end = world.now.timestamp() - 3600
    start = world.history_start.timestamp()
    rng = random.Random(f"{world.seed}:evidence")
    _suppliers(db, world, start)
    _outages(db, world, rng, start, end)
    _surveys(db, world, rng, start, end)
    _security_incidents(db, world, start, end)


def _security_incidents(db: Database, world: World, start: float, end: float) -> None:
    """A few incidents of category ``security`` each month, spread over the services."""
    rng = random.Random(f"{world.seed}:security")
    incidents = db.tables["incident"]
    months = max(1, round((end - start) / (30 * 86400)))
    for n in range(months * SECURITY_PER_MONTH):
        service = world.services[n % len(world.services)]
        month = n // SECURITY_PER_MONTH
        opened = start + (month + rng.random()) * (end - start) / months
        priority = rng.choice((2, 3, 3, 4))
        caller = world.people[rng.randrange(len(world.people))].sn_sys_id
        text = rng.choice(_SECURITY_TEXTS).format(svc=service.name)
        values = {**_common("incident", _fmt(opened)),
                  "sys_id": build_sys_id("incident", world.seed, "security", n),
                  "number": f"INC{SECURITY_FIRST + n:07d}", "category": "security",
                  "subcategory": "", "business_service": service.sys_id,
                  "assignment_group": service.support_group_sys_id, "caller_id": caller,
                  "opened_by": caller, "impact": "2", "urgency": "2",
                  "priority": str(priority), "contact_type": "email",
                  "short_description": text, "description": f"{text}. Reported to security.",
                  "opened_at": _fmt(opened), "reassignment_count": "0", "reopen_count": "0",
                  "approval": "not requested", "escalation": "0", "knowledge": "false",
                  "notify": "1", "severity": "2", "child_incidents": "0"}
        resolved = opened + rng.expovariate(1 / (30 * _HOUR)) + 600
        if resolved < end:
            closed = resolved + 3 * 86400
            values.update(resolved_at=_fmt(resolved), resolved_by=caller, made_sla="true",
                          close_code="Solution provided", close_notes="Contained.",
                          state="6", incident_state="6", active="true",
                          sys_updated_on=_fmt(resolved), sys_mod_count="6")
            if closed < end:
                values.update(state="7", incident_state="7", active="false",
                              closed_at=_fmt(closed), sys_updated_on=_fmt(closed),
                              sys_mod_count="8")
        else:
            values.update(state="2", incident_state="2", active="true", made_sla="true",
                          sys_mod_count="2")
        incidents.insert(values)


def _suppliers(db: Database, world: World, start: float) -> None:
    stamp = _fmt(start - 86400 * 35)
    companies = db.tables["core_company"]
    vendor_ids = []
    for i, (name, kind, city, country) in enumerate(_SUPPLIERS):
        sys_id = build_sys_id("core_company", world.seed, name)
        vendor_ids.append(sys_id)
        companies.insert({**_common("core_company", stamp), "sys_id": sys_id, "name": name,
                          "vendor": "true", "manufacturer": "false", "customer": "false",
                          "vendor_type": kind, "city": city, "country": country,
                          "website": f"https://www.{name.split()[0].lower()}.example",
                          "vendor_manager": world.people[(i * 5 + 4) % len(world.people)]
                          .sn_sys_id})
    for name, manufacturer, customer in _OTHER_COMPANIES:
        companies.insert({**_common("core_company", stamp),
                          "sys_id": build_sys_id("core_company", world.seed, name),
                          "name": name, "vendor": "false",
                          "manufacturer": str(manufacturer).lower(),
                          "customer": str(customer).lower()})
    groups = db.tables["sys_user_group"]
    for i, service in enumerate(world.services):
        row = groups.get(service.support_group_sys_id)
        if row is not None and i % 3 == 2:
            # A new column only: the group's generated values and stamps stay as they were.
            row[groups.schema.index["vendors"]] = vendor_ids[(i // 3) % len(vendor_ids)]


class _Outages:
    """Collects outage rows, then numbers them in order of ``begin``."""

    def __init__(self, world: World, end: float) -> None:
        self.world = world
        self.end = end
        self.rows: list[dict[str, str | float]] = []
        self.unplanned: dict[tuple[int, float], float] = defaultdict(float)

    def add(self, service: int, kind: str, begin: float, finish: float, *, task: str = "",
            created: float | None = None, month: float | None = None) -> None:
        finish = min(finish, self.end - 600)
        svc = self.world.services[service]
        text = {"outage": f"{svc.name} unavailable",
                "degradation": f"{svc.name} responding slowly",
                "planned": f"Planned maintenance of {svc.name}"}[kind]
        self.rows.append({"begin": begin, "end": finish, "type": kind, "cmdb_ci": svc.sys_id,
                          "task_number": task, "short_description": text,
                          "created": begin + 300 if created is None else created})
        if kind == "outage" and month is not None:
            self.unplanned[(service, month)] += (finish - begin) / 60


def _outages(db: Database, world: World, rng: random.Random, start: float,
             end: float) -> None:
    now = world.now
    last_month = _month_start(now.year, now.month - 1)  # the last complete month
    before = _month_start(now.year, now.month - 2)
    two_before = _month_start(now.year, now.month - 3)
    out = _Outages(world, end)
    n = len(world.services)
    miss = min(MISS_SERVICE, n - 1)
    # Fixed cases: a clear miss (5 h) and a smaller one the month before (95 min) ...
    out.add(miss, "outage", last_month + 9 * 86400 + 13.5 * _HOUR,
            last_month + 9 * 86400 + 18.5 * _HOUR, month=last_month)
    out.add(miss, "outage", before + 14 * 86400 + 7 * _HOUR,
            before + 14 * 86400 + 8.5 * _HOUR + 300, month=before)
    # ... an outage across a month boundary (40 min before it, 65 after) ...
    out.add(0, "outage", before - 40 * 60, before + 65 * 60, month=two_before)
    # ... and two overlapping outages of one service (union 30 min, sum 38 min).
    other = 1 % n
    out.add(other, "outage", last_month + 20 * 86400 + 10 * _HOUR,
            last_month + 20 * 86400 + 10 * _HOUR + 20 * 60, month=last_month)
    out.add(other, "outage", last_month + 20 * 86400 + 10 * _HOUR + 12 * 60,
            last_month + 20 * 86400 + 10.5 * _HOUR, month=last_month)
    _random_unplanned(db, world, rng, out, start, last_month, miss)
    _planned(db, world, rng, out)
    _fill_rows(db, world, rng, out)


def _random_unplanned(db: Database, world: World, rng: random.Random, out: _Outages,
                      start: float, last_month: float, miss: int) -> None:
    """Outages and degradations opened from priority 1–2 incidents, ~0.6 a month each."""
    incidents = db.tables["incident"]
    index = incidents.schema.index
    by_service = {s.sys_id: i for i, s in enumerate(world.services)}
    candidates: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for row in incidents.rows.values():
        service = by_service.get(row[index["business_service"]])
        if service is not None and row[index["priority"]] in ("1", "2"):
            candidates[service].append((_parse(row[index["opened_at"]]), row[index["sys_id"]]))
    months = max(1.0, (out.end - start) / (30 * 86400))
    next_month = _month_start(world.now.year, world.now.month)
    for service in range(len(world.services)):
        found = candidates.get(service, [])
        chance = min(1.0, 0.6 * months / len(found)) if found else 0.0
        for opened, sys_id in found:
            if rng.random() >= chance:
                continue
            begin = max(start, opened - rng.uniform(60, 900))
            if rng.random() < 0.3:
                out.add(service, "degradation", begin, begin + rng.uniform(20, 120) * 60,
                        task=sys_id)
                continue
            minutes = rng.uniform(4, 18)
            month = last_month if last_month <= begin < next_month else None
            if month is not None and service != miss and \
                    out.unplanned[(service, month)] + minutes > 30:
                kind = "degradation"  # keeps every other service above 99.9 % that month
            else:
                kind = "outage"
            out.add(service, kind, begin, begin + minutes * 60, task=sys_id, month=month)


def _planned(db: Database, world: World, rng: random.Random, out: _Outages) -> None:
    """Planned outages in the work window of closed normal changes, about one a month."""
    changes = db.tables["change_request"]
    index = changes.schema.index
    by_service = {s.sys_id: i for i, s in enumerate(world.services)}
    taken: set[tuple[int, str]] = set()
    for row in changes.rows.values():
        service = by_service.get(row[index["business_service"]])
        if service is None or row[index["state"]] != "3" or row[index["type"]] != "normal":
            continue
        month = row[index["work_start"]][:7]
        if (service, month) in taken or rng.random() < 0.5:
            continue
        taken.add((service, month))
        begin, finish = _parse(row[index["work_start"]]), _parse(row[index["work_end"]])
        out.add(service, "planned", begin, finish, task=row[index["sys_id"]],
                created=_parse(row[index["opened_at"]]))


def _fill_rows(db: Database, world: World, rng: random.Random, out: _Outages) -> None:
    """Write the collected outages, numbered OUT0001001… in order of ``begin``."""
    table = db.tables["cmdb_ci_outage"]
    for n, item in enumerate(sorted(out.rows, key=lambda r: (r["begin"], r["cmdb_ci"]))):
        begin, finish = int(float(item["begin"])), int(float(item["end"]))  # whole seconds
        created = min(float(item["created"]), begin + 300)
        updated = min(finish + rng.uniform(10, 120) * 60, out.end)
        table.insert({**_common("cmdb_ci_outage", _fmt(created)),
                      "sys_id": build_sys_id("cmdb_ci_outage", world.seed, n),
                      "number": f"OUT{1001 + n:07d}", "cmdb_ci": str(item["cmdb_ci"]),
                      "type": str(item["type"]), "begin": _fmt(begin), "end": _fmt(finish),
                      "duration": _fmt(finish - begin),
                      "task_number": str(item["task_number"]),
                      "short_description": str(item["short_description"]),
                      "sys_updated_on": _fmt(updated), "sys_mod_count": "3"})


def _surveys(db: Database, world: World, rng: random.Random, start: float,
             end: float) -> None:
    """The satisfaction survey sent to the caller of most closed incidents."""
    stamp = _fmt(start - 86400 * 30)
    survey = build_sys_id("asmt_metric_type", world.seed, SURVEY_NAME)
    db.tables["asmt_metric_type"].insert({
        **_common("asmt_metric_type", stamp), "sys_id": survey, "name": SURVEY_NAME,
        "evaluation_method": "survey", "active": "true", "table": "incident",
        "schedule_type": "on_demand", "duration": str(SURVEY_DAYS),
        "description": "Sent to the caller when an incident is closed."})
    metrics = {}
    for order, (key, name, question, datatype) in enumerate(_METRICS):
        metrics[key] = sys_id = build_sys_id("asmt_metric", world.seed, key)
        scale = datatype == "scale"
        db.tables["asmt_metric"].insert({
            **_common("asmt_metric", stamp), "sys_id": sys_id, "name": name,
            "question": question, "metric_type": survey, "datatype": datatype,
            "method": "assessment", "order": str(100 * (order + 1)),
            "scale_min": "1" if scale else "", "scale_max": "5" if scale else "",
            "weight": "1" if scale else "0", "active": "true",
            "mandatory": "true" if scale else "false"})
    incidents = db.tables["incident"]
    index = incidents.schema.index
    instances, results = db.tables["asmt_assessment_instance"], db.tables["asmt_metric_result"]
    n = 0
    for row in incidents.rows.values():
        if row[index["state"]] != "7" or row[index["contact_type"]] == "monitoring" or \
                rng.random() >= 0.5:
            continue
        sent = _parse(row[index["closed_at"]])
        expires = sent + SURVEY_DAYS * 86400
        answered = rng.random() < 0.55
        taken = sent + min(rng.expovariate(1 / (20 * _HOUR)), SURVEY_DAYS * 86400 - 60)
        user, incident = row[index["caller_id"]], row[index["sys_id"]]
        sys_id = build_sys_id("asmt_assessment_instance", world.seed, n)
        values = {**_common("asmt_assessment_instance", _fmt(sent)), "sys_id": sys_id,
                  "number": f"AINST{10001 + n:07d}", "metric_type": survey, "user": user,
                  "trigger_table": "incident", "trigger_id": incident, "task_id": incident,
                  "due_date": _fmt(expires), "expiration_date": _fmt(expires),
                  "percent_answered": "0", "state": "ready"}
        n += 1
        if answered and taken < end:
            values.update(state="complete", taken_on=_fmt(taken), percent_answered="100",
                          sys_updated_on=_fmt(taken), sys_mod_count="2")
            breached = row[index["made_sla"]] == "false"
            overall = rng.choices((1, 2, 3, 4, 5),
                                  (15, 25, 30, 20, 10) if breached else (2, 5, 13, 40, 40))[0]
            speed = max(1, min(5, overall + rng.choice((-1, 0, 0, 1))))
            answers = [("overall", str(overall), ""), ("speed", str(speed), "")]
            if rng.random() < 0.3:
                answers.append(("comments", "", rng.choice(_COMMENTS)))
            for key, value, text in answers:
                results.insert({**_common("asmt_metric_result", _fmt(taken)),
                                "sys_id": build_sys_id("asmt_metric_result", sys_id, key),
                                "instance": sys_id, "metric": metrics[key],
                                "metric_type": survey, "actual_value": value,
                                "string_value": text, "user": user,
                                "source_table": "incident", "source_id": incident})
        elif expires < end:
            values.update(state="canceled", sys_updated_on=_fmt(expires), sys_mod_count="1")
        instances.insert(values)
