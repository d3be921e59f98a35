"""ServiceNow records → canonical incidents, changes, problems, SLAs and services.

Records are attributed to portfolio services through ``business_service``, which the
portfolio names by sys_id or by name (``indicators.md`` §2.3); Jira keys are found in their
text (§2.4); ``major`` follows ``parameters.major_rule`` and an SLA's ``kind`` follows
``response_slas`` / ``resolution_slas`` (§2.9).
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import fmean
from typing import Any

from fiveo_sync.engine.links import find_jira_keys
from fiveo_sync.engine.normalise_fields import (
    LookupIndex,
    Payload,
    SkipCounter,
    SkipRecord,
    map_fields,
)
from fiveo_sync.engine.normalise_values import (
    UnreadableValue,
    lookup_path,
    raw_value,
    read_code,
    read_servicenow_reference,
    reference_display,
)
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.sources_spec import SourcesSpec
from fiveo_sync.records import (
    Change,
    Group,
    Incident,
    Outage,
    Problem,
    ServiceRecord,
    Sla,
    Supplier,
    SurveyResponse,
)


class ServiceResolver:
    """Maps a ``business_service`` reference to a portfolio service id."""

    def __init__(self, portfolio: PortfolioSpec, services: list[ServiceRecord]) -> None:
        self._by_ref: dict[str, str] = {}
        for service in portfolio.services:
            self._by_ref[service.business_service] = service.id
        for record in services:
            for ref in (record.sys_id, record.name):
                if ref:
                    self._by_ref.setdefault(ref, record.id)

    def resolve(self, raw: Any, sys_id: str | None) -> str | None:
        """The portfolio id for the reference, else the raw reference, else ``None``."""
        if sys_id is None:
            return None
        display = reference_display(raw)
        return self._by_ref.get(sys_id) or (self._by_ref.get(display) if display else None) \
            or sys_id


def build_services(spec: SourcesSpec, portfolio: PortfolioSpec, cmdb: Iterable[Payload],
                   lookups: LookupIndex, skipped: SkipCounter) -> list[ServiceRecord]:
    """One record per portfolio service, completed from its ``cmdb_ci_service`` record."""
    found: list[dict[str, Any]] = []
    record_map = spec.record_map("service")
    for payload in cmdb if record_map else ():
        try:
            found.append(map_fields("service", record_map, payload, spec, lookups))
        except SkipRecord as skip:
            skipped.add("service", skip.reason)
    records = []
    for service in portfolio.services:
        ref = service.business_service
        match = next((f for f in found if ref in (f["id"], f["name"])), None) or next(
            (f for f in found if f["name"] and f["name"].casefold() == ref.casefold()), None)
        records.append(ServiceRecord(
            id=service.id,
            sys_id=match["id"] if match else None,
            name=service.name or (match["name"] if match else ref),
            owner=service.owner or (match.get("owner") if match else None),
        ))
    return records


class ServiceNowNormaliser:
    """Builds the ServiceNow canonical records of one normalisation."""

    def __init__(self, spec: SourcesSpec, portfolio: PortfolioSpec, lookups: LookupIndex,
                 services: list[ServiceRecord], skipped: SkipCounter) -> None:
        self.spec = spec
        self.lookups = lookups
        self.skipped = skipped
        self.resolver = ServiceResolver(portfolio, services)
        self._incidents: dict[str, Incident] = {}
        keys = spec.jira_keys
        self._projects = portfolio.jira_projects if keys.portfolio_projects_only else None

    def _records(self, kind: str, payloads: Iterable[Payload]):  # noqa: ANN202 - generator
        record_map = self.spec.record_map(kind)
        if record_map is None:
            return
        for payload in payloads:
            try:
                values = map_fields(kind, record_map, payload, self.spec, self.lookups)
                if "service" in values:
                    source = record_map.fields["service"].source
                    values["service"] = self.resolver.resolve(
                        lookup_path(payload, source), values["service"])
                yield payload, values
            except SkipRecord as skip:
                self.skipped.add(kind, skip.reason)

    def _jira_keys(self, payload: Payload) -> frozenset[str]:
        texts = []
        for name in self.spec.jira_keys.fields:
            value = payload.get(name)
            text = reference_display(value) if isinstance(value, dict) and \
                raw_value(value) == "" else raw_value(value)
            texts.append(text if isinstance(text, str) else None)
        return find_jira_keys(texts, self._projects, self.spec.jira_keys.pattern)

    def incidents(self, payloads: Iterable[Payload],
                  groups: Iterable[Group] = ()) -> list[Incident]:
        """Canonical incidents; ``groups`` give the supplier of each assignment group."""
        rule = self.spec.parameters.major_rule
        security = self.spec.parameters.security_rule.incident
        # Groups by sys_id and by name: the incident names its group by reference.
        suppliers = {ref: g.supplier for g in groups if g.supplier for ref in (g.id, g.name)}
        record_map = self.spec.record_map("incident")
        group_map = record_map.fields.get("assignment_group") if record_map else None
        out = []
        for payload, v in self._records("incident", payloads):
            major = self._rule_holds(payload, rule.source, rule.in_)
            group = read_servicenow_reference(lookup_path(payload, group_map.source)) \
                if group_map and suppliers else None
            out.append(Incident(
                id=v["id"], number=v["number"], state=v["state"],
                priority=v.get("priority"), opened_at=v.get("opened_at"),
                resolved_at=v.get("resolved_at"), service=v.get("service"),
                assignment_group=v.get("assignment_group"), caused_by=v.get("caused_by"),
                rfc=v.get("rfc"), problem=v.get("problem"),
                reopen_count=v.get("reopen_count") or 0, ci=v.get("ci"),
                category=v.get("category"), major=major,
                jira_keys=self._jira_keys(payload),
                security=self._rule_holds(payload, security.source, security.in_),
                supplier=suppliers.get(group) if group else None))
        self._incidents = {incident.id: incident for incident in out}
        return out

    @staticmethod
    def _rule_holds(payload: Payload, source: str, values: tuple[str, ...]) -> bool:
        try:
            return read_code(lookup_path(payload, source)) in values
        except UnreadableValue:
            return False

    def changes(self, payloads: Iterable[Payload]) -> list[Change]:
        """Canonical changes."""
        return [Change(id=v["id"], number=v["number"], type=v.get("type"), state=v["state"],
                       close_code=v.get("close_code"), closed_at=v.get("closed_at"),
                       work_end=v.get("work_end"), service=v.get("service"),
                       jira_keys=self._jira_keys(payload))
                for payload, v in self._records("change", payloads)]

    def problems(self, payloads: Iterable[Payload]) -> list[Problem]:
        """Canonical problems."""
        return [Problem(id=v["id"], state=v["state"], priority=v.get("priority"),
                        known_error=bool(v.get("known_error")), opened_at=v.get("opened_at"),
                        closed_at=v.get("closed_at"), service=v.get("service"),
                        jira_keys=self._jira_keys(payload))
                for payload, v in self._records("problem", payloads)]

    def outages(self, payloads: Iterable[Payload]) -> list[Outage]:
        """Canonical outages, degradations and planned outages."""
        return [Outage(id=v["id"], number=v.get("number"), type=v["type"],
                       service=v.get("service"), begin=v.get("begin"), end=v.get("end"),
                       duration_s=v.get("duration_s"), task=v.get("task"))
                for _payload, v in self._records("outage", payloads)]

    def survey_responses(self, instances: Iterable[Payload],
                         results: Iterable[Payload]) -> list[SurveyResponse]:
        """One response per sent survey, scored from its metric results.

        Call after :meth:`incidents` and before :meth:`slas`: a response takes the service
        of the incident it was sent for.
        """
        wanted = set(self.spec.parameters.survey_score_metrics)
        counts: dict[str, int] = {}
        scores: dict[str, list[float]] = {}
        for _payload, v in self._records("survey_result", results):
            instance = v["instance"]
            counts[instance] = counts.get(instance, 0) + 1
            value = v.get("value")
            if value is not None and (not wanted or v.get("metric") in wanted):
                scores.setdefault(instance, []).append(value)
        out = []
        for _payload, v in self._records("survey_response", instances):
            answered = v["state"] == "complete"
            given = scores.get(v["id"]) if answered else None
            task = v.get("task")
            incident = self._incidents.get(task) if task else None
            out.append(SurveyResponse(
                id=v["id"], number=v.get("number"), survey=v.get("survey"), state=v["state"],
                answered=answered, score=fmean(given) if given else None,
                answers=counts.get(v["id"], 0), task=task,
                service=incident.service if incident else None, user=v.get("user"),
                sent_at=v.get("sent_at"), taken_on=v.get("taken_on")))
        return out

    def suppliers(self, payloads: Iterable[Payload]) -> list[Supplier]:
        """Canonical companies; ``vendor`` marks suppliers."""
        return [Supplier(id=v["id"], name=v["name"], vendor=bool(v.get("vendor")))
                for _payload, v in self._records("supplier", payloads)]

    def groups(self, payloads: Iterable[Payload], suppliers: Iterable[Supplier]) -> list[Group]:
        """Canonical assignment groups, each with the vendor staffing it (if any)."""
        vendors = {s.id: s.name for s in suppliers if s.vendor}
        out = []
        for _payload, v in self._records("group", payloads):
            companies = tuple(v.get("companies") or ())
            supplier = next((vendors[c] for c in companies if c in vendors), None)
            out.append(Group(id=v["id"], name=v["name"], companies=companies,
                             supplier=supplier))
        return out

    def slas(self, payloads: Iterable[Payload]) -> list[Sla]:
        """Canonical task SLAs, with ``kind`` from the response/resolution definitions."""
        params = self.spec.parameters
        out = []
        for _payload, v in self._records("sla", payloads):
            definition = v.get("definition")
            if definition in params.response_slas:
                kind = "response"
            elif params.resolution_slas is None or definition in params.resolution_slas:
                kind = "resolution"
            else:
                self.skipped.add("sla", "definition neither response nor resolution")
                continue
            task, start, end = v.get("task"), v.get("start_time"), v.get("end_time")
            incident = self._incidents.get(task) if task else None
            if incident is not None:
                # An SLA repeats its incident's id and (mostly) its opened and resolved
                # times: share those objects, a million SLAs then cost ~170 MB less.
                task = incident.id
                start = incident.opened_at if start == incident.opened_at else start
                end = incident.resolved_at if end == incident.resolved_at else end
            out.append(Sla(id=v["id"], task=task, definition=definition, kind=kind,
                           stage=v["stage"], has_breached=bool(v.get("has_breached")),
                           start_time=start, end_time=end))
        self._incidents = {}
        return out

