"""Raw platform payloads → :class:`fiveo_sync.records.CanonicalData` (pure).

``normalise(sources, portfolio, raw)`` takes the payloads exactly as the platforms return
them, keyed by ``(source, stream)`` — ``("servicenow", "incident")``,
``("jira", "issue")``… — and applies ``mappings/sources.yaml``. Records missing a required
field or holding an unreadable value are skipped and counted per kind and reason in
``CanonicalData.skipped``; nothing here raises for bad data, reads a clock or does I/O.

Streams read: servicenow ``incident``, ``change_request``, ``problem``, ``task_sla``,
``contract_sla``, ``cmdb_ci_service``, ``sys_user_group``, ``sys_user``,
``cmdb_ci_outage``, ``asmt_assessment_instance``, ``asmt_metric_result``, ``asmt_metric``,
``asmt_metric_type``, ``core_company``; jira ``issue``,
``board``, ``sprint``, ``sprint_scope``, ``field``, ``status`` (the streams actually used
are those named in the source maps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from fiveo_sync.engine.normalise_fields import LookupIndex, SkipCounter
from fiveo_sync.engine.normalise_jira import (
    JiraNormaliser,
    StoryPointsFields,
    satisfaction_field,
    status_categories,
)
from fiveo_sync.engine.normalise_servicenow import ServiceNowNormaliser, build_services
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.sources_spec import SourcesSpec
from fiveo_sync.records import CanonicalData

RawStreams = Mapping[tuple[str, str], Iterable[Mapping[str, Any]]]
# (kind, source, default stream) of the per-record streams; the rest give context.
_RECORD_STREAMS = (("incident", "servicenow", "incident"),
                   ("change", "servicenow", "change_request"),
                   ("problem", "servicenow", "problem"), ("sla", "servicenow", "task_sla"),
                   ("work_item", "jira", "issue"), ("outage", "servicenow", "cmdb_ci_outage"),
                   ("survey_response", "servicenow", "asmt_assessment_instance"),
                   ("survey_result", "servicenow", "asmt_metric_result"))
_LOOKUP_STREAMS = {"servicenow": ("sys_user_group", "sys_user", "contract_sla",
                                  "cmdb_ci_service", "core_company", "asmt_metric",
                                  "asmt_metric_type")}


def normalise(sources: SourcesSpec, portfolio: PortfolioSpec, raw: RawStreams,
              on_skip: Callable[[str, str], None] | None = None) -> CanonicalData:
    """Build the canonical records of ``indicators.md`` §2.1 from raw payloads.

    Args:
        sources: the source maps (``mappings/sources.yaml``).
        portfolio: the services and products (``mappings/portfolio.yaml``).
        raw: payload iterables per ``(source, stream)``; missing streams are empty.
        on_skip: called with ``(kind, reason)`` as each record is skipped, while the
            record streams are read one payload at a time.

    Returns:
        The canonical records and the skipped counts per kind and reason.
    """
    named = [(source, sources.record_map(kind).stream if sources.record_map(kind) else default)
             for kind, source, default in _RECORD_STREAMS]
    record_streams = {key for key in named if named.count(key) == 1}
    # Record streams are read once, lazily, so their raw payloads never all sit in memory
    # (a million incidents); the small context streams are read into lists first.
    streams: dict[tuple[str, str], Iterable[Mapping[str, Any]]] = {
        key: (_mappings(payloads) if key in record_streams
              else [p for p in payloads if isinstance(p, Mapping)])
        for key, payloads in raw.items()}

    def stream(kind: str, source: str, default: str) -> Iterable[Mapping[str, Any]]:
        record_map = sources.record_map(kind)
        name = record_map.stream if record_map else default
        return streams.get((source, name), [])

    skipped = SkipCounter(listener=on_skip)
    lookups = LookupIndex.build({name: streams.get(("servicenow", name), [])
                                 for name in _LOOKUP_STREAMS["servicenow"]})
    services = build_services(sources, portfolio,
                              stream("service", "servicenow", "cmdb_ci_service"),
                              lookups, skipped)
    servicenow = ServiceNowNormaliser(sources, portfolio, lookups, services, skipped)
    points = StoryPointsFields(sources, streams.get(("jira", "board"), []),
                               streams.get(("jira", "field"), []))
    jira = JiraNormaliser(sources, LookupIndex(), points,
                          status_categories(streams.get(("jira", "status"), [])), skipped,
                          satisfaction_field(sources, streams.get(("jira", "field"), [])))
    # Before the incidents: an incident takes the supplier staffing its assignment group.
    suppliers = tuple(servicenow.suppliers(stream("supplier", "servicenow", "core_company")))
    groups = tuple(servicenow.groups(stream("group", "servicenow", "sys_user_group"),
                                     suppliers))
    incidents = tuple(servicenow.incidents(stream("incident", "servicenow", "incident"),
                                           groups))
    # Before the SLAs: a survey response takes its incident's service.
    responses = tuple(servicenow.survey_responses(
        stream("survey_response", "servicenow", "asmt_assessment_instance"),
        stream("survey_result", "servicenow", "asmt_metric_result")))
    return CanonicalData(
        incidents=incidents,
        changes=tuple(servicenow.changes(stream("change", "servicenow", "change_request"))),
        problems=tuple(servicenow.problems(stream("problem", "servicenow", "problem"))),
        slas=tuple(servicenow.slas(stream("sla", "servicenow", "task_sla"))),
        work_items=tuple(jira.work_items(stream("work_item", "jira", "issue"))),
        sprints=tuple(jira.sprints(stream("sprint", "jira", "sprint"))),
        sprint_scopes=tuple(jira.sprint_scopes(streams.get(("jira", "sprint_scope"), []))),
        services=tuple(services),
        outages=tuple(servicenow.outages(stream("outage", "servicenow", "cmdb_ci_outage"))),
        survey_responses=responses,
        suppliers=suppliers,
        groups=groups,
        skipped=skipped.counts,
    )


def _mappings(payloads: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    return (p for p in payloads if isinstance(p, Mapping))
