"""Attachment API of the sandbox (servicenow-api.md §12).

``POST /api/now/attachment/file?table_name=&table_sys_id=&file_name=`` with the raw bytes and
a mandatory ``Content-Type``; ``GET /api/now/attachment`` (metadata list, encoded query,
limit and offset, ``X-Total-Count``), ``GET /api/now/attachment/{sys_id}``,
``GET …/{sys_id}/file``, ``DELETE …/{sys_id}``.
"""

from __future__ import annotations

import hashlib

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.query import parse_query
from connectors.servicenow.sandbox.render import Renderer
from connectors.servicenow.sandbox.reply import (
    ApiRequest,
    Reply,
    error_reply,
    forbidden,
    not_found,
)

TABLE = "sys_attachment"


class AttachmentApi:
    """Serves ``/api/now/attachment…``; file contents are kept in memory."""

    def __init__(self, db: Database, writers: set[str], base_url) -> None:
        self.db = db
        self.writers = writers
        self.base_url = base_url
        self.contents: dict[str, bytes] = {}

    def handle(self, req: ApiRequest, rest: str) -> Reply:
        """Dispatch one Attachment API request (``rest`` = path after ``attachment``)."""
        parts = [p for p in rest.split("/") if p]
        if req.method == "POST" and parts == ["file"]:
            return self._upload(req)
        if req.method == "GET" and not parts:
            return self._list(req)
        if req.method == "GET" and len(parts) in (1, 2):
            row = self.db.tables[TABLE].get(parts[0])
            if row is None:
                return not_found()
            if len(parts) == 2 and parts[1] == "file":
                content_type = self.db.tables[TABLE].value(row, "content_type") or ""
                return Reply(200, raw=self.contents.get(parts[0], b""),
                             content_type=content_type)
            return Reply(200, {"result": self._render(row)})
        if req.method == "DELETE" and len(parts) == 1:
            if req.user not in self.writers:
                return forbidden()
            self.contents.pop(parts[0], None)
            return Reply(204) if self.db.tables[TABLE].remove(parts[0]) else not_found()
        return error_reply(400, "Requested URI does not represent any resource", None)

    def _render(self, row: list[str]) -> dict:
        renderer = Renderer(self.db, self.base_url(), "false", False)
        return renderer.row(TABLE, row, renderer.fields_for(TABLE, [], frozenset()))

    def _upload(self, req: ApiRequest) -> Reply:
        if req.user not in self.writers:
            return forbidden()
        table, target_id = req.params.get("table_name"), req.params.get("table_sys_id")
        name = req.params.get("file_name")
        content_type = req.headers.get("content-type")
        if not (table and target_id and name and content_type):
            return error_reply(400, "Missing parameters",
                               "table_name, table_sys_id, file_name and Content-Type are "
                               "required")
        target = self.db.table(table)
        if target is None or target.get(target_id) is None:
            return error_reply(404, "Invalid table or record", f"{table}/{target_id}")
        row = self.db.create(TABLE, {
            "table_name": table, "table_sys_id": target_id, "file_name": name,
            "content_type": content_type, "size_bytes": str(len(req.body)),
            "size_compressed": str(len(req.body)), "compressed": "false",
            "state": "available", "chunk_size_bytes": "700000", "image_height": "",
            "image_width": "", "average_image_color": "",
            "hash": hashlib.sha256(req.body).hexdigest()}, req.user)
        sys_id = self.db.tables[TABLE].value(row, "sys_id") or ""
        self.db.tables[TABLE].set(row, "download_link",
                                  f"{self.base_url()}/api/now/attachment/{sys_id}/file")
        self.contents[sys_id] = req.body
        return Reply(201, {"result": self._render(row)},
                     {"Location": f"{self.base_url()}/api/now/attachment/{sys_id}"})

    def _list(self, req: ApiRequest) -> Reply:
        """Metadata list; ``X-Total-Count`` as on the Table API (pysnc pages on it)."""
        query = parse_query(req.params.get("sysparm_query") or "", TABLE, self.db)
        try:
            limit = int(req.params.get("sysparm_limit") or 10000)
            offset = int(req.params.get("sysparm_offset") or 0)
        except ValueError:
            return error_reply(400, "Invalid parameter", "sysparm_limit/offset must be numbers")
        rows = [r for r in self.db.tables[TABLE].rows.values() if query.matches(r)]
        return Reply(200, {"result": [self._render(r) for r in rows[offset:offset + limit]]},
                     {"X-Total-Count": str(len(rows))})
