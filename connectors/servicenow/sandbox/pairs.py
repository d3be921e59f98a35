"""Name=value pair filters (``&active=true&state=closed``) of the Table and Aggregate APIs.

Without ``sysparm_query`` a request may filter with plain ``field=value`` parameters; for a
choice or reference field the value may be the display value: ``&state=closed`` for
``state=7`` and ``&assigned_to=john.smith`` for that user's sys_id (SNDocs
``api-reference/rest-apis/c_TableAPI.md``, ``c_AggregateAPI.md``). The sandbox translates
a choice label (case-insensitively) to its value, and a reference given by its target's
display field (or, for users, ``user_name``) to the sys_id; values that are already raw
stay as they are, and a name that is no column is ignored like any unknown parameter.
Writes sent with ``sysparm_input_display_value=true`` get the same translation.
"""

from __future__ import annotations

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.schema import load_choices


def build_pairs_query(db: Database, table: str, params: dict[str, str]) -> str:
    """The encoded query the name=value parameters of a request stand for."""
    schema = db.tables[table].schema
    terms = []
    for name, value in params.items():
        if name not in schema.index:
            continue
        kind = schema.types[name]
        if kind == "choice":
            value = _choice_value(table, name, value)
        elif kind.startswith("ref:"):
            value = _reference_value(db, kind[4:], value)
        terms.append(f"{name}={value}")
    return "^".join(terms)


def translate_display_values(db: Database, table: str,
                             values: dict[str, object]) -> dict[str, object]:
    """A write body sent with ``sysparm_input_display_value=true``, as stored values.

    Choice labels become their values and reference display values their sys_ids, the same
    translation as for name=value filters; other fields are stored as given.
    """
    schema = db.tables[table].schema
    out: dict[str, object] = {}
    for name, value in values.items():
        kind = schema.types.get(name, "")
        if isinstance(value, str) and kind == "choice":
            value = _choice_value(table, name, value)
        elif isinstance(value, str) and kind.startswith("ref:"):
            value = _reference_value(db, kind[4:], value)
        out[name] = value
    return out


def _choice_value(table: str, column: str, given: str) -> str:
    pairs = load_choices().get(table, {}).get(column, [])
    if any(value == given for value, _label in pairs):
        return given
    wanted = given.casefold()
    return next((value for value, label in pairs if label.casefold() == wanted), given)


def _reference_value(db: Database, target: str, given: str) -> str:
    table = db.tables.get(target)
    if table is None or given == "" or table.get(given) is not None:
        return given
    keys = [table.schema.display_field]
    if "user_name" in table.schema.index:
        keys.append("user_name")
    wanted = given.casefold()
    with db.lock:
        for sys_id, row in table.rows.items():
            if any((table.value(row, key) or "").casefold() == wanted for key in keys):
                return sys_id
    return given
