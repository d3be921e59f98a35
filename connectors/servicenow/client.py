"""HTTP access to one ServiceNow instance: auth, the shared retry layer, pysnow as transport.

pysnow builds the Table API URL and parameters; its "session" is a thin adapter that sends
every request through :class:`connectors.http.HttpClient`, the one retry layer (pysnow has no
retries, servicenow-api.md §17), with HttpClient's explicit timeouts instead of pysnow's fixed
60 s. Parameters pysnow lacks go in with ``add_custom``: lowercase booleans,
``sysparm_no_count``, ``sysparm_exclude_reference_link``, ``sysparm_suppress_pagination_header``.
Auth (§14): basic, OAuth password grant (refresh token), OAuth client credentials; a token is
renewed shortly before it expires and once after a 401.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pysnow
import pysnow.exceptions
import requests

from connectors.http import HttpClient, HttpStats, RetryPolicy, build_session
from connectors.servicenow.settings import ServiceNowSettings
from fiveo_sync.errors import AuthError, ConfigError, DataError, UnavailableError
from fiveo_sync.redaction import redact_text, register_secret

PLATFORM = "servicenow"
_REFRESH_MARGIN_S = 60.0


class _RetryingSession:
    """What pysnow sees as its ``requests.Session``: requests go through HttpClient."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}  # pysnow writes its defaults here; not sent

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.pop("timeout", None)  # HttpClient's (connect, read) timeout applies
        kwargs.pop("stream", None)
        response, body = self.http.request(method, url, **kwargs)
        if body is not None:
            # pysnow parses the body again through response.json(): a 1000-row page costs
            # tens of ms of CPU to decode, so hand it the parse HttpClient already did.
            response.json = lambda **_kwargs: body  # type: ignore[method-assign]
        return response

    def close(self) -> None:
        """Sessions are closed by the owning client."""


