"""The source maps file (``mappings/sources.yaml``): raw platform records → canonical records.

For each canonical record kind (``indicators.md`` §2.1) the file names the platform stream
it comes from and, per canonical field, the source field and its value type. Instance codes
(incident states, change types, Jira status categories…) are translated by named value
maps, so an instance with its own choices changes YAML, never code. The normaliser
(:mod:`fiveo_sync.engine.normalise`) applies these maps.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from fiveo_sync.engine.portfolio_spec import StrictSpec

ValueType = Literal[
    "text",                     # a string; "" is empty
    "int",                      # "3", 3 or 3.0
    "number",                   # "2.5", 2.5, "-1"
    "bool",                     # "true"/"false" or JSON booleans
    "code",                     # translated by the value map named in `values`
    "servicenow_datetime",      # "YYYY-MM-DD HH:MM:SS", UTC
    "servicenow_reference",     # {link, value} / {display_value, value, link} / sys_id → sys_id
    "servicenow_reference_name",  # a reference resolved to a name (display value or lookup)
    "servicenow_duration",      # "1970-01-01 02:30:00" (epoch offset) or seconds → seconds
    "servicenow_list",          # a list field: "sys_id1,sys_id2" → a tuple of sys_ids
    "jira_datetime",            # ISO 8601 with an offset: 2020-06-12T08:13:13.360+0800, …Z
    "jira_name",                # an object's `name` (issuetype, resolution, status)
    "jira_key",                 # an object's `key` (project, parent)
    "jira_labels",              # a list of strings → a set
    "jira_sprints",             # the sprint field: objects or old-Server strings → sprint ids
]

SourceName = Literal["servicenow", "jira"]

SERVICENOW_STREAMS = ("incident", "change_request", "problem", "task_sla", "contract_sla",
                      "cmdb_ci_service", "sys_user_group", "sys_user", "cmdb_ci_outage",
                      "asmt_assessment_instance", "asmt_metric_result", "asmt_metric",
                      "asmt_metric_type", "core_company")
JIRA_STREAMS = ("issue", "board", "sprint", "sprint_scope", "field", "status")

# Canonical kinds a source map may fill, the fields a map may set for each (canonical
# fields plus a few source facts the normaliser derives canonical fields from), and the
# fields without which a record is skipped.
MAPPABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("id", "number", "state", "priority", "opened_at", "resolved_at", "service",
                 "assignment_group", "caused_by", "rfc", "problem", "reopen_count", "ci",
                 "category"),
    "change": ("id", "number", "type", "state", "close_code", "closed_at", "work_end",
               "service"),
    "problem": ("id", "state", "priority", "known_error", "opened_at", "closed_at",
                "service"),
    "sla": ("id", "task", "definition", "stage", "has_breached", "start_time", "end_time"),
    "service": ("id", "name", "owner"),
    "work_item": ("key", "project", "type", "is_subtask", "status_category", "status",
                  "status_id", "resolution", "created", "labels", "sprints", "parent_key",
                  "parent_type", "epic_link", "resolution_date", "status_category_changed"),
    "sprint": ("id", "board", "state", "start", "complete", "goal"),
    "outage": ("id", "number", "type", "service", "begin", "end", "duration_s", "task"),
    "survey_response": ("id", "number", "survey", "state", "task", "user", "sent_at",
                        "taken_on"),
    "survey_result": ("id", "instance", "metric", "value"),
    "supplier": ("id", "name", "vendor"),
    "group": ("id", "name", "companies"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("id", "number", "state"),
    "change": ("id", "number", "state"),
    "problem": ("id", "state"),
    "sla": ("id", "stage"),
    "service": ("id", "name"),
    "work_item": ("key", "status_category"),  # project defaults to the key's prefix
    "sprint": ("id", "state"),
    "outage": ("id", "type"),
    "survey_response": ("id", "state"),
    "survey_result": ("id", "instance"),
    "supplier": ("id", "name"),
    "group": ("id", "name"),
}
RECORD_SOURCES: dict[str, SourceName] = {
    "incident": "servicenow", "change": "servicenow", "problem": "servicenow",
    "sla": "servicenow", "service": "servicenow", "work_item": "jira", "sprint": "jira",
    "outage": "servicenow", "survey_response": "servicenow", "survey_result": "servicenow",
    "supplier": "servicenow", "group": "servicenow",
}


class LookupSpec(StrictSpec):
    """Resolve a reference through another stream: the referenced record's ``field``."""

    stream: str = Field(description="stream holding the referenced records, e.g. sys_user")
    field: str = Field(description="field of the referenced record to use, e.g. user_name")


class FieldMapSpec(StrictSpec):
    """Where one canonical field comes from and how its value is read."""

    source: str = Field(
        min_length=1,
        description="source field; dots walk into objects (fields.status.statusCategory.key)")
    type: ValueType = Field(default="text", description="how the raw value is read")
    values: str | None = Field(
        default=None, description="name of the value map translating codes (type: code)")
    lookup: LookupSpec | None = Field(
        default=None, description="resolve a reference through another stream")


class RecordMapSpec(StrictSpec):
    """One canonical record kind: its stream and field maps."""

    stream: str = Field(description="the platform stream the records come from")
    fields: dict[str, FieldMapSpec] = Field(description="canonical field → source field")


