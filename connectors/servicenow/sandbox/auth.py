"""Authentication of the sandbox: basic auth, Bearer tokens and ``/oauth_token.do``.

OAuth (servicenow-api.md §14): form-encoded bodies only; grants ``password`` (returns a
refresh token), ``refresh_token`` and ``client_credentials`` (runs as the OAuth application
user, here the integration user). Access tokens expire after ``access_ttl_s`` of sandbox
time; an expired or unknown token is a 401 like bad basic credentials.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qsl

from connectors.servicenow.sandbox.reply import ApiRequest, Reply, error_reply


class Authenticator:
    """Users, OAuth clients and issued tokens.

    Args:
        users: ``{user_name: password}``.
        clients: ``{client_id: (client_secret, application user)}``.
        clock: the sandbox clock.
        access_ttl_s: access-token lifetime (the platform default is 1800 s).
    """

    def __init__(self, users: dict[str, str], clients: dict[str, tuple[str, str]],
                 clock: Callable[[], datetime], access_ttl_s: int = 1800) -> None:
        self.users = users
        self.clients = clients
        self.clock = clock
        self.access_ttl_s = access_ttl_s
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, tuple[str, str]] = {}

    def user_for(self, req: ApiRequest) -> str | None:
        """The authenticated user of a request, or ``None``."""
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if user in self.users and secrets.compare_digest(self.users[user], password):
                return user
            return None
        if scheme.lower() == "bearer":
            found = self._access.get(value.strip())
            if found and found[1] > self.clock().timestamp():
                return found[0]
        return None

    @staticmethod
    def unauthorized() -> Reply:
        """401 with the platform's body."""
        return error_reply(401, "User Not Authenticated",
                           "Required to provide Auth information",
                           {"WWW-Authenticate": 'Basic realm="Service-now"'})

    def token(self, req: ApiRequest) -> Reply:
        """Serve ``POST /oauth_token.do``."""
        if req.method != "POST" or "json" in req.headers.get("content-type", ""):
            return Reply(400, {"error_description": "invalid request", "error": "invalid_request"})
        form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(client[0], form.get("client_secret", "")):
            return self._denied()
        grant = form.get("grant_type")
        if grant == "password":
            user = form.get("username", "")
            if user not in self.users or not secrets.compare_digest(self.users[user],
                                                                    form.get("password", "")):
                return self._denied()
            return self._issue(user, form["client_id"], refresh=True)
        if grant == "refresh_token":
            found = self._refresh.get(form.get("refresh_token", ""))
            if found is None or found[1] != form["client_id"]:
                return self._denied()
            return self._issue(found[0], form["client_id"], refresh=True)
        if grant == "client_credentials":
            return self._issue(client[1], form["client_id"], refresh=False)
        return Reply(400, {"error_description": "unsupported grant type",
                           "error": "unsupported_grant_type"})

    def expire_all(self) -> None:
        """Expire every access token (tests of the refresh path)."""
        self._access = {t: (u, 0.0) for t, (u, _) in self._access.items()}

    def _issue(self, user: str, client_id: str, *, refresh: bool) -> Reply:
        access = secrets.token_urlsafe(32)
        self._access[access] = (user, self.clock().timestamp() + self.access_ttl_s)
        body = {"access_token": access, "scope": "useraccount", "token_type": "Bearer",
                "expires_in": self.access_ttl_s}
        if refresh:
            token = secrets.token_urlsafe(32)
            self._refresh[token] = (user, client_id)
            body["refresh_token"] = token
        return Reply(200, body)

    @staticmethod
    def _denied() -> Reply:
        return Reply(401, {"error_description": "access_denied", "error": "server_error"})