class ServiceNowClient:
    """Authenticated Table API reads for the connector.

    Args:
        settings: the ``servicenow`` settings section.
        policy: timeouts and retry budget.
        verify: TLS verification (bool or CA bundle path).
        sleep: injectable wait for the retry layer.
        monotonic: injectable clock for token expiry.
    """

    def __init__(self, settings: ServiceNowSettings, policy: RetryPolicy, *,
                 verify: bool | str = True, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        _check_credentials(settings)
        self.settings = settings
        self.base_url = settings.instance_url.rstrip("/")
        self.session = build_session(verify=verify)
        self._monotonic = monotonic
        self._token_lock = threading.Lock()
        self._access_expires = 0.0
        self._refresh_token: str | None = None
        self._retried_token: str | None = None
        oauth = settings.auth != "basic"
        if not oauth:
            self.session.auth = (settings.username or "",
                                 settings.password.get_secret_value() if settings.password else "")
        for secret in (settings.password, settings.client_secret):
            if secret is not None:
                register_secret(secret.get_secret_value())
        self.http = HttpClient(PLATFORM, self.session, policy, sleep=sleep,
                               before_request=self._ensure_token if oauth else None,
                               on_unauthorized=self._renew_after_401 if oauth else None)
        # Token calls use their own client: the data client's hooks would call back here.
        self._token_http = HttpClient(PLATFORM, self.session, policy, sleep=sleep)
        parts = urlsplit(self.base_url)
        self._pysnow = pysnow.Client(host=parts.netloc, use_ssl=parts.scheme == "https",
                                     session=_RetryingSession(self.http))

    @property
    def stats(self) -> HttpStats:
        """Request counters of this client (:class:`connectors.http.HttpStats`)."""
        return self.http.stats

    def close(self) -> None:
        """Release the session's connections."""
        self.session.close()

    def fetch_rows(self, table: str, query: str, fields: list[str],
                   limit: int) -> list[dict[str, Any]]:
        """One Table API page (v2): raw values, bare sys_ids for references, no count."""
        resource = self._pysnow.resource(api_path=f"/table/{table}", base_path="/api/now/v2")
        resource.parameters.add_custom({
            "sysparm_display_value": "false", "sysparm_exclude_reference_link": "true",
            "sysparm_suppress_pagination_header": "true", "sysparm_no_count": "true",
            "sysparm_view": "",
        })
        try:
            response = resource.get(query=query, limit=limit, fields=list(fields))
            rows = list(response.all())
        except (AuthError, DataError, UnavailableError):
            raise
        except pysnow.exceptions.PysnowException as exc:
            raise DataError(f"servicenow returned an unusable {table} page: "
                            f"{redact_text(str(exc))}", platform=PLATFORM, stream=table) from None
        except requests.RequestException as exc:
            raise UnavailableError(f"servicenow request failed: {type(exc).__name__}",
                                   platform=PLATFORM, stream=table) from None
        except ValueError as exc:
            raise DataError(f"servicenow sent an unreadable {table} page: {exc}",
                            platform=PLATFORM, stream=table) from None
        if any(not isinstance(row, dict) for row in rows):
            raise DataError(f"servicenow sent a malformed {table} record",
                            platform=PLATFORM, stream=table)
        return rows

    # -- OAuth -------------------------------------------------------------------------

    def _ensure_token(self) -> None:
        with self._token_lock:
            if self._monotonic() < self._access_expires - _REFRESH_MARGIN_S:
                return
            self._obtain_token()

    def _renew_after_401(self) -> bool:
        """Renew once per token; a second 401 with a fresh token is an auth failure."""
        with self._token_lock:
            current = self.session.headers.get("Authorization")
            if current == self._retried_token:
                return False
            self._retried_token = current
            self._access_expires = 0.0
            return True

    def _obtain_token(self) -> None:
        s = self.settings
        form = {"client_id": s.client_id or "",
                "client_secret": s.client_secret.get_secret_value() if s.client_secret else ""}
        if self._refresh_token:
            body = self._token_request({**form, "grant_type": "refresh_token",
                                        "refresh_token": self._refresh_token}, quiet=True)
            if body is not None:
                self._store_token(body)
                return
        if s.auth == "oauth_password":
            form.update(grant_type="password", username=s.username or "",
                        password=s.password.get_secret_value() if s.password else "")
        else:
            form.update(grant_type="client_credentials")
        body = self._token_request(form, quiet=False)
        assert body is not None
        self._store_token(body)

    def _token_request(self, form: dict[str, str], *, quiet: bool) -> dict[str, Any] | None:
        url = f"{self.base_url}/oauth_token.do"
        # Granting a token is safe to repeat, so it may be retried like a read.
        response, _ = self._token_http.request(
            "POST", url, data=form, idempotent=True, accept=(400, 401, 403),
            parse_json=False, headers={"Authorization": None,
                                       "Content-Type": "application/x-www-form-urlencoded"})
        if response.status_code in (400, 401, 403):
            if quiet:
                return None
            detail = _oauth_message(response)
            raise AuthError(f"servicenow refused the OAuth {form['grant_type']} grant: {detail}",
                            platform=PLATFORM, status=response.status_code)
        if response.status_code >= 300:
            raise UnavailableError(f"servicenow token endpoint answered {response.status_code}",
                                   platform=PLATFORM, status=response.status_code)
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise UnavailableError("servicenow token endpoint sent no access token",
                                   platform=PLATFORM) from None
        register_secret(token)
        return body

    def _store_token(self, body: dict[str, Any]) -> None:
        self.session.headers["Authorization"] = f"Bearer {body['access_token']}"
        self._access_expires = self._monotonic() + float(body.get("expires_in") or 1800)
        if body.get("refresh_token"):
            register_secret(body["refresh_token"])
            self._refresh_token = body["refresh_token"]


def _oauth_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or str(response.status_code)
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message") or body["error"])
        parts = [body.get("error_description"), body.get("error")]
        text = " / ".join(str(p) for p in parts if p)
        if text:
            return redact_text(text)
    return response.reason or str(response.status_code)


def _check_credentials(settings: ServiceNowSettings) -> None:
    """Each auth mode needs its own credentials; say which are missing before any call."""
    missing = []
    if settings.auth in ("basic", "oauth_password"):
        missing += [n for n in ("username", "password") if not getattr(settings, n)]
    if settings.auth != "basic":
        missing += [n for n in ("client_id", "client_secret") if not getattr(settings, n)]
    if missing:
        raise ConfigError(f"servicenow.auth is {settings.auth!r} but "
                          f"{', '.join('servicenow.' + m for m in missing)} is not set")
