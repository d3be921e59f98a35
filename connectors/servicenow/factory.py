"""Building the ServiceNow connector from fiveo-sync settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.http import RetryPolicy
from connectors.servicenow.client import ServiceNowClient
from connectors.servicenow.connector import ServiceNowConnector, default_fields
from fiveo_sync.errors import ConfigError


def build_connector(settings: Any, *, clock: Callable[[], datetime] | None = None,
                    fields: dict[str, list[str]] | None = None,
                    sleep: Callable[[float], None] | None = None) -> ServiceNowConnector:
    """The ServiceNow connector for the full fiveo-sync settings.

    Args:
        settings: fiveo-sync ``Settings`` (``servicenow``, ``http`` and ``sync`` are used).
        clock: aware-UTC now; defaults to the system clock.
        fields: ``{stream: [field, ...]}`` from the mapping files; streams not named use
            the defaults of ``fields.json``.
        sleep: the retry layer's wait (tests pass a no-op).

    Raises:
        ConfigError: no ``servicenow`` section, or credentials missing for ``auth``.
    """
    section = getattr(settings, "servicenow", None)
    if section is None:
        raise ConfigError("servicenow is not configured (servicenow.instance_url)")
    http, sync = settings.http, settings.sync
    policy = RetryPolicy(timeout_s=http.timeout_s, max_attempts=http.max_attempts,
                         max_wait_s=http.max_wait_s, budget_s=http.budget_s,
                         backoff_s=http.backoff_s)
    verify = getattr(http, "tls_verify", getattr(http, "verify", True))
    client = ServiceNowClient(section, policy, verify=verify, sleep=sleep or time.sleep)
    merged = default_fields()
    merged.update({k: list(v) for k, v in (fields or {}).items()})
    return ServiceNowConnector(
        client, streams=list(section.streams), fields=merged,
        clock=clock or (lambda: datetime.now(UTC)), page_size=section.page_size,
        overlap_s=sync.overlap_s, lag_s=sync.lag_s, backfill_days=sync.backfill_days,
        concurrency=getattr(http, "concurrency", 4))
