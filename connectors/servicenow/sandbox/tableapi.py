"""The Table API of the sandbox (servicenow-api.md §1, §2, §4, §5, §7).

``GET /api/now[/v1|/v2]/table/{table}`` with every ``sysparm_*`` parameter and its real
default (limit 10000, offset 0, display_value false); the limit is applied **before** row
ACLs, so pages may be short or empty while rows remain; ``X-Total-Count`` counts before ACLs
and disappears with ``sysparm_no_count=true``; ``Link`` carries first/prev/next/last while
more rows remain (``prev`` on page one has a negative offset, as observed live); v1 answers
an empty result with 404, v2 and unversioned with ``200 {"result": []}``. Writes: POST 201
with ``Location`` (an array body uses its first element), PUT/PATCH 200, DELETE 204.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.datefn import ScriptContext
from connectors.servicenow.sandbox.pairs import build_pairs_query, translate_display_values
from connectors.servicenow.sandbox.query import parse_query
from connectors.servicenow.sandbox.render import Renderer
from connectors.servicenow.sandbox.reply import (
    ApiRequest,
    Reply,
    error_reply,
    forbidden,
    not_found,
    truthy,
)
from connectors.servicenow.sandbox.scan import SortedScan

DEFAULT_LIMIT = 10000


def build_context(db: Database, user: str) -> ScriptContext:
    """The clock and the caller's ``sys_user`` record, for ``javascript:`` query values."""
    users = db.tables["sys_user"]
    name_at = users.schema.index["user_name"]
    with db.lock:
        sys_id = next((sid for sid, row in users.rows.items() if row[name_at] == user), "")
    return ScriptContext(db.clock(), sys_id, user)


class Acl:
    """Row and field permissions that apply to every non-admin user.

    Attributes:
        hidden_rows: ``{table: {sys_id}}`` invisible rows (404 by sys_id, dropped from
            pages after the limit).
        hidden_fields: ``{table: {field}}`` omitted from records.
        writers: users allowed to write.
    """

    def __init__(self, writers: set[str]) -> None:
        self.hidden_rows: dict[str, set[str]] = {}
        self.hidden_fields: dict[str, set[str]] = {}
        self.writers = writers

    def can_read(self, user: str, table: str, sys_id: str) -> bool:
        """Whether ``user`` may see a row."""
        return user == "admin" or sys_id not in self.hidden_rows.get(table, ())

    def fields(self, user: str, table: str) -> frozenset[str]:
        """Fields ``user`` may not read."""
        return frozenset() if user == "admin" else frozenset(self.hidden_fields.get(table, ()))


