"""The typed DuckDB tables of the canonical records (``docs/canonical-tables.md``).

One table per canonical kind of ``indicators.md`` §2.1, with the columns of
:mod:`fiveo_sync.records`; histories and scope items are child tables (one row per entry,
``seq`` giving the order) so a BI tool can join and aggregate them without unnesting.
Small unordered sets (``jira_keys``, ``labels``) and id lists (``sprints``) are DuckDB
``LIST`` columns.

Every table holding records read from the state store starts with ``raw_source``,
``raw_stream`` and ``raw_key``: the key of the raw record in the SQLite store's ``records``
table (``source, stream, key``) it was normalised from. Date-times are ``TIMESTAMPTZ``
(instants, UTC); whole numbers ``BIGINT``, story points ``DOUBLE``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bumped whenever a table or column changes: part of the digest, so files built by an
# older layout are rebuilt rather than queried with missing columns.
SCHEMA_VERSION = 6
BUILD_TABLE = "canonical_build"
RAW_INDEX_TABLE = "canonical_raw_records"
CHANGES_TABLE = "canonical_changes"
# Incremental refreshes whose changed keys are kept: a computation older than that many
# refreshes cannot tell which rows changed since (it computes as after a full build).
CHANGES_KEPT = 500


@dataclass(frozen=True)
class Table:
    """One canonical table: its name and ``(column, DuckDB type)`` pairs, in order."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in table order."""
        return tuple(name for name, _ in self.columns)

    def ddl(self) -> str:
        """The ``CREATE TABLE`` statement."""
        body = ", ".join(f'"{name}" {kind}' for name, kind in self.columns)
        return f'CREATE TABLE "{self.name}" ({body})'

    def json_columns(self) -> str:
        """The ``columns={...}`` struct of ``read_json`` for this table."""
        return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in self.columns) + "}"


_RAW = (("raw_source", "VARCHAR"), ("raw_stream", "VARCHAR"), ("raw_key", "VARCHAR"))
_TS, _TEXT, _INT, _NUM, _BOOL = "TIMESTAMPTZ", "VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN"
_TEXTS, _INTS = "VARCHAR[]", "BIGINT[]"


def _table(name: str, *columns: tuple[str, str], raw: bool = True) -> Table:
    return Table(name, (_RAW if raw else ()) + columns)


INCIDENTS = _table(
    "incidents", ("id", _TEXT), ("number", _TEXT), ("state", _TEXT), ("priority", _INT),
    ("opened_at", _TS), ("resolved_at", _TS), ("service", _TEXT),
    ("assignment_group", _TEXT), ("caused_by", _TEXT), ("rfc", _TEXT), ("problem", _TEXT),
    ("reopen_count", _INT), ("ci", _TEXT), ("category", _TEXT), ("major", _BOOL),
    ("jira_keys", _TEXTS), ("security", _BOOL), ("supplier", _TEXT))
CHANGES = _table(
    "changes", ("id", _TEXT), ("number", _TEXT), ("type", _TEXT), ("state", _TEXT),
    ("close_code", _TEXT), ("closed_at", _TS), ("work_end", _TS), ("service", _TEXT),
    ("jira_keys", _TEXTS))
PROBLEMS = _table(
    "problems", ("id", _TEXT), ("state", _TEXT), ("priority", _INT), ("known_error", _BOOL),
    ("opened_at", _TS), ("closed_at", _TS), ("service", _TEXT), ("jira_keys", _TEXTS))
SLAS = _table(
    "slas", ("id", _TEXT), ("task", _TEXT), ("definition", _TEXT), ("kind", _TEXT),
    ("stage", _TEXT), ("has_breached", _BOOL), ("start_time", _TS), ("end_time", _TS))
WORK_ITEMS = _table(
    "work_items", ("key", _TEXT), ("project", _TEXT), ("type", _TEXT),
    ("is_subtask", _BOOL), ("status_category", _TEXT), ("status", _TEXT),
    ("resolution", _TEXT), ("created", _TS), ("labels", _TEXTS), ("epic_key", _TEXT),
    ("story_points", _NUM), ("sprints", _INTS), ("done_at", _TS), ("started_at", _TS),
    ("security", _BOOL), ("satisfaction", _NUM))
STATUS_CHANGES = _table(
    "work_item_status_changes", ("work_item", _TEXT), ("seq", _INT), ("changed_at", _TS),
    ("from_category", _TEXT), ("to_category", _TEXT), ("to_status_name", _TEXT))
