"""ServiceNow connector: Table API keyset pulls, deletions, indicator write-back.

Public API: :func:`build_connector` (from fiveo-sync settings), :class:`ServiceNowConnector`,
:class:`ServiceNowClient`, :class:`ServiceNowSettings`. Heavy imports (pysnow) happen on
first use so that settings can be imported cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.servicenow.settings import ServiceNowSettings

if TYPE_CHECKING:
    from connectors.servicenow.client import ServiceNowClient
    from connectors.servicenow.connector import ServiceNowConnector

__all__ = ["ServiceNowClient", "ServiceNowConnector", "ServiceNowSettings", "build_connector"]


def build_connector(settings: Any, **kwargs: Any) -> ServiceNowConnector:
    """Build the connector; see :func:`connectors.servicenow.factory.build_connector`."""
    from connectors.servicenow.factory import build_connector as build

    return build(settings, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "ServiceNowClient":
        from connectors.servicenow.client import ServiceNowClient
        return ServiceNowClient
    if name == "ServiceNowConnector":
        from connectors.servicenow.connector import ServiceNowConnector
        return ServiceNowConnector
    raise AttributeError(name)
