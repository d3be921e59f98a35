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
            from connectors.servicenow import build_connector
        else:
            from connectors.jira import build_connector
        built[source] = build_connector(settings, clock=clock, **options.get(source, {}))
    return built
