"""Building the connectors the settings ask for."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from connectors.base import Connector
from fiveo_sync.errors import ConfigError
from fiveo_sync.settings import Settings

SOURCES = ("servicenow", "jira")


def configured_sources(settings: Settings, only: Iterable[str] | None = None) -> list[str]:
    """The sources that have a settings section, limited to ``only`` when given."""
    wanted = list(only) if only else list(SOURCES)
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}; expected servicenow, jira")
    present = [s for s in wanted if getattr(settings, s) is not None]
    if not present:
        raise ConfigError("no platform configured: set servicenow.instance_url and/or jira.url "
                          "(in the settings file or FIVEO_SERVICENOW__INSTANCE_URL, "
                          "FIVEO_JIRA__URL)")
    return present


def build_connectors(settings: Settings, *, clock: Callable[[], datetime],
                     only: Iterable[str] | None = None,
                     options: dict[str, dict[str, Any]] | None = None) -> dict[str, Connector]:
    """One connector per configured source.

    Args:
        settings: the loaded settings.
        clock: aware-UTC now, shared with the rest of the run.
        only: limit to these sources.
        options: extra keyword arguments per source (fields, projects) from the mappings.
    """
    options = options or {}
    built: dict[str, Connector] = {}
    for source in configured_sources(settings, only):
        if source == "servicenow":
            from connectors.servicenow.factory import build_connector
        else:
            from connectors.jira.connector import build_connector
        built[source] = build_connector(settings, clock=clock, **options.get(source, {}))
    return built


def connector_options(mappings: Any) -> dict[str, dict[str, Any]]:
    """What the mapping files tell each connector: fields to ask for, projects to read.

    ServiceNow gets, per stream, the source fields the field maps use (plus the jira-key
    text fields and lookup targets), so ``sysparm_fields`` stays minimal; Jira gets the
    portfolio's project keys.
    """
    sources = mappings.sources
    fields: dict[str, set[str]] = {}
    key_fields = set(sources.jira_keys.fields)
    for kind in type(sources.records).model_fields:
        record_map = sources.record_map(kind)
        if record_map is None:
            continue
        wanted = fields.setdefault(record_map.stream, set())
        for field_map in record_map.fields.values():
            wanted.add(field_map.source.split(".", 1)[0])
            if field_map.lookup is not None:
                fields.setdefault(field_map.lookup.stream, set()).add(field_map.lookup.field)
        if kind in ("incident", "change", "problem"):
            wanted.update(key_fields)
        if kind == "incident":
            wanted.add(sources.parameters.major_rule.source)
    # Views show people and groups by display name (fiveo_sync.names), not by id.
    fields.setdefault("sys_user", set()).update({"name", "user_name"})
    # ... and flag owners who left (fiveo_sync.ownership): inactive since the update.
    fields["sys_user"].update({"active", "sys_updated_on"})
    fields.setdefault("sys_user_group", set()).add("name")
    servicenow_fields = {stream: sorted(names) for stream, names in fields.items()
                         if stream not in ("issue", "board", "sprint", "sprint_scope",
                                           "field", "status")}
    return {
        "servicenow": {"fields": servicenow_fields},
        "jira": {"projects": sorted(mappings.portfolio.jira_projects)},
    }
