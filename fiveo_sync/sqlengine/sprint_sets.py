"""Sprint commitment sets C/E/D/A in SQL (indicators.md §4).

For every closed sprint (state closed, start and complete known, complete ≤ now) the CTEs
give one row per key of C ∪ E (``sp_items``: ``in_c``, ``in_e``, ``in_d``, ``sp_start``,
``sp_end``) and one row of provenance flags (``sp_flags``). The rules:

- start and close scopes are picked by source preference (snapshot, sprint_report,
  changelog), then earliest ``taken_at``;
- items that are stored sub-tasks or carry a discarded resolution do not count (items
  missing from the store do);
- a key listed twice keeps the points of its last listing;
- D: an item at close whose category was ``done`` — for a close snapshot of a stored item,
  its category at the sprint's complete replayed from the status changes;
- without a close scope, E is every stored item still listing the sprint, with its
  current points, and D those done at complete (``close_source: current_state``);
- C is never rebuilt from current state: without a start scope it is empty and
  ``commitment_source`` NULL; a start snapshot taken more than ``snapshot_max_delay_h``
  (default 24) after the start is ``late``.
"""

# ruff: noqa: S608 - identifiers are fixed here; values are bound parameters
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from fiveo_sync.sqlengine.fields import HELD_CELLS, Bindings, rows_sql

SOURCE_PREFERENCE = {"snapshot": 0, "sprint_report": 1, "changelog": 2}
"""Which stored scope of a sprint's start or close is taken: the lowest rank, then the
earliest ``taken_at`` (a snapshot taken by the pull beats the sprint report's record)."""

_PREFERENCE = "CASE source " + " ".join(
    f"WHEN '{name}' THEN {rank}" for name, rank in SOURCE_PREFERENCE.items()) + " ELSE 9 END"


def closed_sprints_cte(b: Bindings, now: datetime,
                       pending: tuple[Collection[tuple[str, str]], datetime] | None = None
                       ) -> str:
    """``sp_closed(id, board, start, complete, goal)``: every closed sprint (all boards).

    With ``pending`` = ``(done, horizon)``, only the sprints some scope still reports: those
    completed after ``horizon`` (the restatement window) and those a scope of their board
    (``sp_boards``, defined before) has no result for in ``done`` (``(scope id,
    'sprint-<id>')`` pairs the history holds). Sprints of no scope's board are left out.
    """
    keep = ""
    if pending is not None:
        done, horizon = pending
        held = rows_sql(b, HELD_CELLS, list(done))
        keep = (f" AND (complete > {b.bind(horizon)} OR EXISTS (SELECT 1 FROM sp_boards m "
                f"WHERE m.board = s.board AND NOT EXISTS (SELECT 1 FROM ({held}) d WHERE "
                "d.scope_id = m.scope_id AND d.period_id = 'sprint-' || "
                "CAST(s.id AS VARCHAR))))")
    return (f"sp_closed AS (SELECT id, board, start, complete, goal FROM \"sprints\" s "
            f"WHERE state = 'closed' AND start IS NOT NULL AND complete IS NOT NULL "
            f"AND complete <= {b.named('now', now)}{keep})")


def board_map_cte(b: Bindings, scopes: list[Any]) -> str:
    """``sp_boards(scope_id, board)``: the boards of each scope."""
    rows = [(s.id, board) for s in scopes for board in sorted(s.boards)]
    return f"sp_boards AS ({rows_sql(b, [('scope_id', 'VARCHAR'), ('board', 'BIGINT')], rows)})"


def _countable(alias: str, discarded: str) -> str:
    """Whether a listed item counts (``alias``: its LEFT JOINed work item).

    It does unless the store holds it as a sub-task or with a discarded resolution.
    """
    return (f"({alias}.key IS NULL OR (NOT coalesce({alias}.is_subtask, FALSE) AND NOT "
            f"list_contains({discarded}, coalesce({alias}.resolution, ''))))")


