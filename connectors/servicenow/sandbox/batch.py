"""The Batch API of the sandbox: ``POST /api/now/v1/batch`` (servicenow-api.md §13).

Source: SNDocs ``api-reference/rest-apis/batch-api.md``. The body is
``{"batch_request_id", "rest_requests": [{"id", "method", "url", "headers": [{name, value}],
"body" (base64), "exclude_response_headers"}]}``; each item runs as the caller, through the
same routes as a direct request, and comes back in ``serviced_requests`` as ``{"id",
"status_code", "status_text", "headers", "body" (base64), "execution_time"}``.
``unserviced_requests`` stays empty: the sandbox never runs out of its 30 s budget. pysnc
uses this API for queries longer than ~10,000 characters and for ``delete_multiple`` /
``update_multiple``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.servicenow.sandbox.reply import ApiRequest, Reply, error_reply


class BatchApi:
    """Runs batched REST requests through ``route``.

    Args:
        route: answers one authenticated :class:`ApiRequest` (the sandbox's router).
    """

    def __init__(self, route: Callable[[ApiRequest], Reply]) -> None:
        self.route = route

    def handle(self, req: ApiRequest) -> Reply:
        """Answer one batch request."""
        if req.method != "POST":
            return error_reply(405, "Method not Supported", f"{req.method} is not supported")
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return error_reply(400, "Exception while reading request",
                               "The payload is not valid JSON.")
        items = body.get("rest_requests") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return error_reply(400, "Exception while reading request",
                               "rest_requests is required")
        serviced = [self._one(req.user, item) for item in items if isinstance(item, dict)]
        return Reply(200, {"batch_request_id": str(body.get("batch_request_id", "")),
                           "serviced_requests": serviced, "unserviced_requests": []})

    def _one(self, user: str, item: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        parts = urlsplit(str(item.get("url", "")))
        headers = {str(h.get("name", "")).lower(): str(h.get("value", ""))
                   for h in item.get("headers") or [] if isinstance(h, dict)}
        try:
            raw = base64.b64decode(item.get("body") or "", validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is None:
            reply = error_reply(400, "Exception while reading request",
                                "The body is not valid base64.")
        else:
            inner = ApiRequest(method=str(item.get("method", "GET")).upper(), path=parts.path,
                               params=dict(parse_qsl(parts.query, keep_blank_values=True)),
                               query_string=parts.query, headers=headers, body=raw, user=user)
            reply = self.route(inner)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        out_headers = [] if item.get("exclude_response_headers") else [
            {"name": "Content-Type", "value": reply.content_type},
            *({"name": k, "value": v} for k, v in reply.headers.items())]
        return {"id": item.get("id"), "status_code": reply.status,
                "status_text": HTTPStatus(reply.status).phrase, "headers": out_headers,
                "body": base64.b64encode(payload).decode("ascii"),
                "execution_time": int((time.monotonic() - started) * 1000)}
