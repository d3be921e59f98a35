"""Import Set API of the sandbox (servicenow-api.md §11).

One configured transform map, ``fiveo indicator``: staging table
``u_fiveo_indicator_import`` → target ``u_fiveo_indicator``, coalescing on ``u_key``
(case-insensitive, as by default). The transform runs synchronously for single rows and — as
configured through ``sys_rest_insert_multiple`` with column names — for ``insertMultiple``,
whose response carries only the import set ids.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.servicenow.sandbox.database import Database, new_sys_id
from connectors.servicenow.sandbox.reply import ApiRequest, Reply, error_reply, forbidden

STAGING_TABLE = "u_fiveo_indicator_import"
TARGET_TABLE = "u_fiveo_indicator"
COALESCE = "u_key"
TRANSFORM_MAP = "fiveo indicator"


class ImportSetApi:
    """Serves ``/api/now/import/{staging}[/insertMultiple|/{sys_id}]``."""

    def __init__(self, db: Database, writers: set[str], base_url) -> None:
        self.db = db
        self.writers = writers
        self.base_url = base_url
        self._sets = 0
        # Coalesce look-ups by lower-cased key, rebuilt whenever the Table API changed the
        # target behind the import path's back (so a stale entry never matches).
        self._by_key: dict[str, str] = {}

    def handle(self, req: ApiRequest, staging: str, rest: str | None) -> Reply:
        """Dispatch one Import Set API request."""
        if staging != STAGING_TABLE:
            return error_reply(400, "Invalid table", f"{staging} is not an import set table")
        if req.method == "GET" and rest:
            return self._result(rest)
        if req.method != "POST":
            return error_reply(405, "Method not Supported", f"{req.method} is not supported")
        if req.user not in self.writers:
            return forbidden()
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return error_reply(400, "Exception while reading request", "Invalid JSON")
        if rest == "insertMultiple":
            records = body.get("records") if isinstance(body, dict) else None
            if not isinstance(records, list):
                return error_reply(400, "Invalid request", "Expected {\"records\": [...]}")
            set_id = self._next_set()
            for record in records:
                self._transform(set_id, record if isinstance(record, dict) else {}, req.user)
            return Reply(201, {"import_set_id": set_id[1], "multi_import_set_id": new_sys_id()})
        if rest:
            return error_reply(400, "Requested URI does not represent any resource", None)
        if not isinstance(body, dict):
            return error_reply(400, "Invalid request", "Expected a JSON object")
        set_id = self._next_set()
        row = self._transform(set_id, body, req.user)
        return Reply(201, self._response(row))

    def _next_set(self) -> tuple[str, str]:
        with self.db.lock:
            self._sets += 1
            return f"ISET{10000 + self._sets:07d}", new_sys_id()

    def _transform(self, set_id: tuple[str, str], values: dict, user: str) -> list[str]:
        """Insert the staging row, then coalesce it into the target table."""
        staging = self.db.tables[STAGING_TABLE]
        target = self.db.tables[TARGET_TABLE]
        # Nested JSON is mangled by the platform; only strings are meaningful.
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()
                  if k.startswith("u_")}
        with self.db.lock:
            key = fields.get(COALESCE, "")
            match = self._find(target, key)
            if match is None:
                row = self.db.create(TARGET_TABLE, fields, user)
                status = "inserted"
            elif all(target.value(match, k) == v for k, v in fields.items()
                     if k in target.schema.index):
                row, status = match, "ignored"
            else:
                row = self.db.update(TARGET_TABLE, target.value(match, "sys_id") or "",
                                     fields, user) or match
                status = "updated"
            if key:
                self._by_key[key.lower()] = target.value(row, "sys_id") or ""
            staged = self.db.create(STAGING_TABLE, fields, user)
            for column, value in (("sys_import_set", set_id[1]), ("sys_import_state", status),
                                  ("sys_target_table", TARGET_TABLE),
                                  ("sys_target_sys_id", target.value(row, "sys_id") or ""),
                                  ("sys_transform_map", TRANSFORM_MAP),
                                  ("sys_import_state_comment", set_id[0])):
                staging.set(staged, column, value)
            return staged

    def _find(self, target: Any, key: str) -> Any:
        """The target row whose coalesce field equals ``key`` (case-insensitive), if any."""
        if not key:
            return None
        wanted = key.lower()
        if len(self._by_key) != len(target.rows):
            self._reindex(target)  # rows were added or removed through the Table API
        row = self._verified(target, wanted)
        if row is None and wanted in self._by_key:
            self._reindex(target)  # a key was edited through the Table API
            row = self._verified(target, wanted)
        return row

    def _verified(self, target: Any, wanted: str) -> Any:
        known = self._by_key.get(wanted)
        row = target.get(known) if known else None
        if row is not None and (target.value(row, COALESCE) or "").lower() == wanted:
            return row
        return None

    def _reindex(self, target: Any) -> None:
        self._by_key = {(target.value(r, COALESCE) or "").lower(): target.value(r, "sys_id")
                        for r in target.rows.values()}

    def _response(self, staged: list[str]) -> dict:
        staging = self.db.tables[STAGING_TABLE]
        target_id = staging.value(staged, "sys_target_sys_id") or ""
        return {"import_set": staging.value(staged, "sys_import_state_comment"),
                "staging_table": STAGING_TABLE,
                "result": [{"transform_map": TRANSFORM_MAP, "table": TARGET_TABLE,
                            "display_name": COALESCE,
                            "display_value": staging.value(staged, COALESCE),
                            "record_link": f"{self.base_url()}/api/now/table/{TARGET_TABLE}/"
                                           f"{target_id}",
                            "status": staging.value(staged, "sys_import_state"),
                            "sys_id": target_id}]}

    def _result(self, sys_id: str) -> Reply:
        staged = self.db.tables[STAGING_TABLE].get(sys_id)
        if staged is None:
            return error_reply(404, "No Record found",
                               "Record doesn't exist or ACL restricts the record retrieval")
        return Reply(200, self._response(staged))
