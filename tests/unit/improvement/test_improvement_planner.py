"""The improvement planner: episodes from complete periods, one item per episode."""

from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.engine.result import IndicatorResult
from fiveo_sync.improvement import HeldItem, find_episodes, item_key, plan_improvements
from fiveo_sync.ownership import OwnerState
from fiveo_sync.writers.context import PublishContext

SPEC = ImprovementSpec.model_validate({"version": 1, "kind": "improvement",
                                       "open_when": {"missed": 2, "of_last": 3},
                                       "resolve_when": {"met": 2}})
KEY_FEB = "fiveo-improvement:operate.mttr:service:payments:all:2025-02"


def _result(period: str, status: str, value: float = 30.0, **over) -> IndicatorResult:
    month = int(period[5:])
    base = dict(
        indicator="operate.mttr", name="Time to resolve, median (MTTR)", o="operate",
        view="service", scope_type="service", scope="payments", breakdown="all",
        period=period, period_kind="month", period_start=datetime(2025, month, 1, tzinfo=UTC),
        period_end=datetime(2025 + month // 12, month % 12 + 1, 1, tzinfo=UTC),
        value=value, unit="h", n=10, excluded=0, target="≤ 24", target_low=None,
        target_high=24.0, direction="down", status=status, baseline=None, trend="none",
        delta=None, sources=("servicenow",))
    base.update(over)
    return IndicatorResult(**base)


def _series(statuses: str, **over) -> list[IndicatorResult]:
    """One result per month from January: m = met, x = missed, r = at risk, - = no data."""
    names = {"m": "met", "x": "missed", "r": "at_risk", "-": "no_data"}
    return [_result(f"2025-{i + 1:02d}", names[c], value=30.0 + i if c == "x" else 12.0,
                    **over) for i, c in enumerate(statuses)]


def _now(months: int) -> datetime:
    """The middle of the month after ``months`` complete months of 2025."""
    return datetime(2025, months + 1, 15, tzinfo=UTC)


def _plan(results, now, held=None, context=None):
    return plan_improvements(results, SPEC, now, held or {}, context=context)


def test_missed_twice_of_three_opens_one_item_named_by_its_first_miss():
    (item,) = _plan(_series("mxmx"), _now(4))
    assert item.action == "create"
    assert item.key == KEY_FEB
    assert item.platform == "servicenow"
    assert item.title == ("Improve Time to resolve, median (MTTR) of payments: target ≤ 24 "
                          "missed in 2 complete periods since 2025-02")
    assert [p[:3] for p in item.periods] == [("2025-02", "31 h", "missed"),
                                             ("2025-03", "12 h", "met"),
                                             ("2025-04", "33 h", "missed")]


def test_one_miss_or_misses_too_far_apart_open_nothing():
    assert _plan(_series("mmxm"), _now(4)) == []
    assert _plan(_series("xmmx"), _now(4)) == []  # 2 misses, but not within 3 periods


def test_the_partial_period_never_counts():
    # April is missed but still running on 2025-04-15: only January–March are complete.
    results = _series("mmxx")
    assert _plan(results, datetime(2025, 4, 15, tzinfo=UTC)) == []


def test_still_missed_updates_the_same_item_with_the_latest_periods():
    first = _plan(_series("mxmx"), _now(4))[0]
    held = {first.key: HeldItem(first.key, "sys1", closed=False, digest=first.digest)}
    (same,) = _plan(_series("mxmx"), _now(4), held)
    assert (same.action, same.ref) == ("unchanged", "sys1")
    (later,) = _plan(_series("mxmxx"), _now(5), held)
    assert (later.action, later.key, later.ref) == ("update", KEY_FEB, "sys1")
    assert later.periods[-1][:3] == ("2025-05", "34 h", "missed")
    assert later.digest != first.digest


def test_met_twice_in_a_row_resolves_with_a_note():
    held = {KEY_FEB: HeldItem(KEY_FEB, "sys1", closed=False, digest="old")}
    (item,) = _plan(_series("mxmxmm"), _now(6), held)
    assert (item.action, item.ref) == ("resolve", "sys1")
    assert item.note == ("Target ≤ 24 met again in 2 consecutive complete periods "
                         "(2025-05: 12 h, 2025-06: 12 h); resolved by fiveo-sync.")


def test_at_risk_breaks_the_run_of_met_periods_and_no_data_is_skipped():
    held = {KEY_FEB: HeldItem(KEY_FEB, "sys1", closed=False, digest="old")}
    assert _plan(_series("mxmxmrm"), _now(7), held)[0].action == "update"
    # No data in May is skipped: April missed, June and July met → resolved.
    assert _plan(_series("mxmx-mm"), _now(7), held)[0].action == "resolve"


def test_a_resolved_episode_without_item_gets_none_and_a_new_miss_opens_a_new_one():
    (item,) = _plan(_series("mxxmmxmx"), _now(8))
    assert item.key.endswith(":2025-06") and item.action == "create"
    episodes = find_episodes(_series("mxxmmxmx"), SPEC, _now(8))
    assert [(e.first_missed, e.resolved) for e in episodes] == [("2025-02", True),
                                                              ("2025-06", False)]


def test_an_item_closed_by_hand_is_not_recreated_for_its_episode():
    held = {KEY_FEB: HeldItem(KEY_FEB, "sys1", closed=True, digest="old")}
    (item,) = _plan(_series("mxmxx"), _now(5), held)
    assert item.action == "leave" and item.ref == "sys1"
    assert "not re-created" in item.reason
    # Met again and missed again: a new episode, a new item.
    (new,) = _plan(_series("mxmxxmmxx"), _now(9), held)
    assert new.action == "create" and new.key.endswith(":2025-08")


def test_the_fallback_owner_receives_the_item_of_an_owner_who_left():
    state = OwnerState("service", "payments", "Payments", "inactive", "alice.martin",
                       "Alice Martin", since="2025-01-10T00:00:00Z",
                       acting_owner="carol.im", acting_owner_name="Carol Improver")
    context = PublishContext(scope_names={("service", "payments"): "Payments"},
                             owners={("service", "payments"): "alice.martin"},
                             ownership={("service", "payments"): state})
    (item,) = _plan(_series("mxmx"), _now(4), context=context)
    assert item.assignee == "carol.im"
    assert item.assignee_note == ("The owner Alice Martin (alice.martin) is inactive; "
                                  "acting owner: Carol Improver (carol.im).")
    assert "of Payments:" in item.title
    active = PublishContext(owners={("service", "payments"): "alice.martin"})
    assert _plan(_series("mxmx"), _now(4), context=active)[0].assignee == "alice.martin"


def test_products_go_to_jira_in_their_project_and_indicator_choice_applies():
    class Portfolio:
        @staticmethod
        def product(ident):
            return type("P", (), {"jira_projects": ("PAY",)})() if ident == "web" else None

    results = _series("xx", scope_type="product", scope="web", view="product")
    (item,) = plan_improvements(results, SPEC, _now(2), {}, portfolio=Portfolio)
    assert (item.platform, item.project) == ("jira", "PAY")
    assert item.key == item_key("fiveo:operate.mttr:product:web:all", "2025-01")
    narrowed = SPEC.model_copy(update={"indicators": SPEC.indicators.model_copy(
        update={"exclude": ("operate.mttr",)})})
    assert plan_improvements(results, narrowed, _now(2), {}, portfolio=Portfolio) == []
    # Breakdown series are left out by default.
    assert _plan(_series("xx", breakdown="priority=1"), _now(2)) == []
