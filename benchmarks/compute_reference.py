"""The SQL reference: five core indicators straight from the raw payloads, in plain SQLite.

This is what a hand-written report over the same state store would do: ``json_extract``
on the stored payloads, ``GROUP BY`` service or product and period, window functions for
the median. It computes, for every period in the data (not only the restatement window):

- ``operate.mttr``: median hours opened → resolved of non-canceled incidents, per service
  and resolution month;
- ``observe.change_failure_rate``: % of closed changes, per service and closing month,
  named as ``caused_by`` by at least one non-canceled incident (of any service);
- ``operate.resolved_within_sla``: % of completed resolution SLAs of non-canceled incidents
  that did not breach, per incident service and SLA end month;
- ``operate.velocity``: story points of the done, non-sub-task items of each closed
  sprint's close scope, per product (board);
- ``operate.throughput``: non-sub-task items per product and ISO week of their last entry
  into a done status (changelog), the Jira equivalent of ``done_at``.

It is deliberately narrower than ``compute`` (no breakdowns, targets, trends, history,
other indicators): the ratio says what the generality costs.
"""

# ruff: noqa: S608 - constant SQL assembled from constants, no outside input
from __future__ import annotations

import sqlite3
from pathlib import Path

_SERVICE = """
    WITH svc AS (
        SELECT json_extract(payload, '$.sys_id') AS sys_id,
               json_extract(payload, '$.name') AS name
        FROM records WHERE source = 'servicenow' AND stream = 'cmdb_ci_service')
"""

MTTR = _SERVICE + """,
    inc AS (
        SELECT svc.name AS service, substr(json_extract(payload, '$.resolved_at'), 1, 7) AS month,
               (julianday(json_extract(payload, '$.resolved_at'))
                - julianday(json_extract(payload, '$.opened_at'))) * 24.0 AS hours
        FROM records JOIN svc ON svc.sys_id = json_extract(payload, '$.business_service')
        WHERE source = 'servicenow' AND stream = 'incident'
          AND json_extract(payload, '$.state') <> '8'
          AND json_extract(payload, '$.resolved_at') <> ''
          AND json_extract(payload, '$.opened_at') <> ''),
    ranked AS (
        SELECT service, month, hours,
               row_number() OVER (PARTITION BY service, month ORDER BY hours) AS k,
               count(*) OVER (PARTITION BY service, month) AS n
        FROM inc)
    SELECT service, month, avg(hours) FROM ranked
    WHERE k IN ((n + 1) / 2, (n + 2) / 2) GROUP BY service, month
"""

CHANGE_FAILURE_RATE = _SERVICE + """,
    caused AS (
        SELECT DISTINCT json_extract(payload, '$.caused_by') AS change_id
        FROM records WHERE source = 'servicenow' AND stream = 'incident'
          AND json_extract(payload, '$.caused_by') <> ''
          AND json_extract(payload, '$.state') <> '8'),
    chg AS (
        SELECT svc.name AS service, substr(json_extract(payload, '$.closed_at'), 1, 7) AS month,
               key IN (SELECT change_id FROM caused) AS failed
        FROM records JOIN svc ON svc.sys_id = json_extract(payload, '$.business_service')
        WHERE source = 'servicenow' AND stream = 'change_request'
          AND json_extract(payload, '$.state') = '3'
          AND json_extract(payload, '$.closed_at') <> '')
    SELECT service, month, 100.0 * sum(failed) / count(*) FROM chg GROUP BY service, month
"""

WITHIN_SLA = _SERVICE + """,
    inc AS (
        SELECT key, svc.name AS service
        FROM records JOIN svc ON svc.sys_id = json_extract(payload, '$.business_service')
        WHERE source = 'servicenow' AND stream = 'incident'
          AND json_extract(payload, '$.state') <> '8'),
    sla AS (
        SELECT json_extract(payload, '$.task') AS task,
               substr(json_extract(payload, '$.end_time'), 1, 7) AS month,
               json_extract(payload, '$.has_breached') = 'false' AS met
        FROM records WHERE source = 'servicenow' AND stream = 'task_sla'
          AND json_extract(payload, '$.stage') = 'completed'
          AND json_extract(payload, '$.end_time') <> '')
    SELECT inc.service, sla.month, 100.0 * sum(sla.met) / count(*)
    FROM sla JOIN inc ON inc.key = sla.task GROUP BY inc.service, sla.month
"""

VELOCITY = """
    SELECT json_extract(payload, '$.board_id') AS board, json_extract(payload, '$.sprint_id'),
           sum(CASE WHEN json_extract(item.value, '$.status_category') = 'done'
                    THEN coalesce(json_extract(item.value, '$.story_points'), 0) ELSE 0 END)
    FROM records, json_each(records.payload, '$.items') AS item
    WHERE source = 'jira' AND stream = 'sprint_scope'
      AND json_extract(payload, '$.moment') = 'close'
      AND json_extract(item.value, '$.is_subtask') = 0
    GROUP BY board, json_extract(payload, '$.sprint_id')
"""

# Jira timestamps carry "+1300" offsets that SQLite only reads as "+13:00".
_AT = ("datetime(substr(h.value ->> 'created', 1, 23) || substr(h.value ->> 'created', 24, 3)"
       " || ':' || substr(h.value ->> 'created', 27, 2))")
THROUGHPUT = f"""
    WITH done_status AS (
        SELECT key AS id FROM records WHERE source = 'jira' AND stream = 'status'
          AND json_extract(payload, '$.statusCategory.key') = 'done'),
    items AS (
        SELECT records.key AS issue, json_extract(payload, '$.fields.project.key') AS project,
               json_extract(payload, '$.fields.status.statusCategory.key') AS category,
               max(CASE WHEN i.value ->> 'field' = 'status'
                         AND i.value ->> 'to' IN (SELECT id FROM done_status)
                         AND coalesce(i.value ->> 'from', '') NOT IN (SELECT id FROM done_status)
                        THEN {_AT} END) AS done_at
        FROM records, json_each(records.payload, '$.changelog.histories') AS h,
             json_each(h.value, '$.items') AS i
        WHERE source = 'jira' AND stream = 'issue'
          AND json_extract(payload, '$.fields.issuetype.subtask') = 0
        GROUP BY records.key)
    SELECT project, date(done_at, 'weekday 0', '-6 days') AS week, count(*)
    FROM items WHERE category = 'done' AND done_at IS NOT NULL GROUP BY project, week
"""

QUERIES = {"operate.mttr": MTTR, "observe.change_failure_rate": CHANGE_FAILURE_RATE,
           "operate.resolved_within_sla": WITHIN_SLA, "operate.velocity": VELOCITY,
           "operate.throughput": THROUGHPUT}


def reference_indicators(store_path: Path) -> dict[str, dict[tuple, float]]:
    """``{indicator: {(scope, period): value}}`` for the five core indicators."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return {name: {(str(a), str(b)): float(v) for a, b, v in conn.execute(sql)}
                for name, sql in QUERIES.items()}
    finally:
        conn.close()
