"""Attachment upload routes of the sandbox (jira-api.md §6, §8).

``POST /rest/api/{2,3}/issue/{key}/attachments`` takes a multipart body with ``file``
parts and needs ``X-Atlassian-Token: no-check``: without it Jira's XSRF filter answers a
plain-text 403 "XSRF check failed" before anything else is looked at. The answer is an
array of attachment objects. ``GET /attachment/meta`` gives ``{enabled, uploadLimit}``.
"""

from __future__ import annotations

import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.render import jira_time
from connectors.jira.sandbox.routing import ISSUE_NOT_FOUND, Reply, Request, error, register

if TYPE_CHECKING:
    from connectors.jira.sandbox.server import JiraSandbox

UPLOAD_LIMIT = 10_485_760


@register("GET", r"/rest/api/(?:2|3|latest)/attachment/meta")
def attachment_meta(sb: JiraSandbox, req: Request, _m: re.Match[str]) -> Reply:
    """Whether attachments are enabled and the size limit in bytes."""
    return Reply(200, {"enabled": True, "uploadLimit": UPLOAD_LIMIT})


@register("POST", r"/rest/api/(?:2|3|latest)/issue/([^/]+)/attachments")
def add_attachments(sb: JiraSandbox, req: Request, m: re.Match[str]) -> Reply:
    """Attach the ``file`` parts of a multipart body → 200 with the attachment objects."""
    if req.headers.get("x-atlassian-token", "").lower() not in ("no-check", "nocheck"):
        return Reply(403, "XSRF check failed", content_type="text/plain;charset=UTF-8")
    issue = sb.data.find(m.group(1))
    if issue is None:
        return error(404, ISSUE_NOT_FOUND)
    if req.role == "viewer":
        return error(403, "You do not have permission to create attachments for this issue.")
    files = _file_parts(req.headers.get("content-type", ""), req.body)
    if files is None:
        return Reply(415, {"errorMessages": ["Attachments must be sent as "
                                             "multipart/form-data."], "errors": {}})
    if not files:
        return error(400, "No file was attached in the 'file' part of the request.")
    if any(len(data) > UPLOAD_LIMIT for _, _, data in files):
        return error(413, f"The file is larger than the attachment size limit "
                          f"({UPLOAD_LIMIT} bytes).")
    stored = issue.extra.setdefault("attachments", [])
    created = []
    for name, mime, data in files:
        attachment_id = str(10000 + len(sb.writes))
        body = {"self": f"{sb.url}/rest/api/{req.version}/attachment/{attachment_id}",
                "id": attachment_id, "filename": name, "author": req.render.user(0),
                "created": jira_time(sb.now(), req.render.zone), "size": len(data),
                "mimeType": mime,
                "content": f"{sb.url}/secure/attachment/{attachment_id}/{name}"}
        stored.append(body)
        created.append(body)
        sb.writes.append(("attachment", issue.key, {"filename": name, "size": len(data)}))
    return Reply(200, created)


def _file_parts(content_type: str, body: Any) -> list[tuple[str, str, bytes]] | None:
    """(filename, mime type, bytes) of each ``file`` part; ``None`` if not multipart."""
    if not content_type.startswith("multipart/form-data") or not isinstance(body, bytes):
        return None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts = []
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "file":
            continue
        data = part.get_payload(decode=True) or b""
        parts.append((part.get_filename() or "file", part.get_content_type(), data))
    return parts
