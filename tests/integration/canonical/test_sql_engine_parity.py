"""The SQL engine gives the Python engine's value, n, excluded and flags for every cell (demo).

The demo organisation is pulled from both sandboxes (``support.canonical_stores``), its
canonical tables built by ``fiveo_sync.canonical.refresh``; the Python engine computes from
the same raw records through the normaliser, with an empty history so it reports every
period. Every shipped indicator the compiler supports, plus specs written here to reach the
filter operators, breakdown kinds and measures the catalogue does not use, must agree on
every (indicator, scope, breakdown, period): same keys, same n, excluded, outcome flags
(sprint provenance, no_commitment, flow efficiency off, evidence_omitted) and evidence
ids, and the same values to the last bit (medians and percentiles are interpolated by the
engine's own function; means use a compensated sum).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb
import pytest

from fiveo_sync.canonical import refresh
from fiveo_sync.engine.engine import compute
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.spec import (
    BoundIndicator,
    IndicatorSpec,
    bind_indicators,
    merge_parameters,
)
from fiveo_sync.records_evidence import Improvement
from fiveo_sync.sqlengine import run_indicators
from fiveo_sync.state import StateStore

# Shipped indicators the compiler leaves to the Python engine: interval measures.
EXPECTED_NOT_COMPILED: set[str] = set()
# Shipped indicators compiled since the groundwork: they must reach data on the demo.
SPRINT_AND_HISTORY = {
    "observe.sprint_change_failure_rate", "operate.velocity", "operate.say_do_ratio",
    "optimise.repeat_incidents", "organise.estimation_readiness", "orient.sprint_goal_set",
    "orient.unplanned_scope", "operate.csat",
    "organise.outage_task_linkage",
}


def _spec(ident: str, **fields) -> IndicatorSpec:
    base = {"id": f"observe.{ident}", "name": ident, "view": "service", "unit": "count",
            "direction": "up", "target": {"kind": "min", "value": 0}}
    return IndicatorSpec.model_validate({**base, **fields})


EXTRA = [
    _spec("mttr_by_priority", source="incident",
          filters=[{"op": "matches", "field": "number", "pattern": "^INC0"}],
          period={"kind": "month", "timestamp": "resolved_at"},
          measure={"kind": "median", "of": {"kind": "duration", "start": "opened_at",
                                            "end": "resolved_at", "unit": "min"}},
          breakdown={"field": "priority", "values": [1, "2", 9]}),
    _spec("changes_not_standard", source="change",
          filters=[{"op": "not", "filter": {"op": "in", "field": "type",
                                            "values": ["standard"]}},
                   {"op": "any", "filters": [{"op": "eq", "field": "state", "value": "closed"},
                                             {"op": "missing", "field": "close_code"}]}],
          period={"kind": "week", "timestamp": "closed_at"}, measure={"kind": "count"},
          breakdown={"field": "type"}),
    _spec("reopens", source="incident",
          filters=[{"op": "gt", "field": "priority", "value": "2"},
                   {"op": "ne", "field": "state", "value": "canceled"}],
          period={"kind": "month", "timestamp": "opened_at"},
          measure={"kind": "sum", "field": "reopen_count"}),
    _spec("sla_minutes", source="sla",
          filters=[{"op": "le", "field": "task.priority", "value": 3},
                   {"op": "exists", "field": "task.state"}],
          period={"kind": "week", "timestamp": "end_time"},
          measure={"kind": "mean", "of": {"kind": "duration", "start": "start_time",
                                          "end": "end_time", "unit": "min"}},
          breakdown={"field": "has_breached"}),
    _spec("points_p50", source="work_item", view="product",
          filters=[{"op": "eq", "field": "is_subtask", "value": False},
                   {"op": "not_in", "field": "labels", "values": ["nothing-has-this"]}],
          period={"kind": "month", "timestamp": "created"},
          measure={"kind": "percentile", "q": 50, "of": {"kind": "field",
                                                         "field": "story_points"}},
          breakdown={"field": "type"}),
    _spec("groups_seen", source="incident",
          period={"kind": "week", "timestamp": "opened_at"},
          measure={"kind": "distinct_count", "field": "assignment_group"}),
    _spec("incidents_with_rfc_change", source="incident",
          period={"kind": "month", "timestamp": "opened_at"},
          measure={"kind": "related_share", "related": [
              {"source": "change", "field": "id", "key": "rfc"}],
              "numerator": [{"op": "ge", "field": "priority", "value": 2}]}),
    _spec("change_recovery_mean", source="change",
          filters=[{"op": "exists", "field": "work_end"}],
          period={"kind": "week", "timestamp": "opened_at"},
          measure={"kind": "linked_duration", "stat": "mean", "start": "work_end",
                   "end": "resolved_at", "unit": "d",
                   "related": {"source": "incident", "field": "caused_by", "key": "id"}}),
    _spec("added_items", source="sprint", view="product", period={"kind": "sprint"},
          measure={"kind": "sprint_sum", "of": {"sets": ["A"], "value": "items"}}),
    _spec("done_at_close_points", source="sprint", view="product", period={"kind": "sprint"},
          measure={"kind": "sprint_sum", "of": {"sets": ["E", "D"], "value": "sp_start"}}),
    _spec("estimated_done_share", source="sprint", view="product", period={"kind": "sprint"},
          measure={"kind": "sprint_ratio",
                   "numerator": {"sets": ["C", "D"], "value": "estimated_start"},
                   "denominator": {"sets": ["E"], "value": "sp_end"}, "n_set": "D"}),
    _spec("goal_weeks", source="sprint", view="product", period={"kind": "week"},
          measure={"kind": "sprint_goal_share", "last": 2}),
    # Changes placed in the sprints that completed their linked work items.
    _spec("sprint_change_count", source="change", view="combined",
          filters=[{"op": "ne", "field": "state", "value": "canceled"}],
          period={"kind": "sprint", "placement": "completed_sprints"},
          measure={"kind": "count"}),
    # Repeats over every scope's records, by another field, with a breakdown.
    _spec("repeat_by_category", source="incident",
          filters=[{"op": "ne", "field": "state", "value": "canceled"}],
          period={"kind": "week", "timestamp": "opened_at"},
          measure={"kind": "repeat_count", "same": "category"}, breakdown={"field": "priority"}),
    _spec("open_problem_keys", source="problem", snapshot=True, period={"kind": "week"},
          measure={"kind": "ratio", "numerator": [{"op": "exists", "field": "jira_keys"}]},
          breakdown={"field": "known_error", "values": [True, False]}),
    # Interval measures (placement overlap) beyond the shipped ones: every outage type as a
    # breakdown (the demo has one outage spanning January and February), hours, weeks, and
    # configured values one of which never occurs.
    _spec("availability_by_type", source="outage",
          period={"kind": "month", "placement": "overlap", "timestamp": "begin",
                  "until": "end"},
          measure={"kind": "availability"}, breakdown={"field": "type"}),
    _spec("downtime_hours_weekly", source="outage",
          filters=[{"op": "ne", "field": "type", "value": "planned"}],
          period={"kind": "week", "placement": "overlap", "timestamp": "begin",
                  "until": "end"},
          measure={"kind": "downtime", "unit": "h"}, breakdown={"field": "type"}),
    _spec("mtbf_days_by_type", source="outage",
          period={"kind": "month", "placement": "overlap", "timestamp": "begin",
                  "until": "end"},
          measure={"kind": "mtbf", "unit": "d"},
          breakdown={"field": "type", "values": ["outage", "planned", "no-such-type"]}),
]


def _item(ident, scope_type, scope, state, opened, resolved=None):
    ended = datetime.fromisoformat(resolved) if resolved else None
    return Improvement(ident, "operate.mttr", scope_type, scope, "all", state,
                       datetime.fromisoformat(opened), ended)


# The demo pulls no ledger: items written here reach both scope types (a service's combined
# scope holds its products' items too), quarters across a year's edge and the time zones'
# quarter boundaries, open, resolved and owner-closed items, one without an opening, one
# opened after every test's clock, and one of a scope the portfolio does not know.
IMPROVEMENTS = (
    _item("i01", "service", "payments", "resolved", "2025-01-10T09:00+00:00",
          "2025-02-20T10:30+00:00"),
    _item("i02", "product", "payments-web", "resolved", "2024-12-31T23:30+00:00",
          "2025-01-01T00:30+00:00"),
    _item("i03", "service", "payments", "open", "2025-03-31T22:30+00:00"),
    _item("i04", "product", "mail-platform", "closed_by_owner", "2024-11-02T08:00+00:00",
          "2025-03-01T05:00+00:00"),
    _item("i05", "service", "email", "resolved", "2024-10-01T03:00+00:00",
          "2025-01-15T12:00+00:00"),
    _item("i06", "service", "identity", "open", "2025-02-01T00:00+00:00"),
    _item("i07", "product", "identity-service", "resolved", "2025-02-03T00:00+00:00",
          "2025-03-31T23:59+00:00"),
    Improvement("i08", "operate.mttr", "service", "payments", "all", "open", None, None),
    _item("i09", "service", "payments", "open", "2026-01-01T00:00+00:00"),
    _item("i10", "service", "retired", "resolved", "2025-01-02T00:00+00:00",
          "2025-01-03T00:00+00:00"),
)
IMPROVEMENT_SPECS = {"optimise.improvements_opened", "optimise.improvements_closed",
                     "optimise.target_restore_time"}


@pytest.fixture(scope="module")
def demo(sandbox_case):
    mappings = load_mappings(sandbox_case.mappings)
    report = refresh(sandbox_case.store, mappings, force=True)
    with StateStore(sandbox_case.store) as store:
        raw = {(source, stream): list(store.iter_payloads(source, stream))
               for source, stream in store.streams()}
    data = replace(normalise(mappings.sources, mappings.portfolio, raw),
                   improvements=IMPROVEMENTS)
    return mappings, data, report.path


# A flow-efficiency spec measured with a wait status (the shipped one is off by default).
FLOW = _spec("flow_with_review_wait", source="work_item", view="product",
             filters=[{"op": "eq", "field": "is_subtask", "value": False}],
             period={"kind": "month", "timestamp": "done_at"},
             measure={"kind": "flow_efficiency"}, breakdown={"field": "type"})


def _python_cells(indicators, data, portfolio, now):
    # Outcome flags only: no_baseline comes from the status step, which the SQL engine
    # leaves to post-processing.
    return {(r.indicator, r.scope, r.breakdown, r.period):
            (r.value, r.n, r.excluded, {k: v for k, v in r.flags.items() if k != "no_baseline"},
             dict(r.evidence))
            for r in compute(indicators, data, portfolio, now)}


def _with_zone(indicators, zone):
    return [BoundIndicator(spec=i.spec, params={**i.params, "reporting_timezone": zone})
            for i in indicators]


@pytest.mark.parametrize(("zone", "now"), [
    ("UTC", datetime(2025, 4, 3, 5, 37, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2025, 3, 20, 23, 15, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 2, 9, 4, 59, tzinfo=UTC)),
])
def test_sql_engine_matches_the_python_engine_on_every_cell(demo, zone, now):
    mappings, data, canonical = demo
    shipped = bind_indicators(mappings.indicator_files)
    extra = [BoundIndicator(spec=s, params=merge_parameters()) for s in EXTRA]
    extra.append(BoundIndicator(spec=FLOW, params={**merge_parameters(),
                                                   "wait_statuses": ["In Review"]}))
    indicators = _with_zone(shipped + extra, zone)
    with duckdb.connect(str(canonical), read_only=True) as conn:
        sql = run_indicators(conn, indicators, mappings.portfolio, now,
                             improvements=IMPROVEMENTS)
    compiled = {i.spec.id for i in indicators} - set(sql.not_compiled)
    assert set(sql.not_compiled) == EXPECTED_NOT_COMPILED
    assert {s.id for s in [*EXTRA, FLOW]} <= compiled
    python = _python_cells([i for i in indicators if i.spec.id in compiled], data,
                           mappings.portfolio, now)
    mine = {c.key: (c.value, c.n, c.excluded, c.flags, c.evidence) for c in sql.cells}
    assert mine.keys() == python.keys()
    wrong = {k: (mine[k][:4], python[k][:4]) for k in python if mine[k] != python[k]}
    assert wrong == {}
    # Not vacuous: every extra spec and most shipped ones have cells with data (the demo has
    # no completed response SLAs, cir-labelled items or open P1/P2 problems).
    with_data = {k[0] for k, (_, n, *_) in python.items() if n > 0}
    assert {s.id for s in [*EXTRA, FLOW]} <= with_data
    assert SPRINT_AND_HISTORY <= with_data
    assert IMPROVEMENT_SPECS <= with_data
    repeated = {k[0] for k, (value, *_) in python.items() if value and "repeat" in k[0]}
    assert {"observe.repeat_by_category", "observe.repeat_outages"} <= repeated
    assert len(with_data - {s.id for s in EXTRA}) >= 25
    # Sprint provenance flags are compared too: a single demo pull sees its sprints' starts
    # through the sprint report (snapshots need a pull at sprint start).
    sources = {f.get("commitment_source") for *_, f, _ in python.values()}
    assert sum(1 for *_, e in python.values() if e) > 500  # evidence compared too
    assert "sprint_report" in sources
