"""Settings of the ServiceNow connector: the ``servicenow`` section of fiveo-sync settings.

The lead's ``fiveo_sync/settings.py`` nests :class:`ServiceNowSettings` as ``servicenow``.
Auth modes follow servicenow-api.md §14; the page size guidance follows §9.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

ALL_STREAMS: tuple[str, ...] = (
    "incident", "change_request", "problem", "task_sla", "contract_sla",
    "cmdb_ci_service", "sys_user_group", "sys_user",
    "cmdb_ci_outage", "asmt_assessment_instance", "asmt_metric_result", "asmt_metric",
    "asmt_metric_type", "core_company",
)
"""Every stream the connector pulls, in a dependency-friendly order."""

StreamName = Literal["incident", "change_request", "problem", "task_sla", "contract_sla",
                     "cmdb_ci_service", "sys_user_group", "sys_user", "cmdb_ci_outage",
                     "asmt_assessment_instance", "asmt_metric_result", "asmt_metric",
                     "asmt_metric_type", "core_company"]


class ServiceNowWriteSettings(BaseModel):
    """Where indicator results are written back (design.md "Write-back").

    Attributes:
        mode: ``table`` (Table API, GET-by-key then POST/PATCH) or ``import_set``
            (Import Set API with a coalescing transform, idempotent).
        table: the target table.
        staging_table: the import-set staging table used in ``import_set`` mode.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["table", "import_set"] = "table"
    table: str = "u_fiveo_indicator"
    staging_table: str = "u_fiveo_indicator_import"


class ServiceNowSettings(BaseModel):
    """How to reach one ServiceNow instance.

    Attributes:
        instance_url: base URL, e.g. ``https://acme.service-now.com``.
        auth: ``basic``, ``oauth_password`` or ``oauth_client_credentials``.
        username: the integration user (basic and OAuth password grant).
        password: its password (secret).
        client_id: OAuth client id (OAuth modes).
        client_secret: OAuth client secret (secret).
        page_size: rows per Table API page (``sysparm_limit``).
        write: write-back target.
        streams: the streams to pull; all by default.

    Credentials are checked against ``auth`` when the connector is built (a
    :class:`~fiveo_sync.errors.ConfigError`), so partial sections can be layered from
    YAML, environment and secret files first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_url: str
    auth: Literal["basic", "oauth_password", "oauth_client_credentials"] = "basic"
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    page_size: int = Field(default=1000, ge=1, le=10000)
    write: ServiceNowWriteSettings = Field(default_factory=ServiceNowWriteSettings)
    streams: list[StreamName] = Field(default_factory=lambda: list(ALL_STREAMS))

    @property
    def base_url(self) -> str:
        """The instance URL without a trailing slash."""
        return self.instance_url.rstrip("/")
