"""Request and reply types of the Jira sandbox, authentication checks and the route table.

Error wording follows the platform (jira-api.md §8): Cloud answers rejected credentials
with a plain-text 401 (and, for issue URLs, the 404 "does not exist or you do not have
permission" that hides the issue); Data Center with a JSON 401; Cloud-only endpoints are
404 on Data Center and the removed legacy search is 410 on Cloud (§2.2). A documented
endpoint the sandbox lacks (:mod:`.unbuilt`) answers 404 in Jira's error shape; any other
path under ``/rest/`` Jersey's wrong-path JSON 404; other paths the HTML "dead link" page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.jira.sandbox.render import Renderer
from connectors.jira.sandbox.unbuilt import documented_unbuilt

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
CLOUD_UNAUTHORIZED = "Client must be authenticated to access this resource."
DC_UNAUTHORIZED = "You are not authenticated. Authentication required to perform this operation."


@dataclass
class Request:
    """One parsed request."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    role: str | None
    version: str
    render: Renderer
    headers: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        """An integer query parameter (Jira answers 400 on junk; we clamp to default)."""
        value = self.arg(name)
        try:
            return int(value) if value not in (None, "") else default
        except ValueError:
            return default


@dataclass
class Reply:
    """One response."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"

    def encoded(self) -> bytes:
        """The body as bytes."""
        if self.body is None:
            return b""
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


def error(status: int, *messages: str, errors: dict[str, str] | None = None) -> Reply:
    """Jira's usual error body."""
    return Reply(status, {"errorMessages": list(messages), "errors": errors or {}})


Handler = Callable[["JiraSandbox", Request, "re.Match[str]"], Reply]
_ROUTES: list[tuple[str, re.Pattern[str], Handler, str]] = []


def register(method: str, pattern: str, scope: str = "both") -> Callable[[Handler], Handler]:
    """Declare a handler for ``method`` and a path regex; scope cloud|datacenter|both."""
    def wrap(func: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), func, scope))
        return func
    return wrap


def route(sandbox: JiraSandbox, request: Request) -> Reply:
    """Authenticate and dispatch a request."""
    from connectors.jira.sandbox import (  # noqa: F401
        agile_routes,
        api_routes,
        attachment_routes,
        instance_routes,
        issue_extra_routes,
        issue_meta_routes,
        permission_routes,
        project_routes,
        write_routes,
    )

    if request.role is None:
        if sandbox.cloud and "/issue/" in request.path:
            return error(404, ISSUE_NOT_FOUND)
        if sandbox.cloud:
            return Reply(401, CLOUD_UNAUTHORIZED,
                         {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                          "WWW-Authenticate": 'Basic realm="protected-area"'},
                         content_type="text/plain;charset=UTF-8")
        return Reply(401, {"errorMessages": [DC_UNAUTHORIZED], "errors": {}},
                     {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                      "WWW-Authenticate": "OAuth realm=\"\""})
    deployment = "cloud" if sandbox.cloud else "datacenter"
    if not sandbox.cloud and request.path.startswith("/rest/api/3/"):
        return wrong_path(sandbox, request)
    path_known = False
    for method, pattern, func, scope in _ROUTES:
        match = pattern.match(request.path)
        if not match or scope not in ("both", deployment):
            continue
        path_known = True
        if method == request.method or (method == "GET" and request.method == "HEAD"):
            return func(sandbox, request, match)
    missing = documented_unbuilt(request.method, request.path)
    if missing is not None:
        return error(404, missing)
    if path_known:
        return Reply(405, {"message": "Method Not Allowed"})
    if request.path.startswith("/rest/"):
        return wrong_path(sandbox, request)
    return _dead_link()


def wrong_path(sandbox: JiraSandbox, request: Request) -> Reply:
    """Jira's REST layer (Jersey) on a path no resource serves: a JSON 404, not a page.

    Wording as recorded from real sites (e.g. solidify/jira-azuredevops-migrator#13:
    ``{"message": "null for uri: https://…/rest/api/2/issue/X/changelog?…",
    "status-code": 404}`` on Data Center).
    """
    query = urlencode([(k, v) for k, values in request.query.items() for v in values],
                      safe=",*")
    uri = f"{sandbox.url}{request.path}" + (f"?{query}" if query else "")
    return Reply(404, {"message": f"null for uri: {uri}", "status-code": 404})


def _dead_link() -> Reply:
    return Reply(404, "<html><body><h1>Oops, you've found a dead link.</h1></body></html>",
                 content_type="text/html;charset=UTF-8")


def forbid_viewer(request: Request) -> Reply | None:
    """403 for the read-only account's writes, worded as Jira."""
    if request.role == "viewer":
        return error(403, "You do not have permission to edit issues in this project.")
    return None
