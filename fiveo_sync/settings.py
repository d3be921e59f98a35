"""Settings: one frozen model, from command line, environment, YAML file and secret files.

Priority, highest first: values given on the command line, environment variables
(``FIVEO_`` prefix, ``__`` for nesting: ``FIVEO_SERVICENOW__INSTANCE_URL``), the YAML file
named by ``--config`` or ``FIVEO_CONFIG``, files in ``FIVEO_SECRETS_DIR`` (one file per
secret, named like ``servicenow__password``, as Kubernetes and systemd mount them), then
defaults. Unknown keys are errors, each located in the file or variable that set it.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors.jira.settings import JiraSettings
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.errors import Location, MappingError
from fiveo_sync.redaction import register_secret
from fiveo_sync.yamlfile import YamlDocument, YamlProblem, display_name, format_path, load_yaml

ENV_PREFIX = "FIVEO_"


class HttpSettings(BaseModel):
    """Timeouts, retry budget, concurrency and TLS for both platforms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20)
    max_wait_s: float = Field(default=120.0, ge=0)
    budget_s: float = Field(default=600.0, gt=0)
    backoff_s: float = Field(default=0.5, ge=0)
    concurrency: int = Field(default=4, ge=1, le=16)
    verify: bool = True
    ca_bundle: Path | None = None
    allow_insecure_http: bool = False

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"CA bundle {value} does not exist or is not a file")
        return value

    @property
    def tls_verify(self) -> bool | str:
        """What ``requests`` takes as ``verify``: a CA bundle path or a boolean."""
        if self.verify and self.ca_bundle is not None:
            return str(self.ca_bundle)
        return self.verify


class SyncSettings(BaseModel):
    """Incremental pull policy (servicenow-api.md §10, jira-api.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overlap_s: int = Field(default=300, ge=0)
    lag_s: int = Field(default=60, ge=0)
    backfill_days: int = Field(default=400, ge=1)


ANALYTICS_MEMORY_MB = 384
"""DuckDB's memory limit while the canonical file is built and indicators are computed,
unless ``state.analytics_memory_mb`` says otherwise. DuckDB's own default (80 % of the
machine's RAM) let its query memory and caches take a first computation at 1M incidents
past 1 GiB; with this limit it stays under (948 MiB, the build 800 MiB; at about the same
speed: benchmarks/COMPUTE.md)."""


def duckdb_config(memory_mb: int) -> dict[str, str]:
    """The DuckDB connection config for a memory limit of ``memory_mb`` (MB)."""
    return {"memory_limit": f"{memory_mb}MB"}


class StateSettings(BaseModel):
    """Where the SQLite state store lives, and what computing over it may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Path("./fiveo-state.sqlite")
    analytics_memory_mb: int = Field(default=ANALYTICS_MEMORY_MB, ge=64, le=1_048_576)


class MappingsSettings(BaseModel):
    """Where the admins' mapping files live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path = Path("./mappings")


class ReportSettings(BaseModel):
    """Local outputs of ``run``: the HTML dashboard and JSON results, when a folder is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path | None = None


class MetricsSettings(BaseModel):
    """Prometheus metrics of each run: a textfile-collector file and/or a Pushgateway."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    textfile: Path | None = None
    pushgateway_url: str | None = None
    job: str = "fiveo_sync"


class ServiceNowWritebackSettings(BaseModel):
    """Extra ServiceNow write-back: one summary record per service and product.

    Attributes:
        summary: write the summary records (off by default: the table must exist first,
            ``deploy/servicenow/README.md``).
        summary_table: the table of the summary records.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: bool = False
    summary_table: str = Field(default="u_fiveo_summary", pattern=r"^[a-z][a-z0-9_]{0,79}$")


