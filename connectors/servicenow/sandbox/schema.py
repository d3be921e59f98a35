"""Table definitions of the ServiceNow sandbox, loaded from ``tables.json`` and ``choices.json``.

Column names of ``incident``, ``problem`` and ``change_request`` are those of the recorded
real payloads in ``shared/fixtures/servicenow-recorded/`` (servicenow-api.md §4, §15); the
other tables carry the base-system fields fiveo-sync and its tests use. A column type is one
of ``string``, ``integer``, ``decimal``, ``boolean``, ``datetime``, ``duration``, ``choice``
or ``ref:<table>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent

# The field shown as a reference's display value, per target table.
DISPLAY_FIELD = {
    "sys_user": "name", "sys_user_group": "name", "cmdb_ci_service": "name",
    "incident": "number", "problem": "number", "change_request": "number",
    "task_sla": "sys_id", "contract_sla": "name", "u_fiveo_indicator": "u_key",
    "sys_db_object": "label", "sys_dictionary": "column_label", "sys_choice": "label",
    "cmdb_ci_outage": "number", "core_company": "name", "asmt_metric_type": "name",
    "asmt_metric": "name", "asmt_assessment_instance": "number", "asmt_metric_result": "sys_id",
    "sn_cim_register": "number", "u_fiveo_summary": "u_key",
}


@dataclass(frozen=True)
class TableSchema:
    """The columns of one table, with their types, in a fixed order.

    Attributes:
        name: the table name.
        columns: column names (sorted); a row is a list of values in this order.
        types: ``{column: type}``.
        index: ``{column: position}``.
    """

    name: str
    columns: tuple[str, ...]
    types: dict[str, str]
    index: dict[str, int]

    def reference_table(self, column: str) -> str | None:
        """The table a reference column points to, else ``None``."""
        kind = self.types.get(column, "")
        return kind[4:] if kind.startswith("ref:") else None

    @property
    def display_field(self) -> str:
        """The field used as this table's display value in references."""
        return DISPLAY_FIELD.get(self.name, "sys_id")


@cache
def load_schemas() -> dict[str, TableSchema]:
    """Every sandbox table, by name."""
    raw = json.loads((_HERE / "tables.json").read_text(encoding="utf-8"))
    # The system dictionary tables (meta_tables.py fills them from the definitions here).
    raw.update(json.loads((_HERE / "meta_tables.json").read_text(encoding="utf-8")))
    schemas = {}
    for name, types in raw.items():
        columns = tuple(sorted(types))
        schemas[name] = TableSchema(name=name, columns=columns, types=dict(types),
                                    index={c: i for i, c in enumerate(columns)})
    return schemas


@cache
def load_choices() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """``{table: {element: [(value, label), ...]}}`` — the sandbox's ``sys_choice`` content."""
    raw = json.loads((_HERE / "choices.json").read_text(encoding="utf-8"))
    return {table: {element: [(v, label) for v, label in pairs]
                    for element, pairs in elements.items()}
            for table, elements in raw.items()}
