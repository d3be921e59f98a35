"""Canonical fields as SQL column expressions, and the bound parameters of one query.

A field of a record kind is a column of its canonical table
(:mod:`fiveo_sync.canonical.schema`); ``task.<field>`` on an SLA is the column of its
incident (a ``LEFT JOIN`` on ``incidents.id = slas.task``: without a stored incident the
field is empty); ``now`` is the run clock truncated to the hour, so a rerun within the hour
gives the same values. Each column carries its DuckDB type: the predicates choose the
comparison rule by it (:mod:`~fiveo_sync.sqlengine.predicates`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.canonical.schema import TABLES

LEDGER_TABLE = "improvements"
"""The improvement items of the ledger: not a canonical table (they live in the state
store's meta), staged by the runner as a temporary table of :data:`LEDGER_COLUMNS` in each
run (``run.stage_improvements``)."""

LEDGER_COLUMNS = (("id", "VARCHAR"), ("indicator", "VARCHAR"), ("scope_type", "VARCHAR"),
                  ("scope", "VARCHAR"), ("breakdown", "VARCHAR"), ("state", "VARCHAR"),
                  ("opened_at", "TIMESTAMPTZ"), ("resolved_at", "TIMESTAMPTZ"),
                  ("owner", "VARCHAR"))
"""An item's fields (``records_evidence.Improvement``) and ``owner``: ``<scope_type>:<scope>``,
the key its scope maps join on."""

SOURCE_TABLES = {"incident": "incidents", "change": "changes", "problem": "problems",
                 "sla": "slas", "work_item": "work_items", "outage": "outages",
                 "survey_response": "survey_responses", "improvement": LEDGER_TABLE}
"""Record kinds with a table the compiler can read."""

_COLUMNS = {t.name: dict(t.columns) for t in TABLES} | {LEDGER_TABLE: dict(LEDGER_COLUMNS)}
_RAW_COLUMNS = frozenset({"raw_source", "raw_stream", "raw_key"})  # not record attributes


class NotCompiled(Exception):  # noqa: N818 - a verdict, not a failure of the caller
    """An indicator (or part of one) the SQL compiler does not translate.

    Attributes:
        indicator: the indicator id (empty until the compiler fills it in).
        reason: why, in words an operator can act on.
    """

    def __init__(self, reason: str, indicator: str = "") -> None:
        super().__init__(f"{indicator}: {reason}" if indicator else reason)
        self.reason = reason
        self.indicator = indicator


@dataclass
class Bindings:
    """Named query parameters (``$p0``, ``$p1``…), so fragments can be built in any order."""

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any, cast: str | None = None) -> str:
        """A placeholder for ``value`` (with an explicit cast, e.g. for lists)."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"CAST(${name} AS {cast})" if cast else f"${name}"

    def named(self, name: str, value: Any) -> str:
        """A placeholder with a fixed name (``$now``, ``$tz``), bound once."""
        self.values[name] = value
        return f"${name}"


def rows_sql(b: Bindings, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> str:
    """Bound rows as a relation: ``SELECT unnest($p) AS <name>, …`` (one list per column).

    Args:
        b: the query's parameters.
        columns: ``(name, DuckDB type)`` of each column.
        rows: the rows, one value per column.
    """
    lists = [b.bind([row[i] for row in rows], f"{kind}[]") for i, (_, kind) in enumerate(columns)]
    return "SELECT " + ", ".join(f"unnest({values}) AS {name}"
                                 for values, (name, _) in zip(lists, columns, strict=True))


HELD_CELLS = [("scope_id", "VARCHAR"), ("period_id", "VARCHAR")]
"""The columns of the ``(scope id, period id)`` cells a history holds, for :func:`rows_sql`."""


@dataclass(frozen=True)
class Column:
    """A SQL expression for one canonical field and its DuckDB type."""

    sql: str
    type: str

    @property
    def is_list(self) -> bool:
        """Whether the column is a ``LIST`` (``jira_keys``, ``labels``, ``sprints``)."""
        return self.type.endswith("[]")


@dataclass
class RecordFields:
    """Fields of the records of one kind read through a table alias.

    Attributes:
        kind: the record kind.
        alias: the alias of its table in the query.
        bindings: the query's parameters (``now`` binds ``$as_of``).
        as_of: the run clock truncated to the hour (the value of ``now``).
        task_join: set once a ``task.<field>`` is read: the query must join the incident.
    """

    kind: str
    alias: str
    bindings: Bindings
    as_of: Any
    task_join: bool = False

    @property
    def table(self) -> str:
        """The canonical table of the kind."""
        try:
            return SOURCE_TABLES[self.kind]
        except KeyError:
            raise NotCompiled(f"source {self.kind} has no canonical table") from None

    @property
    def task_alias(self) -> str:
        """Alias of the SLA's incident."""
        return f"{self.alias}_task"

    def column(self, name: str) -> Column:
        """The column of a canonical field (``task.<field>`` on SLAs, ``now``)."""
        if name == "now":
            return Column(self.bindings.named("as_of", self.as_of), "TIMESTAMPTZ")
        if "." in name:
            head, rest = name.split(".", 1)
            if head != "task" or self.kind != "sla" or "." in rest:
                raise NotCompiled(f"field {name} of {self.kind} is not compiled")
            self.task_join = True
            return _plain("incidents", self.task_alias, rest)
        return _plain(self.table, self.alias, name)

    def joins(self, incidents: str = '"incidents"') -> str:
        """The ``LEFT JOIN`` of an SLA's incident (from ``incidents``) once a task field is read."""
        if not self.task_join:
            return ""
        return (f" LEFT JOIN {incidents} {self.task_alias} "
                f"ON {self.task_alias}.\"id\" = {self.alias}.\"task\"")


def staged(table: str, when: str) -> str:
    """A temporary table the runner stages from the rows changed since the last computation.

    ``when`` is ``now`` (the changed rows of ``table`` as they are; for ``slas`` also the
    SLAs of changed incidents) or ``was`` (those and the versions the refreshes since
    replaced or deleted); ``table`` may be ``task_incidents``: the incidents of those SLAs
    (``was``: with the incidents' replaced versions). See ``sqlengine.run.stage_changed``.
    """
    return f'"fiveo_{when}_{table}"'


def _plain(table: str, alias: str, name: str) -> Column:
    kind = _COLUMNS[table].get(name)
    if kind is None or name in _RAW_COLUMNS:
        raise NotCompiled(f"field {name} is not a column of {table}")
    return Column(f'{alias}."{name}"', kind)
