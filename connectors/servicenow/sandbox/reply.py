"""Requests and replies passed between the sandbox's HTTP handler and its API modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiRequest:
    """One parsed HTTP request.

    Attributes:
        method: upper-case HTTP method (after ``X-HTTP-Method-Override``).
        path: the URL path.
        params: query parameters (first value of each).
        query_string: the raw query string (for ``Link`` headers).
        headers: request headers with lower-case names.
        body: the raw body.
        user: the authenticated user name.
    """

    method: str
    path: str
    params: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: bytes
    user: str = ""


@dataclass
class Reply:
    """What the handler sends: a JSON body (or raw bytes), a status and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox saw it (``ServiceNowSandbox.log``)."""

    method: str
    path: str
    params: dict[str, str]
    user: str
    status: int


def error_reply(status: int, message: str, detail: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    """The platform's error body ``{"error": {message, detail}, "status": "failure"}``."""
    return Reply(status, {"error": {"message": message, "detail": detail},
                          "status": "failure"}, dict(headers or {}))


def not_found() -> Reply:
    """404 exactly as for a missing or ACL-hidden record (servicenow-api.md §8)."""
    return error_reply(404, "No Record found",
                       "Record doesn't exist or ACL restricts the record retrieval")


def forbidden() -> Reply:
    """403 for an operation the user's roles do not allow."""
    return error_reply(403, "User Not Authorized", "Failed API level ACL Validation")


def truthy(value: str | None) -> bool:
    """Lower- or upper-case ``true`` (pysnow sends ``True``)."""
    return (value or "").strip().lower() == "true"
