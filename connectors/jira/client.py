"""The authenticated Jira API client: one session, one retry layer, deployment detection.

Every request goes through :class:`connectors.http.HttpClient` (tenacity; ``Retry-After``
honoured, 5xx retried only when idempotent). Cloud authenticates with Basic
``email:api_token``, Data Center with ``Bearer <PAT>`` (jira-api.md §9). The deployment
comes from ``/rest/api/2/serverInfo`` ``deploymentType`` (§1), the user's time zone from
``/myself`` (§4). :func:`build_jira_library` builds the ``jira`` library client for the code
that uses it (write-back), with ``max_retries=0`` and an explicit timeout (§11).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
import structlog

from connectors.http import HttpClient, RetryPolicy, build_session
from connectors.jira.settings import JiraSettings
from fiveo_sync.errors import ConfigError, DataError
from fiveo_sync.redaction import register_secret

log = structlog.get_logger(__name__)

STORY_POINT_NAMES = ("Story Points", "Story point estimate")


def build_policy(http: Any) -> RetryPolicy:
    """The retry policy from ``settings.http`` (defaults when absent)."""
    if http is None:
        return RetryPolicy()
    return RetryPolicy(timeout_s=http.timeout_s, max_attempts=http.max_attempts,
                       max_wait_s=http.max_wait_s, budget_s=http.budget_s,
                       backoff_s=http.backoff_s)


def _tls_verify(http: Any) -> bool | str:
    if http is None:
        return True
    if hasattr(http, "tls_verify"):
        # HttpSettings.tls_verify is a property; tolerate a callable too.
        value = http.tls_verify
        return value() if callable(value) else value
    return bool(getattr(http, "verify", True))


class JiraApi:
    """Low-level Jira REST calls with auth, retries and cached instance facts.

    Args:
        settings: the ``jira`` settings section.
        http: the ``http`` settings section (or ``None`` for defaults).
        sleep: injectable wait used by the retry layer.
    """

    def __init__(self, settings: JiraSettings, http: Any = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not settings.url:
            raise ConfigError("jira.url is not set")
        self.settings = settings
        self.base = settings.url.rstrip("/")
        session = build_session(verify=_tls_verify(http),
                                pool_size=max(4, getattr(http, "concurrency", 4) * 2))
        if settings.pat is not None:
            register_secret(settings.pat.get_secret_value())
            session.headers["Authorization"] = f"Bearer {settings.pat.get_secret_value()}"
        elif settings.api_token is not None and settings.email:
            register_secret(settings.api_token.get_secret_value())
            session.auth = (settings.email, settings.api_token.get_secret_value())
        else:
            raise ConfigError("jira needs email + api_token (Cloud) or pat (Data Center)")
        self.session = session
        self.http = HttpClient("jira", session, build_policy(http), sleep=sleep)
        self.stats = self.http.stats
        self._cloud: bool | None = {"cloud": True, "datacenter": False}.get(settings.deployment)
        self._zone: ZoneInfo | None = None
        self._fields: list[dict[str, Any]] | None = None

    # -- requests -----------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None,
            accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        """GET ``path`` (relative to the site); returns (status, parsed JSON)."""
        response, body = self.http.request("GET", f"{self.base}{path}", params=params,
                                           accept=accept)
        return response.status_code, body

    def post(self, path: str, payload: Any, *, idempotent: bool = False,
             accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        """POST JSON; searches and bulk fetches are reads and pass ``idempotent=True``."""
        response, body = self.http.request("POST", f"{self.base}{path}", json=payload,
                                           idempotent=idempotent, accept=accept)
        return response.status_code, body

    # -- instance facts -----------------------------------------------------------------

    @property
    def cloud(self) -> bool:
        """True on Jira Cloud (asked from ``/serverInfo`` once when ``deployment: auto``)."""
        if self._cloud is None:
            _, info = self.get("/rest/api/2/serverInfo")
            if not isinstance(info, dict) or "deploymentType" not in info:
                raise DataError("jira /serverInfo has no deploymentType", platform="jira")
            self._cloud = info["deploymentType"] == "Cloud"
            log.info("jira_deployment_detected", cloud=self._cloud,
                     version=info.get("version"))
        return self._cloud

    @property
    def api(self) -> str:
        """The REST prefix for reads (``/rest/api/3`` on Cloud, ``/rest/api/2`` on DC)."""
        return "/rest/api/3" if self.cloud else "/rest/api/2"

    @property
    def zone(self) -> ZoneInfo:
        """The integration user's profile time zone (JQL reads zone-less dates in it)."""
        if self._zone is None:
            _, me = self.get(f"{self.api}/myself")
            name = (me or {}).get("timeZone") or "UTC"
            try:
                self._zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise DataError(f"jira /myself has an unknown timeZone {name!r}",
                                platform="jira") from None
            log.info("jira_user_zone_read", time_zone=name)
        return self._zone

    def fields(self) -> list[dict[str, Any]]:
        """The ``/field`` list (cached for the connector's lifetime)."""
        if self._fields is None:
            _, body = self.get(f"{self.api}/field")
            self._fields = list(body or [])
        return self._fields

    def field_named(self, *names: str) -> str | None:
        """The id of the first field whose name is one of ``names``."""
        wanted = [n.lower() for n in names]
        for name in wanted:
            for item in self.fields():
                if str(item.get("name", "")).lower() == name:
                    return str(item["id"])
        return None

    def sprint_field(self) -> str | None:
        """The instance's Sprint custom field id."""
        for item in self.fields():
            schema = item.get("schema") or {}
            if schema.get("custom") == "com.pyxis.greenhopper.jira:gh-sprint":
                return str(item["id"])
        return self.field_named("Sprint")

    def satisfaction_fields(self) -> list[str]:
        """Jira Service Management's Satisfaction field ids (by plugin key, else name)."""
        return [str(item["id"]) for item in self.fields()
                if (item.get("schema") or {}).get("custom")
                == "com.atlassian.servicedesk:sd-request-feedback"
                or str(item.get("name", "")) == "Satisfaction"]

    def story_point_fields(self) -> list[str]:
        """Candidate story-points field ids: the setting, else fields with the usual names."""
        if self.settings.story_points_field != "auto":
            return [self.settings.story_points_field]
        return [str(item["id"]) for item in self.fields()
                if str(item.get("name", "")).lower() in [n.lower() for n in STORY_POINT_NAMES]]

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def build_jira_library(settings: JiraSettings, http: Any = None) -> Any:
    """A ``jira.JIRA`` client without its own retry loop and with a timeout (§11).

    The library detects the deployment from ``/serverInfo`` itself; its errors
    (``JIRAError``) are mapped by :func:`connectors.jira.errors.map_jira_error`.
    """
    from jira import JIRA

    policy = build_policy(http)
    options = {"server": settings.url, "verify": _tls_verify(http)}
    kwargs: dict[str, Any] = {"max_retries": 0,
                              "timeout": (min(10.0, policy.timeout_s), policy.timeout_s)}
    if settings.pat is not None:
        kwargs["token_auth"] = settings.pat.get_secret_value()
    elif settings.api_token is not None and settings.email:
        kwargs["basic_auth"] = (settings.email, settings.api_token.get_secret_value())
    try:
        return JIRA(options=options, **kwargs)
    except requests.RequestException as exc:
        from connectors.jira.errors import map_request_error
        raise map_request_error(exc, settings.url) from None
