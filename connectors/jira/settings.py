"""The ``jira`` section of fiveo-sync settings.

The lead's :mod:`fiveo_sync.settings` nests :class:`JiraSettings` under ``jira``. Cloud uses
Basic ``email`` + ``api_token``; Data Center a bearer personal access token ``pat``
(jira-api.md §9). ``deployment: auto`` asks ``/rest/api/2/serverInfo`` (jira-api.md §1).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class ScorecardSettings(BaseModel):
    """How the per-product scorecard issue is typed and found again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issue_type: str = "Task"
    label: str = "fiveo-scorecard"

    @field_validator("label")
    @classmethod
    def _label_has_no_spaces(cls, value: str) -> str:
        # Jira labels cannot contain spaces (jira-api.md §6).
        if not value or any(ch.isspace() for ch in value):
            raise ValueError("a Jira label must be non-empty and contain no spaces")
        return value


class JiraSettings(BaseModel):
    """Where the Jira site is and how fiveo-sync authenticates and pages against it.

    Attributes:
        url: the site base URL (``https://acme.atlassian.net`` or the DC base URL).
        deployment: ``auto`` detects Cloud vs Data Center from ``/serverInfo``.
        email: the Cloud account e-mail (Basic auth with ``api_token``).
        api_token: the Cloud API token (secret).
        pat: the Data Center personal access token (secret, sent as Bearer).
        story_points_field: ``auto`` (board configuration, then ``/field`` names) or a field
            id such as ``customfield_10016``.
        scorecard: issue type and label of the scorecard issues.
        projects: project keys to pull; empty means "those in the portfolio".
        page_size: issues per search page asked for (the server may cap it).
        census_every_s: how often the id-only census for deleted issues runs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = ""
    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    email: str | None = None
    api_token: SecretStr | None = None
    pat: SecretStr | None = None
    story_points_field: str = "auto"
    scorecard: ScorecardSettings = Field(default_factory=ScorecardSettings)
    projects: tuple[str, ...] = ()
    page_size: int = Field(default=100, ge=1, le=5000)
    census_every_s: int = Field(default=86_400, ge=0)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("story_points_field")
    @classmethod
    def _field_id_or_auto(cls, value: str) -> str:
        if value != "auto" and not value.startswith("customfield_"):
            raise ValueError("must be 'auto' or a custom field id like customfield_10016")
        return value

    @field_validator("projects")
    @classmethod
    def _project_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [key for key in value if not key.isalnum() or not key[:1].isalpha()]
        if bad:
            raise ValueError(f"not Jira project keys: {', '.join(bad)}")
        return tuple(key.upper() for key in value)

    @model_validator(mode="after")
    def _credentials_match_deployment(self) -> JiraSettings:
        if self.deployment == "cloud" and self.pat is not None and self.api_token is None:
            raise ValueError("deployment cloud authenticates with email + api_token, not pat")
        if self.api_token is not None and not self.email:
            raise ValueError("api_token needs email (Cloud Basic auth)")
        return self
