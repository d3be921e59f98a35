"""The sandbox's tables and the write semantics of the platform (servicenow-api.md §7, §15).

Writes ignore unknown fields and ``sys_*`` fields, stamp ``sys_updated_on``/``sys_updated_by``
from the injected clock, increment ``sys_mod_count``, and a delete writes a
``sys_audit_delete`` row (``tablename``, ``documentkey`` = the deleted sys_id,
``sys_created_on`` = deletion time).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from connectors.servicenow.sandbox.query import Getter, Resolver
from connectors.servicenow.sandbox.schema import load_schemas
from connectors.servicenow.sandbox.table import Table

SN_FORMAT = "%Y-%m-%d %H:%M:%S"
_READ_ONLY = frozenset({"sys_id", "sys_created_on", "sys_created_by", "sys_updated_on",
                        "sys_updated_by", "sys_mod_count", "sys_class_name"})
# Tables whose records get a number on insert when the POST sends none (CIM improvements).
AUTO_NUMBER = {"sn_cim_register": "CIM"}


def new_sys_id() -> str:
    """A fresh 32-hex sys_id, as the platform generates them."""
    return uuid.uuid4().hex


class Database(Resolver):
    """Every table of one sandbox, behind one lock.

    Args:
        clock: returns the sandbox's current aware UTC time.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.tables = {name: Table(schema) for name, schema in load_schemas().items()}
        self._getters: dict[tuple[str, str], tuple[Getter, str] | None] = {}

    def table(self, name: str) -> Table | None:
        """A table by name, or ``None`` when it does not exist."""
        return self.tables.get(name)

    def now_text(self) -> str:
        """The clock as a raw ServiceNow date-time."""
        return self.clock().strftime(SN_FORMAT)

    # -- query support -----------------------------------------------------------------

    def getter(self, table: str, path: str) -> tuple[Getter, str] | None:
        """Accessor for a column or a dot-walked path such as ``caller_id.email``."""
        key = (table, path)
        if key not in self._getters:
            self._getters[key] = self._build_getter(table, path)
        return self._getters[key]

    def _build_getter(self, table: str, path: str) -> tuple[Getter, str] | None:
        head, _, rest = path.partition(".")
        target = self.tables.get(table)
        if target is None or head not in target.schema.index:
            return None
        position = target.schema.index[head]
        kind = target.schema.types[head]
        if not rest:
            return (lambda row: row[position]), kind
        ref_table = target.schema.reference_table(head)
        inner = self.getter(ref_table, rest) if ref_table else None
        if inner is None:
            return None
        inner_get, inner_kind = inner
        rows = self.tables[ref_table].rows

        def walk(row: list[str]) -> str:
            referenced = rows.get(row[position])
            return inner_get(referenced) if referenced is not None else ""
        return walk, inner_kind

    # -- writes ------------------------------------------------------------------------

    def create(self, table: str, values: dict[str, object], user: str) -> list[str]:
        """Insert a record as the platform does for POST; return the new row."""
        target = self.tables[table]
        now = self.now_text()
        clean = {k: _as_text(v) for k, v in values.items() if k not in _READ_ONLY}
        clean.update(sys_id=new_sys_id(), sys_created_on=now, sys_created_by=user,
                     sys_updated_on=now, sys_updated_by=user, sys_mod_count="0")
        if "sys_class_name" in target.schema.index:
            clean["sys_class_name"] = table
        with self.lock:
            prefix = AUTO_NUMBER.get(table)
            if prefix and not clean.get("number"):
                # Like the platform's number maintenance: prefix + 7 digits, from 1001.
                clean["number"] = f"{prefix}{len(target.rows) + 1001:07d}"
            return target.insert(clean)

    def update(self, table: str, sys_id: str, values: dict[str, object],
               user: str) -> list[str] | None:
        """Apply a PATCH/PUT: only supplied, writable, known fields change."""
        target = self.tables[table]
        with self.lock:
            row = target.get(sys_id)
            if row is None:
                return None
            for column, value in values.items():
                if column not in _READ_ONLY:
                    target.set(row, column, _as_text(value))
            self.touch(table, row, user)
            return row

    def touch(self, table: str, row: list[str], user: str) -> None:
        """Stamp an update: ``sys_updated_on`` now, ``sys_mod_count`` + 1."""
        target = self.tables[table]
        target.set(row, "sys_updated_on", self.now_text())
        target.set(row, "sys_updated_by", user)
        count = target.value(row, "sys_mod_count") or "0"
        target.set(row, "sys_mod_count", str(int(count) + 1))

    def delete(self, table: str, sys_id: str, user: str) -> bool:
        """Delete a record and write its ``sys_audit_delete`` row."""
        target = self.tables[table]
        with self.lock:
            row = target.remove(sys_id)
            if row is None:
                return False
            display = target.value(row, target.schema.display_field) or sys_id
            now = self.now_text()
            self.tables["sys_audit_delete"].insert({
                "sys_id": new_sys_id(), "tablename": table, "documentkey": sys_id,
                "display_value": display, "sys_created_on": now, "sys_created_by": user,
                "sys_updated_on": now, "sys_updated_by": user, "sys_mod_count": "0",
                "payload": f"<{table}><sys_id>{sys_id}</sys_id></{table}>",
                "sys_class_name": "sys_audit_delete",
            })
            return True


def _as_text(value: object) -> str:
    """Values are stored as the platform stores them: strings, ``""`` for empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a reference sent back as {link, value}
        return str(value.get("value", ""))
    return str(value)