class TableApi:
    """Serves Table API requests against a :class:`Database`.

    Args:
        db: the sandbox data.
        acl: permissions.
        base_url: returns the instance URL (known once the server is bound).
        after_list: called with ``(table, request)`` after each list page is built, so
            tests can mutate records while a client pages.
    """

    def __init__(self, db: Database, acl: Acl, base_url: Callable[[], str],
                 after_list: Callable[[str, ApiRequest], None]) -> None:
        self.db = db
        self.acl = acl
        self.base_url = base_url
        self.after_list = after_list
        self.invalid_query_returns_no_rows = False
        self.shuffle_unordered = False
        self._rng = random.Random(0)
        self._scan = SortedScan()

    def handle(self, req: ApiRequest, version: str, table: str, sys_id: str | None) -> Reply:
        """Dispatch one Table API request."""
        if self.db.table(table) is None:
            return error_reply(400, "Invalid table " + table, None)
        if req.method in ("GET", "HEAD"):
            return self._get_one(req, table, sys_id) if sys_id else self._list(req, version, table)
        if req.user not in self.acl.writers:
            return forbidden()
        if req.method == "POST" and not sys_id:
            return self._create(req, table)
        if req.method in ("PUT", "PATCH") and sys_id:
            return self._update(req, table, sys_id)
        if req.method == "DELETE" and sys_id:
            if not self.acl.can_read(req.user, table, sys_id):
                return not_found()
            return Reply(204) if self.db.delete(table, sys_id, req.user) else not_found()
        return error_reply(405, "Method not Supported", f"{req.method} is not supported")

    def _renderer(self, req: ApiRequest) -> Renderer:
        display = (req.params.get("sysparm_display_value") or "false").lower()
        if display not in ("true", "false", "all"):
            display = "false"
        return Renderer(self.db, self.base_url(), display,
                        truthy(req.params.get("sysparm_exclude_reference_link")))

    def _requested_fields(self, req: ApiRequest) -> list[str]:
        text = req.params.get("sysparm_fields") or ""
        return [f.strip() for f in text.split(",") if f.strip()]

    def _list(self, req: ApiRequest, version: str, table: str) -> Reply:
        try:
            limit = int(req.params.get("sysparm_limit") or DEFAULT_LIMIT)
        except ValueError:
            limit = 0
        if limit <= 0:  # since London (rbw/pysnow#100, a captured instance answer)
            return error_reply(400, "Invalid value given for sysparm_limit",
                               "sysparm_limit value must be a positive integer")
        try:
            offset = int(req.params.get("sysparm_offset") or 0)
        except ValueError:
            return error_reply(400, "Invalid parameter", "sysparm_offset must be a number")
        if offset < 0:
            return error_reply(400, f"offset is {offset}", "Negative offset is not supported")
        text = req.params.get("sysparm_query") or build_pairs_query(self.db, table, req.params)
        query = parse_query(text, table, self.db,
                            invalid_returns_no_rows=self.invalid_query_returns_no_rows,
                            context=build_context(self.db, req.user)
                            if "javascript:" in text or "RELATIVE" in text else None)
        counted = not truthy(req.params.get("sysparm_no_count"))
        linked = not truthy(req.params.get("sysparm_suppress_pagination_header"))
        with self.db.lock:
            key = query.sort_key()
            if key is not None:
                order_text = "^".join(p for p in text.split("^") if p.startswith("ORDERBY"))
                rows, total = self._scan.select(
                    self.db.tables[table], query, key, order_text,
                    None if counted or linked else offset + max(limit, 0))
            else:
                rows = [r for r in self.db.tables[table].rows.values() if query.matches(r)]
                if self.shuffle_unordered:
                    self._rng.shuffle(rows)
                total = len(rows)
            page = rows[offset:offset + max(limit, 0)]
            sys_id_at = self.db.tables[table].schema.index["sys_id"]
            page = [r for r in page if self.acl.can_read(req.user, table, r[sys_id_at])]
            renderer = self._renderer(req)
            fields = renderer.fields_for(table, self._requested_fields(req),
                                         self.acl.fields(req.user, table))
            result = [renderer.row(table, r, fields) for r in page]
        self.after_list(table, req)
        if not result and version == "v1":
            return error_reply(404, "No Record found", "Records matching query not found")
        headers = {}
        if counted:
            headers["X-Total-Count"] = str(total)
        if linked:
            link = self._link(req, offset, limit, total)
            if link:
                headers["Link"] = link
        return Reply(200, {"result": result}, headers)

    def _link(self, req: ApiRequest, offset: int, limit: int, total: int) -> str:
        if limit <= 0 or offset + limit >= total:
            return ""
        pairs = [(k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True)
                 if k not in ("sysparm_offset", "sysparm_limit")]
        base = f"{self.base_url()}{req.path}"

        def url(at: int) -> str:
            query = urlencode([*pairs, ("sysparm_offset", str(at)), ("sysparm_limit", str(limit))],
                              safe="^=,:@!<>")
            return f"<{base}?{query}>"
        last = ((total - 1) // limit) * limit
        return ",".join([f'{url(0)};rel="first"', f'{url(offset - limit)};rel="prev"',
                         f'{url(offset + limit)};rel="next"', f'{url(last)};rel="last"'])

    def _get_one(self, req: ApiRequest, table: str, sys_id: str) -> Reply:
        with self.db.lock:
            row = self.db.tables[table].get(sys_id)
            if row is None or not self.acl.can_read(req.user, table, sys_id):
                return not_found()
            return Reply(200, {"result": self._render(req, table, row)})

    def _render(self, req: ApiRequest, table: str, row: list[str]) -> dict[str, Any]:
        renderer = self._renderer(req)
        fields = renderer.fields_for(table, self._requested_fields(req),
                                     self.acl.fields(req.user, table))
        return renderer.row(table, row, fields)

    def _body(self, req: ApiRequest, table: str) -> dict[str, Any] | None:
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return None
        if isinstance(body, list):  # the platform uses only the first element
            body = body[0] if body else {}
        if not isinstance(body, dict):
            return None
        if truthy(req.params.get("sysparm_input_display_value")):
            return translate_display_values(self.db, table, body)
        return body

    def _create(self, req: ApiRequest, table: str) -> Reply:
        body = self._body(req, table)
        if body is None:
            return error_reply(400, "Exception while reading request",
                               "The payload is not valid JSON.")
        row = self.db.create(table, body, req.user)
        sys_id = self.db.tables[table].value(row, "sys_id") or ""
        headers = {"Location": f"{self.base_url()}/api/now/table/{table}/{sys_id}"}
        if truthy(req.headers.get("x-no-response-body")):
            return Reply(201, None, headers)
        return Reply(201, {"result": self._render(req, table, row)}, headers)

    def _update(self, req: ApiRequest, table: str, sys_id: str) -> Reply:
        body = self._body(req, table)
        if body is None:
            return error_reply(400, "Exception while reading request",
                               "The payload is not valid JSON.")
        if not self.acl.can_read(req.user, table, sys_id):
            return not_found()
        row = self.db.update(table, sys_id, body, req.user)
        if row is None:
            return not_found()
        if truthy(req.headers.get("x-no-response-body")):
            return Reply(200, None)
        return Reply(200, {"result": self._render(req, table, row)})
