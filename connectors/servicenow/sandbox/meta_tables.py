"""The system dictionary of the sandbox: ``sys_db_object`` and ``sys_dictionary`` rows.

A real instance describes its own tables in ``sys_db_object`` (one row per table: ``name``,
``label``, ``super_class``, ``is_extendable``…) and their columns in ``sys_dictionary`` (one
row per column, ``name`` = table, ``element`` = column, plus one ``collection`` row per
table with an empty ``element``), and clients read them through the ordinary Table API.
The sandbox fills both from its own schema (``tables.json``, ``meta_tables.json``) so a
client sees exactly the tables and columns the sandbox serves. Column names follow the base
system; ``internal_type`` uses the platform's type names (``string``, ``integer``,
``glide_date_time``, ``glide_duration``, ``reference``, ``GUID``…). ``internal_type`` and
``reference`` hold the type and table names as plain strings (on an instance they are
references whose value is that same name). Labels of columns are the base-system labels
where the sandbox knows them, otherwise the column name in sentence case; ``super_class`` is
left empty because the sandbox has no ``task`` table to point at.
"""

from __future__ import annotations

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.schema import load_choices
from connectors.world import build_sys_id

_STAMP = "2024-01-01 00:00:00"
_TABLE_LABELS = {
    "incident": "Incident", "problem": "Problem", "change_request": "Change Request",
    "task_sla": "Task SLA", "contract_sla": "SLA Definition", "sys_user": "User",
    "sys_user_group": "Group", "cmdb_ci_service": "Service", "sys_choice": "Choices",
    "sys_audit_delete": "Deleted Records", "sys_attachment": "Attachment",
    "sys_dictionary": "Dictionary Entry", "sys_db_object": "Table",
    "u_fiveo_indicator": "fiveo indicator", "u_fiveo_indicator_import": "fiveo indicator import",
    "cmdb_ci_outage": "Outage", "core_company": "Company", "asmt_metric_type": "Metric Type",
    "asmt_metric": "Metric", "asmt_assessment_instance": "Assessment Instance",
    "asmt_metric_result": "Assessment Metric Result", "sn_cim_register": "Improvement",
    "u_fiveo_summary": "fiveo summary",
}
_NUMBER_PREFIX = {"incident": "INC", "problem": "PRB", "change_request": "CHG"}
_COLUMN_LABELS = {
    "sys_id": "Sys ID", "sys_created_on": "Created", "sys_created_by": "Created by",
    "sys_updated_on": "Updated", "sys_updated_by": "Updated by", "sys_mod_count": "Updates",
    "sys_class_name": "Class", "sys_tags": "Tags", "sys_domain": "Domain",
    "opened_at": "Opened", "closed_at": "Closed", "resolved_at": "Resolved",
    "caller_id": "Caller", "cmdb_ci": "Configuration item", "problem_id": "Problem",
    "rfc": "Change Request", "caused_by": "Caused by Change", "business_service": "Service",
    "busines_criticality": "Business criticality", "u_key": "Key",
}
_INTERNAL_TYPES = {"string": "string", "integer": "integer", "decimal": "decimal",
                   "boolean": "boolean", "datetime": "glide_date_time",
                   "duration": "glide_duration"}
_MAX_LENGTH = {"string": "255", "reference": "32", "GUID": "32", "sys_class_name": "80"}


def populate_meta(db: Database) -> None:
    """Fill ``sys_db_object`` and ``sys_dictionary`` from the sandbox's table definitions."""
    objects, dictionary = db.tables["sys_db_object"], db.tables["sys_dictionary"]
    common = {"sys_created_by": "system", "sys_updated_by": "system", "sys_mod_count": "0",
              "sys_created_on": _STAMP, "sys_updated_on": _STAMP, "sys_scope": "global",
              "sys_package": "global"}
    choices = load_choices()
    for name, target in sorted(db.tables.items()):
        table_id = build_sys_id("sys_db_object", name)
        label = _TABLE_LABELS.get(name, _sentence(name))
        objects.insert({**common, "sys_id": table_id, "name": name, "label": label,
                        "sys_class_name": "sys_db_object", "sys_name": label,
                        "sys_update_name": f"sys_db_object_{table_id}",
                        "is_extendable": "true" if name in _NUMBER_PREFIX else "false",
                        "create_access_controls": "false", "access": "public",
                        "number_ref": "", "extension_model": "", "user_role": ""})
        dictionary.insert(_entry(common, name, "", "collection", label, ""))
        schema = target.schema
        display = schema.display_field
        for column in schema.columns:
            kind = schema.types[column]
            internal, reference = _internal_type(column, kind, choices.get(name, {}))
            entry = _entry(common, name, column, internal,
                           _COLUMN_LABELS.get(column, _sentence(column)), reference)
            entry["choice"] = "1" if kind == "choice" else ""
            entry["display"] = "true" if column == display else "false"
            entry["primary"] = "true" if column == "sys_id" else "false"
            entry["read_only"] = "true" if column.startswith("sys_") else "false"
            dictionary.insert(entry)


def _entry(common: dict[str, str], table: str, column: str, internal: str, label: str,
           reference: str) -> dict[str, str]:
    sys_id = build_sys_id("sys_dictionary", table, column)
    return {**common, "sys_id": sys_id, "name": table, "element": column,
            "internal_type": internal, "column_label": label, "reference": reference,
            "max_length": _MAX_LENGTH.get(internal, "40"), "active": "true",
            "mandatory": "false", "read_only": "false", "display": "false",
            "primary": "false", "unique": "true" if column == "sys_id" else "false",
            "array": "false", "virtual": "false", "default_value": "", "attributes": "",
            "choice": "", "sys_class_name": "sys_dictionary",
            "sys_name": label, "sys_update_name": f"sys_dictionary_{table}_{column}"}


def _internal_type(column: str, kind: str,
                   choices: dict[str, list[tuple[str, str]]]) -> tuple[str, str]:
    """``(internal_type, reference table)`` of a sandbox column type."""
    if column == "sys_id":
        return "GUID", ""
    if column == "sys_class_name":
        return "sys_class_name", ""
    if kind.startswith("ref:"):
        return "reference", kind[4:]
    if kind == "choice":
        values = [value for value, _label in choices.get(column, [])]
        numeric = bool(values) and all(v.lstrip("-").isdigit() for v in values)
        return ("integer" if numeric else "string"), ""
    return _INTERNAL_TYPES.get(kind, "string"), ""


def _sentence(name: str) -> str:
    """``short_description`` → ``Short description`` (custom ``u_`` prefix dropped)."""
    words = name.removeprefix("u_").replace("_", " ").strip()
    return words[:1].upper() + words[1:]
