"""The Aggregate API of the sandbox: ``GET /api/now[/v1]/stats/{table}``.

Source: SNDocs ``api-reference/rest-apis/c_AggregateAPI.md``. The query is
``sysparm_query`` or name=value pairs, as in the Table API. ``sysparm_count=true`` counts;
``sysparm_avg_fields``, ``sysparm_min_fields``, ``sysparm_max_fields`` and
``sysparm_sum_fields`` aggregate comma lists of fields; without either nothing is
aggregated (``"stats": {}``). Without ``sysparm_group_by`` the result is one object
``{"stats": {"count": "67", "avg": {"reassignment_count": "1.2500"}}}``; with it, a list of
``{"stats": {…}, "groupby_fields": [{"field": "assignment_group", "value": "<sys_id>"}]}``,
groups ordered by their values unless ``sysparm_order_by`` (``COUNT``, ``AVG^field``,
``field``, each with an optional ``^DESC``) says otherwise, filtered by ``sysparm_having``
(``count^priority^>^3``, comma-separated). Every value is a string; averages carry four
decimals as in the documented example. ``sysparm_display_value=true|all`` shows group values
as labels / display names (``all`` adds ``display_value`` beside ``value``). As documented,
a caller who cannot read a matched record gets 403.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.servicenow.sandbox.database import Database
from connectors.servicenow.sandbox.dotwalk import resolve
from connectors.servicenow.sandbox.pairs import build_pairs_query
from connectors.servicenow.sandbox.query import parse_query
from connectors.servicenow.sandbox.render import Renderer
from connectors.servicenow.sandbox.reply import ApiRequest, Reply, error_reply, forbidden, truthy

_AGGREGATES = ("avg", "min", "max", "sum")
_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "!=": operator.ne}
Row = list[str]


class StatsApi:
    """Serves ``/stats/{table}`` over the sandbox data.

    Args:
        db: the sandbox data.
        can_read: ``(user, table, sys_id) -> bool``, the Table API's row ACL.
        base_url: returns the instance URL.
        context: ``(user) -> ScriptContext`` for ``javascript:`` query values.
    """

    def __init__(self, db: Database, can_read: Callable[[str, str, str], bool],
                 base_url: Callable[[], str], context: Callable[[str], Any]) -> None:
        self.db = db
        self.can_read = can_read
        self.base_url = base_url
        self.context = context

    def handle(self, req: ApiRequest, table: str) -> Reply:
        """Answer one Aggregate API request."""
        target = self.db.table(table)
        if target is None:
            return error_reply(400, "Invalid table " + table, None)
        if req.method not in ("GET", "HEAD"):
            return error_reply(405, "Method not Supported", f"{req.method} is not supported")
        index = target.schema.index
        text = req.params.get("sysparm_query") or build_pairs_query(self.db, table, req.params)
        query = parse_query(text, table, self.db, context=self.context(req.user))
        wanted = {agg: _fields(req.params.get(f"sysparm_{agg}_fields")) for agg in _AGGREGATES}
        group_by = [f for f in _fields(req.params.get("sysparm_group_by"))
                    if resolve(self.db, table, f)]
        counted = truthy(req.params.get("sysparm_count"))
        with self.db.lock:
            rows = [r for r in target.rows.values() if query.matches(r)]
            sys_id_at = index["sys_id"]
            if any(not self.can_read(req.user, table, r[sys_id_at]) for r in rows):
                return forbidden()
            if not group_by:
                return Reply(200, {"result": {"stats": self._stats(table, rows, counted,
                                                                   wanted)}})
            groups = self._groups(table, rows, group_by)
            renderer = Renderer(self.db, self.base_url(),
                                _display(req.params.get("sysparm_display_value")), True)
            items = []
            for key, members in groups.items():
                stats = self._stats(table, members, counted, wanted)
                if not _having(req.params.get("sysparm_having"), table, members, self):
                    continue
                fields = [self._group_field(renderer, table, members[0], name, value)
                          for name, value in zip(group_by, key, strict=True)]
                items.append((key, members, {"stats": stats, "groupby_fields": fields}))
        items = _ordered(items, req.params.get("sysparm_order_by"), table, self)
        return Reply(200, {"result": [item for _key, _members, item in items]})

    def getter(self, table: str, field: str) -> Callable[[Row], str] | None:
        """A value accessor for a (dot-walked) field."""
        found = self.db.getter(table, field)
        return found[0] if found else None

    def aggregate(self, agg: str, table: str, rows: list[Row], field: str) -> str | None:
        """One aggregate of ``field`` over ``rows`` as the API prints it."""
        get = self.getter(table, field)
        if get is None:
            return None
        values = [get(r) for r in rows if get(r) != ""]
        if agg in ("min", "max"):
            numbers = _numbers(values)
            if numbers is not None and numbers:
                chosen = (min if agg == "min" else max)(range(len(numbers)),
                                                       key=numbers.__getitem__)
                return values[chosen]
            return (min if agg == "min" else max)(values) if values else ""
        numbers = _numbers(values) or []
        if agg == "sum":
            return str(sum(numbers, Decimal(0))) if numbers else "0"
        return f"{sum(numbers, Decimal(0)) / len(numbers):.4f}" if numbers else ""

    def _stats(self, table: str, rows: list[Row], counted: bool,
               wanted: dict[str, list[str]]) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        if counted:
            stats["count"] = str(len(rows))
        for agg, fields in wanted.items():
            values = {f: self.aggregate(agg, table, rows, f) for f in fields}
            present = {f: v for f, v in values.items() if v is not None}
            if present:
                stats[agg] = present
        return stats

    def _groups(self, table: str, rows: list[Row], group_by: list[str]) -> dict[tuple, list]:
        getters = [self.getter(table, f) for f in group_by]
        groups: dict[tuple, list[Row]] = {}
        for row in rows:
            key = tuple(g(row) if g else "" for g in getters)
            groups.setdefault(key, []).append(row)
        return dict(sorted(groups.items()))

    def _group_field(self, renderer: Renderer, table: str, row: Row, name: str,
                     value: str) -> dict[str, str]:
        if renderer.display == "false":
            return {"field": name, "value": value}
        rendered = renderer.row(table, row, [name])[name]
        shown = rendered.get("display_value", value) if isinstance(rendered, dict) else rendered
        if renderer.display == "true":
            return {"field": name, "value": shown}
        return {"field": name, "value": value, "display_value": shown}


def _fields(text: str | None) -> list[str]:
    return [f.strip() for f in (text or "").split(",") if f.strip()]


def _display(text: str | None) -> str:
    value = (text or "false").lower()
    return value if value in ("true", "false", "all") else "false"


def _numbers(values: list[str]) -> list[Decimal] | None:
    try:
        return [Decimal(v) for v in values]
    except InvalidOperation:
        return None


def _having(text: str | None, table: str, rows: list[Row], api: StatsApi) -> bool:
    """Whether a group passes every ``aggregate^field^operator^value`` condition."""
    for clause in _fields(text):
        parts = clause.split("^")
        if len(parts) != 4 or parts[2] not in _COMPARE:
            continue  # an unreadable condition is ignored, like an invalid query term
        agg, field, op, value = parts
        got = str(len(rows)) if agg.lower() == "count" else \
            api.aggregate(agg.lower(), table, rows, field)
        try:
            if got in (None, "") or not _COMPARE[op](Decimal(got), Decimal(value)):
                return False
        except InvalidOperation:
            return False
    return True


def _ordered(items: list, text: str | None, table: str, api: StatsApi) -> list:
    """Groups in ``sysparm_order_by`` order (stable, last key applied first)."""
    for clause in reversed(_fields(text)):
        parts = clause.split("^")
        descending = parts[-1].upper() == "DESC"
        parts = parts[:-1] if descending else parts
        head = parts[0].lower()

        def key(item: tuple, head: str = head, parts: list[str] = parts) -> tuple:
            _group, members, _body = item
            if head == "count":
                return (Decimal(len(members)),)
            if head in _AGGREGATES and len(parts) == 2:
                value = api.aggregate(head, table, members, parts[1]) or ""
                return _sortable(value)
            getter = api.getter(table, parts[0])
            return _sortable(getter(members[0]) if getter else "")
        items = sorted(items, key=key, reverse=descending)
    return items


def _sortable(value: str) -> tuple:
    try:
        return (1, Decimal(value), "")
    except InvalidOperation:
        return (0 if value == "" else 2, Decimal(0), value)