class RecordMapsSpec(StrictSpec):
    """The record kinds; each is optional so that a site without Jira can omit its kinds."""

    incident: RecordMapSpec | None = None
    change: RecordMapSpec | None = None
    problem: RecordMapSpec | None = None
    sla: RecordMapSpec | None = None
    service: RecordMapSpec | None = None
    work_item: RecordMapSpec | None = None
    sprint: RecordMapSpec | None = None
    # Evidence beyond tickets (no shipped indicator reads them yet).
    outage: RecordMapSpec | None = None
    survey_response: RecordMapSpec | None = None
    survey_result: RecordMapSpec | None = None
    supplier: RecordMapSpec | None = None
    group: RecordMapSpec | None = None


class StoryPointsSpec(StrictSpec):
    """Which Jira field holds story points (``jira-api.md`` §5.3)."""

    field: str = Field(
        default="auto",
        description="'auto' (the board's estimation field, else a field named as in "
                    "`names`) or an explicit field id such as customfield_10016")
    names: tuple[str, ...] = Field(
        default=("Story Points", "Story point estimate"),
        description="field names tried when the board configuration gives no field")


class JiraKeysSpec(StrictSpec):
    """How Jira issue keys are found in ServiceNow text (``indicators.md`` §2.4)."""

    pattern: str = Field(
        default=r"(?<![A-Za-z0-9])([A-Z][A-Z0-9_]+)-([1-9][0-9]*)(?![0-9])",
        max_length=200,
        description="regular expression; group 1 is the project key, group 2 the number")
    fields: tuple[str, ...] = Field(
        default=("short_description", "description", "correlation_id"),
        description="source text fields searched")
    portfolio_projects_only: bool = Field(
        default=True, description="keep only keys whose project is in the portfolio")


class MajorRuleSpec(StrictSpec):
    """``incident.major``: true when the raw ``source`` field holds one of ``in``."""

    source: str = Field(default="priority", description="raw incident field")
    in_: tuple[str, ...] = Field(default=("1",), alias="in",
                                 description="raw values meaning major")


class IncidentSecuritySpec(StrictSpec):
    """``incident.security``: true when the raw ``source`` field holds one of ``in``."""

    source: str = Field(default="category", description="raw incident field")
    in_: tuple[str, ...] = Field(default=("security",), alias="in",
                                 description="raw values meaning a security incident")
    secops_table: str | None = Field(
        default=None, description="Security Incident Response's own table (sn_si_incident) "
                                  "where present; declared only, not pulled yet")


class WorkItemSecuritySpec(StrictSpec):
    """``work_item.security``: any label, issue type or a set security level."""

    labels: tuple[str, ...] = Field(default=("security",),
                                    description="labels marking a security work item")
    issue_types: tuple[str, ...] = Field(default=(), description="issue type names, e.g. "
                                                                 "Vulnerability")
    security_level: bool = Field(
        default=True, description="an issue with a security level (fields.security) counts")


class SecurityRuleSpec(StrictSpec):
    """Which incidents and work items are security records."""

    incident: IncidentSecuritySpec = Field(default_factory=IncidentSecuritySpec)
    work_item: WorkItemSecuritySpec = Field(default_factory=WorkItemSecuritySpec)


class SatisfactionSpec(StrictSpec):
    """Which Jira field holds the customer satisfaction rating (1–5)."""

    field: str = Field(
        default="auto",
        description="'auto' (the Jira Service Management feedback field, else a field "
                    "named as in `names`) or a field id such as customfield_10037")
    names: tuple[str, ...] = Field(default=("Satisfaction",),
                                   description="field names tried with 'auto'")


class SourceParametersSpec(StrictSpec):
    """The §2.9 parameters that shape canonical records (the rest are indicator params)."""

    major_rule: MajorRuleSpec = Field(default_factory=MajorRuleSpec)
    security_rule: SecurityRuleSpec = Field(default_factory=SecurityRuleSpec)
    response_slas: tuple[str, ...] = Field(
        default=(), description="SLA definition names that measure response")
    resolution_slas: tuple[str, ...] | None = Field(
        default=None, description="resolution SLA names (default: every other definition)")
    survey_score_metrics: tuple[str, ...] = Field(
        default=(), description="survey metric names whose mean answer is a response's "
                                "score (default: every numeric answer)")


ValueMap = Annotated[dict[str, str], Field(description="source code → canonical value")]


class SourcesSpec(StrictSpec):
    """The whole ``kind: sources`` file."""

    version: Literal[1]
    kind: Literal["sources"]
    records: RecordMapsSpec
    value_maps: dict[str, ValueMap] = Field(default_factory=dict)
    story_points: StoryPointsSpec = Field(default_factory=StoryPointsSpec)
    jira_keys: JiraKeysSpec = Field(default_factory=JiraKeysSpec)
    satisfaction: SatisfactionSpec = Field(default_factory=SatisfactionSpec)
    parameters: SourceParametersSpec = Field(default_factory=SourceParametersSpec)

    def record_map(self, kind: str) -> RecordMapSpec | None:
        """The map of canonical ``kind`` (``incident``, ``work_item``…), if configured."""
        return getattr(self.records, kind)
