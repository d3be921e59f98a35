"""Jira Cloud and Data Center connector: search, changelogs, agile data, scorecards.

Use :func:`build_connector` (the factory the core calls) and
:class:`connectors.jira.settings.JiraSettings` (the ``jira`` settings section).
"""

from connectors.jira.connector import STREAMS, JiraConnector, build_connector

__all__ = ["STREAMS", "JiraConnector", "build_connector"]