SPRINT_CHANGES = _table(
    "work_item_sprint_changes", ("work_item", _TEXT), ("seq", _INT), ("changed_at", _TS),
    ("from_sprints", _INTS), ("to_sprints", _INTS))
POINTS_CHANGES = _table(
    "work_item_points_changes", ("work_item", _TEXT), ("seq", _INT), ("changed_at", _TS),
    ("from_points", _NUM), ("to_points", _NUM))
SPRINTS = _table(
    "sprints", ("id", _INT), ("board", _INT), ("state", _TEXT), ("start", _TS),
    ("complete", _TS), ("goal", _TEXT))
SPRINT_SCOPES = _table(
    "sprint_scopes", ("sprint", _INT), ("moment", _TEXT), ("taken_at", _TS),
    ("source", _TEXT))
SCOPE_ITEMS = _table(
    "sprint_scope_items", ("sprint", _INT), ("moment", _TEXT), ("seq", _INT), ("key", _TEXT),
    ("story_points", _NUM), ("status_category", _TEXT))
SERVICES = _table(
    "services", ("id", _TEXT), ("sys_id", _TEXT), ("name", _TEXT), ("owner", _TEXT),
    ("support_groups", _TEXTS), ("products", _TEXTS))
OUTAGES = _table(
    "outages", ("id", _TEXT), ("number", _TEXT), ("type", _TEXT), ("service", _TEXT),
    ("begin", _TS), ("end", _TS), ("duration_s", _NUM), ("task", _TEXT))
SURVEY_RESPONSES = _table(
    "survey_responses", ("id", _TEXT), ("number", _TEXT), ("survey", _TEXT),
    ("state", _TEXT), ("answered", _BOOL), ("score", _NUM), ("answers", _INT),
    ("task", _TEXT), ("service", _TEXT), ("user", _TEXT), ("sent_at", _TS),
    ("taken_on", _TS))
SUPPLIERS = _table("suppliers", ("id", _TEXT), ("name", _TEXT), ("vendor", _BOOL))
GROUPS = _table(
    "groups", ("id", _TEXT), ("name", _TEXT), ("companies", _TEXTS), ("supplier", _TEXT))
PRODUCTS = _table(
    "products", ("id", _TEXT), ("name", _TEXT), ("owner", _TEXT), ("jira_projects", _TEXTS),
    ("boards", _INTS), ("services", _TEXTS), raw=False)

TABLES: tuple[Table, ...] = (
    INCIDENTS, CHANGES, PROBLEMS, SLAS, WORK_ITEMS, STATUS_CHANGES, SPRINT_CHANGES,
    POINTS_CHANGES, SPRINTS, SPRINT_SCOPES, SCOPE_ITEMS, SERVICES, PRODUCTS, OUTAGES,
    SURVEY_RESPONSES, SUPPLIERS, GROUPS)

BUILD = Table(BUILD_TABLE, (
    ("digest", _TEXT), ("built_at", _TS), ("fiveo_sync_version", _TEXT),
    ("schema_version", _INT), ("inputs", "JSON"), ("skipped", "JSON"), ("seconds", _NUM),
    ("mode", _TEXT), ("lineage", _TEXT), ("generation", _INT), ("id_traits", "JSON")))
# The rows each incremental refresh replaced or deleted, by raw key (NULL: the whole table
# was derived again), tagged with the refresh's generation. ``lineage`` (canonical_build)
# names the full build the generations count from: what a computation compares to know
# which rows changed since it ran.
CHANGE_LOG = Table(CHANGES_TABLE, (("generation", _INT), ("table_name", _TEXT),
                                    ("raw_key", _TEXT)))
# The rows as they were before an incremental refresh replaced or deleted them, one table
# per record table a query places by its own stamp, tagged with the refresh's generation
# and kept as long as ``canonical_changes``: where a changed row WAS placed, so a
# computation recomputes only the scopes a change moved (``sqlengine.touched_scopes``).
PREVIOUS = {table.name: Table(f"canonical_previous_{table.name}",
                              (("generation", _INT), *table.columns))
            for table in (INCIDENTS, CHANGES, PROBLEMS, SLAS, WORK_ITEMS)}
# Every raw record of the record streams the tables were built from, with its stamp as the
# store holds it (text and SQLite ``unixepoch``) and, when the normaliser skipped it, why:
# what an incremental refresh compares with the store to find changed records.
RAW_INDEX = Table(RAW_INDEX_TABLE, (*_RAW, ("updated", _TEXT), ("updated_epoch", _INT),
                                    ("skipped_kind", _TEXT), ("skipped_reason", _TEXT)))
