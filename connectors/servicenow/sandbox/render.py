"""Rows rendered as the Table API returns them (servicenow-api.md §4).

``sysparm_display_value=false``: every value a string, ``""`` for empty, references
``{link, value}`` (bare sys_id with ``exclude_reference_link``), empty reference ``""``.
``true``: display values (choice labels, referenced record names), references
``{display_value, link}``. ``all``: ``{display_value, value}`` per field, references add
``link`` unless excluded, date-times add ``display_value_internal``. Date-times are shown in
UTC (the integration users' time zone). Dot-walked ``sysparm_fields`` come out as flat keys
(``caller_id.email``), rendered by the type of the column they end on (:mod:`.dotwalk`).
"""

from __future__ import annotations

from typing import Any

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.dotwalk import resolve, walk
from connectors.servicenow.sandbox.schema import load_choices

_DATES = ("datetime",)


class Renderer:
    """Renders rows of one request.

    Args:
        db: the sandbox data.
        base_url: the instance URL put in reference links.
        display: ``false``, ``true`` or ``all`` (lower-cased by the caller).
        exclude_links: ``sysparm_exclude_reference_link``.
    """

    def __init__(self, db: Database, base_url: str, display: str, exclude_links: bool) -> None:
        self.db = db
        self.base_url = base_url
        self.display = display
        self.exclude_links = exclude_links
        self.choices = load_choices()

    def fields_for(self, table: str, requested: list[str], hidden: frozenset[str]) -> list[str]:
        """The output keys: requested fields that exist (unknown ones ignored), or all."""
        schema = self.db.tables[table].schema
        if not requested:
            names = list(schema.columns)
        else:
            names = [f for f in dict.fromkeys(requested)
                     if f in schema.index or ("." in f and resolve(self.db, table, f))]
        return [n for n in names if n not in hidden]

    def row(self, table: str, row: list[str], fields: list[str]) -> dict[str, Any]:
        """One record as a JSON object."""
        schema = self.db.tables[table].schema
        out: dict[str, Any] = {}
        for name in fields:
            position = schema.index.get(name)
            if position is None:  # dot-walked: typed by the column the path ends on
                walked = walk(self.db, table, row, name)
                if walked is None:
                    continue
                end, source = walked
                value = "" if source is None else source[
                    self.db.tables[end.table].schema.index[end.column]]
                out[name] = self._value(end.kind, value, end.table, end.column)
                continue
            out[name] = self._value(schema.types[name], row[position], table, name)
        return out

    def _value(self, kind: str, value: str, table: str, name: str) -> Any:
        if kind.startswith("ref:"):
            return self._reference(kind[4:], value)
        return self._plain(value, kind, table, name)

    def _plain(self, value: str, kind: str, table: str, name: str) -> Any:
        if self.display == "false":
            return value
        shown = value
        if kind == "choice" and value:
            labels = self.choices.get(table, {}).get(name)
            if labels:
                shown = next((label for v, label in labels if v == value), value)
        if self.display == "true":
            return shown
        item: dict[str, str] = {"display_value": shown, "value": value}
        if kind in _DATES:
            item["display_value_internal"] = value
        return item

    def _reference(self, target: str, value: str) -> Any:
        link = f"{self.base_url}/api/now/table/{target}/{value}"
        if self.display == "false":
            if value == "" or self.exclude_links:
                return value
            return {"link": link, "value": value}
        shown = self._display_of(target, value)
        if self.display == "true":
            if value == "":
                return ""
            return shown if self.exclude_links else {"display_value": shown, "link": link}
        item = {"display_value": shown, "value": value}
        if value and not self.exclude_links:
            item["link"] = link
        return item

    def _display_of(self, target: str, value: str) -> str:
        table = self.db.tables.get(target)
        if table is None or not value:
            return value
        row = table.get(value)
        if row is None:
            return ""
        return table.value(row, table.schema.display_field) or ""