def sprint_set_ctes(b: Bindings, params: dict[str, Any]) -> list[str]:
    """The CTEs after ``sp_closed`` that end in ``sp_items`` and ``sp_flags``."""
    discarded = b.bind(sorted(params.get("discarded_resolutions") or ()), "VARCHAR[]")
    delay = timedelta(hours=float(params.get("snapshot_max_delay_h") or 24))
    delay_us = b.bind(delay // timedelta(microseconds=1))
    return [
        f"sp_pick AS (SELECT sprint, moment, taken_at, source FROM \"sprint_scopes\" "
        f"WHERE sprint IN (SELECT id FROM sp_closed) QUALIFY row_number() OVER "
        f"(PARTITION BY sprint, moment ORDER BY {_PREFERENCE}, taken_at) = 1)",
        # Items of the picked scopes that count, and whether the store holds them.
        f"sp_listed AS (SELECT i.sprint, i.moment, i.seq, i.key, i.story_points, "
        f"i.status_category, p.source, w.key IS NOT NULL AS stored FROM "
        f"\"sprint_scope_items\" i JOIN sp_pick p ON p.sprint = i.sprint AND "
        f"p.moment = i.moment LEFT JOIN \"work_items\" w ON w.key = i.key "
        f"WHERE {_countable('w', discarded)})",
        "sp_c AS (SELECT sprint, key, arg_max({'v': story_points}, seq).v AS sp "
        "FROM sp_listed WHERE moment = 'start' GROUP BY sprint, key)",
        # Close rows: the close scope's items, else the stored items listing the sprint.
        "sp_close_rows AS (SELECT sprint, key, seq, story_points AS sp, status_category AS "
        "cat, (source = 'snapshot' AND stored) AS replay FROM sp_listed WHERE moment = "
        "'close' UNION ALL SELECT DISTINCT l.sprint, w.key, 0, w.story_points, NULL, TRUE "
        "FROM (SELECT key, unnest(sprints) AS sprint FROM \"work_items\") l "
        "JOIN \"work_items\" w ON w.key = l.key JOIN sp_closed c ON c.id = l.sprint "
        "WHERE NOT EXISTS (SELECT 1 FROM sp_pick p WHERE p.sprint = c.id AND "
        f"p.moment = 'close') AND {_countable('w', discarded)})",
        *_category_at_ctes(),
        "sp_e AS (SELECT r.sprint, r.key, arg_max({'v': r.sp}, r.seq).v AS sp, "
        "bool_or(coalesce(CASE WHEN r.replay THEN k.category ELSE r.cat END = 'done', "
        "FALSE)) AS done FROM sp_close_rows r LEFT JOIN sp_cat_at k ON k.sprint = r.sprint "
        "AND k.key = r.key GROUP BY r.sprint, r.key)",
        "sp_items AS (SELECT coalesce(c.sprint, e.sprint) AS sprint, coalesce(c.key, e.key) "
        "AS key, c.key IS NOT NULL AS in_c, e.key IS NOT NULL AS in_e, coalesce(e.done, "
        "FALSE) AS in_d, c.sp AS sp_start, e.sp AS sp_end FROM sp_c c FULL OUTER JOIN sp_e e "
        "ON c.sprint = e.sprint AND c.key = e.key)",
        "sp_flags AS (SELECT c.id AS sprint, s.source AS commitment_source, "
        "coalesce(s.source = 'snapshot' AND epoch_us(s.taken_at) - epoch_us(c.start) > "
        f"{delay_us}, FALSE) AS late, coalesce(e.source, 'current_state') AS close_source "
        "FROM sp_closed c LEFT JOIN sp_pick s ON s.sprint = c.id AND s.moment = 'start' "
        "LEFT JOIN sp_pick e ON e.sprint = c.id AND e.moment = 'close')",
    ]


def _category_at_ctes() -> list[str]:
    """``sp_cat_at(sprint, key, category)``: ``WorkItem.status_category_at(complete)``.

    The category set by the last status change (in history order) before the first one
    after ``complete``; before any change, the first change's ``from``; no history or an
    empty answer: the current category.
    """
    return [
        "sp_asked AS (SELECT DISTINCT r.sprint, r.key, c.complete AS asked_at FROM sp_close_rows r "
        "JOIN sp_closed c ON c.id = r.sprint WHERE r.replay)",
        "sp_hist AS (SELECT a.sprint, a.key, a.asked_at, h.seq, h.changed_at, h.from_category, "
        "h.to_category FROM sp_asked a JOIN \"work_item_status_changes\" h "
        "ON h.work_item = a.key)",
        "sp_cut AS (SELECT sprint, key, min(seq) FILTER (WHERE changed_at > asked_at) AS cut, "
        "arg_min({'c': from_category}, seq).c AS first_from FROM sp_hist GROUP BY sprint, key)",
        "sp_last AS (SELECT h.sprint, h.key, arg_max({'c': h.to_category}, h.seq).c AS "
        "last_to FROM sp_hist h JOIN sp_cut u ON u.sprint = h.sprint AND u.key = h.key "
        "WHERE u.cut IS NULL OR h.seq < u.cut GROUP BY h.sprint, h.key)",
        "sp_cat_at AS (SELECT a.sprint, a.key, coalesce(nullif(CASE WHEN l.key IS NOT NULL "
        "THEN l.last_to ELSE u.first_from END, ''), w.status_category) AS category "
        "FROM sp_asked a JOIN \"work_items\" w ON w.key = a.key LEFT JOIN sp_cut u "
        "ON u.sprint = a.sprint AND u.key = a.key LEFT JOIN sp_last l ON l.sprint = a.sprint "
        "AND l.key = a.key)",
    ]


def set_sql(names: list[str]) -> str:
    """Membership of the intersection of named sets (``A`` = E not in C)."""
    member = {"C": "in_c", "E": "in_e", "D": "in_d", "A": "(in_e AND NOT in_c)"}
    return "(" + " AND ".join(member[n] for n in names) + ")"


def value_sql(value: str) -> str:
    """An item's contribution to a sprint sum (``sp_start``, ``sp_end``, ``items``...).

    Its points at start or close (an empty estimate counts 0), 1 per item, or 1 per item
    estimated at start.
    """
    return {"sp_start": "coalesce(sp_start, 0.0)", "sp_end": "coalesce(sp_end, 0.0)",
            "items": "1.0", "estimated_start": "CASE WHEN sp_start IS NULL THEN 0.0 "
            "ELSE 1.0 END"}[value]