class WritebackSettings(BaseModel):
    """Portfolio-level write-back beside the indicator records and scorecards.

    Attributes:
        servicenow: the per-element summary records in ServiceNow.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    servicenow: ServiceNowWritebackSettings = Field(default_factory=ServiceNowWritebackSettings)


class Settings(BaseSettings):
    """Every setting of fiveo-sync (design.md "Settings")."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    servicenow: ServiceNowSettings | None = None
    jira: JiraSettings | None = None
    http: HttpSettings = Field(default_factory=HttpSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    mappings: MappingsSettings = Field(default_factory=MappingsSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)

    @model_validator(mode="after")
    def _urls_are_safe(self) -> Settings:
        urls = []
        if self.servicenow is not None:
            urls.append(("servicenow.instance_url", self.servicenow.instance_url))
        if self.jira is not None and self.jira.url:
            urls.append(("jira.url", self.jira.url))
        for name, url in urls:
            problem = url_problem(url, allow_insecure_http=self.http.allow_insecure_http)
            if problem:
                raise ValueError(f"{name}: {problem}")
        return self

    @model_validator(mode="after")
    def _auth_is_unambiguous(self) -> Settings:
        # A secret the chosen auth mode ignores means the operator meant another mode (or
        # left a stale credential around): refuse rather than guess which one is wanted.
        problem = auth_conflict(self)
        if problem:
            raise ValueError(problem)
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Command line, environment, then the YAML file over secret files (highest first)."""
        return (init_settings, env_settings, _DictSource(settings_cls, _FILE_DATA))


def url_problem(url: str, *, allow_insecure_http: bool) -> str | None:
    """Why a platform URL is unusable, or None when it is fine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an absolute URL; write it as https://host"
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        return (f"plain http:// to {parts.hostname} would send credentials unencrypted; "
                "use https:// (or set http.allow_insecure_http: true)")
    return None


def auth_conflict(settings: Settings) -> str | None:
    """The first contradictory credential setting as ``"path: message"``, or None."""
    sn = settings.servicenow
    if sn is not None:
        if sn.auth == "basic" and sn.client_secret is not None:
            return ("servicenow.client_secret: servicenow.auth is basic, which sends no OAuth "
                    "client secret; remove it or set servicenow.auth to an oauth_* mode")
        if sn.auth == "oauth_client_credentials" and sn.password is not None:
            return ("servicenow.password: servicenow.auth is oauth_client_credentials, which "
                    "runs as the OAuth application's user and sends no password; remove it or "
                    "set servicenow.auth to basic or oauth_password")
    jira = settings.jira
    if jira is not None and jira.api_token is not None and jira.pat is not None:
        return ("jira.pat: both jira.api_token (Cloud) and jira.pat (Data Center) are set; "
                "keep only the one for your deployment")
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _DictSource(PydanticBaseSettingsSource):
    """A settings source over a pre-read nested dict (YAML file or secret files)."""

    def __init__(self, settings_cls: type[BaseSettings], holder: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = holder.get("data") or {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


# The settings file and the secret files are read before validation (so that positions are
# known) and handed to the settings source through this holder; load_settings() fills and
# clears it.
_FILE_DATA: dict[str, Any] = {}


def _read_secrets_dir(directory: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], Path]]:
    data: dict[str, Any] = {}
    origins: dict[tuple[str, ...], Path] = {}
    if not directory.is_dir():
        raise MappingError([(Location(display_name(directory)),
                             "FIVEO_SECRETS_DIR is not a directory")])
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue  # Kubernetes mounts ..data symlink folders beside the files
        name = path.name.lower()
        name = name[len(ENV_PREFIX):] if name.startswith(ENV_PREFIX.lower()) else name
        parts = tuple(p for p in name.replace(".", "__").split("__") if p)
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = path.read_text(encoding="utf-8").rstrip("\r\n")
        origins[parts] = path
    return data, origins


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate settings; raise :class:`MappingError` listing every located problem.

    Args:
        config: the YAML settings file; defaults to ``$FIVEO_CONFIG`` when set.
        **overrides: values from the command line (highest priority).
    """
    config = config or os.environ.get("FIVEO_CONFIG")
    document: YamlDocument | None = None
    if config:
        try:
            document = load_yaml(Path(config))
        except YamlProblem as problem:
            raise MappingError([(problem.location, problem.message)]) from None
        if document.data is not None and not isinstance(document.data, dict):
            raise MappingError([(document.locate(()), "settings file must be a mapping")])
    secrets: dict[str, Any] = {}
    secret_origins: dict[tuple[str, ...], Path] = {}
    if os.environ.get("FIVEO_SECRETS_DIR"):
        secrets, secret_origins = _read_secrets_dir(Path(os.environ["FIVEO_SECRETS_DIR"]))
    yaml_data = (document.data if document else None) or {}
    # Secret files fill gaps only: merge them under the YAML data for the same source slot.
    _FILE_DATA["data"] = _merge(secrets, yaml_data)
    problems = _unknown_env_names() + _secrets_in_file(document)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += _locate_errors(exc, document, secret_origins)
    finally:
        _FILE_DATA.clear()
    if problems:
        raise MappingError(problems)
    _register_secrets(settings)
    return settings


_NOT_SETTINGS = {"FIVEO_CONFIG", "FIVEO_SECRETS_DIR"}

SECRET_PATHS: tuple[tuple[str, str], ...] = (
    ("servicenow", "password"), ("servicenow", "client_secret"),
    ("jira", "api_token"), ("jira", "pat"),
)
"""Settings that are secrets: accepted from the environment and secret files only."""


def _secrets_in_file(document: YamlDocument | None) -> list[tuple[Location, str]]:
    """Secrets written in the YAML settings file (deploy/SECURITY.md), value never shown."""
    if document is None or not isinstance(document.data, dict):
        return []
    problems = []
    for path in SECRET_PATHS:
        if _has_path(document.data, path):
            problems.append((document.locate(path),
                             "a secret does not belong in the settings file: set "
                             f"{ENV_PREFIX}{'__'.join(path).upper()} or put it in the file "
                             f"{'__'.join(path)} of FIVEO_SECRETS_DIR"))
    return problems


def _unknown_env_names() -> list[tuple[Location, str]]:
    """``FIVEO_`` variables that name no setting (pydantic-settings ignores them silently)."""
    sections = {name.upper() for name in Settings.model_fields}
    problems = []
    for name in sorted(os.environ):
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        first = name[len(ENV_PREFIX):].split("__", 1)[0]
        if first not in sections:
            close = difflib.get_close_matches(first.lower(), list(Settings.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append((Location(f"environment {name}"),
                             f"unknown setting {first.lower()!r}{hint}"))
    return problems


def _locate_errors(exc: ValidationError, document: YamlDocument | None,
                   secret_origins: dict[tuple[str, ...], Path]) -> list[tuple[Location, str]]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(p) if not isinstance(p, int) else p for p in error["loc"])
        message = _message(error)
        if not loc and ": " in message:
            # Cross-field checks name the offending setting first: "jira.url: …".
            dotted, message = message.split(": ", 1)
            loc = tuple(dotted.split("."))
        path = format_path(loc)
        env_name = ENV_PREFIX + "__".join(str(p) for p in loc).upper()
        if env_name in os.environ:
            location = Location(f"environment {env_name}", 0, 0, path)
        elif document is not None and _has_path(document.data, loc):
            location = document.locate(loc)
        elif loc in secret_origins:
            location = Location(display_name(secret_origins[loc]), 1, 1, path)
        elif document is not None:
            location = document.locate(loc)
        else:
            location = Location("settings", 0, 0, path)
        problems.append((location, message))
    return problems


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        name = str(error["loc"][-1])
        close = difflib.get_close_matches(name, _known_names(error["loc"][:-1]), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown setting {name!r}{hint}"
    if error["type"] == "missing":
        return "required setting is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _known_names(parent: tuple[Any, ...]) -> list[str]:
    """The setting names valid under ``parent`` (for "did you mean")."""
    model: Any = Settings
    for part in parent:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        candidates = [a for a in typing.get_args(field.annotation) if isinstance(a, type)]
        model = next((c for c in [field.annotation, *candidates]
                      if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _has_path(data: Any, loc: tuple[Any, ...]) -> bool:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return True


def _register_secrets(model: BaseModel) -> None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            register_secret(value.get_secret_value())
        elif isinstance(value, BaseModel):
            _register_secrets(value)
