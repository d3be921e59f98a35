"""The loop's own history: an item's episode from create to resolve or owner close.

Writes are noted before they are sent and confirmed after; a run killed in between is
settled by the next run from what the platform holds. Expectations are written by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.improvement import CREATE, LEAVE, RESOLVE, UPDATE, HeldItem, ImprovementItem
from fiveo_sync.improvement_ledger import (
    CLOSED_BY_OWNER,
    OPEN,
    PENDING,
    RESOLVED,
    RESOLVING,
    improvement_records,
    intend,
    reconcile,
    settle,
)

MAY = datetime(2025, 5, 2, 6, 0, tzinfo=UTC)
JUNE = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 2, 6, 0, tzinfo=UTC)
KEY = "fiveo-improvement:operate.availability:service:payments:all"


def _item(action: str) -> ImprovementItem:
    return ImprovementItem(action=action, key=KEY, platform="servicenow", reason="",
                           indicator="operate.availability", name="Availability",
                           scope_type="service", scope="payments", breakdown="all",
                           scope_name="Payments", target=">= 99.9 %", title="t", periods=())


def _held(closed: bool) -> dict[str, HeldItem]:
    return {KEY: HeldItem(KEY, "sys1", closed)}


def test_a_create_is_pending_until_it_lands_then_open():
    ledger = intend({}, [_item(CREATE)], MAY)
    assert ledger[KEY]["state"] == PENDING and ledger[KEY]["opened_at"] == "2025-05-02T06:00:00Z"
    assert improvement_records(ledger) == ()  # a create that never landed is no record
    ledger = settle(ledger, [KEY])
    (record,) = improvement_records(ledger)
    assert (record.state, record.opened_at, record.resolved_at) == (OPEN, MAY, None)
    assert (record.indicator, record.scope_type, record.scope) == (
        "operate.availability", "service", "payments")


def test_a_create_killed_before_its_confirmation_is_open_once_the_platform_shows_it():
    ledger = intend({}, [_item(CREATE)], MAY)  # the run died after the POST
    ledger = reconcile(ledger, [_item(UPDATE)], _held(closed=False), JUNE)
    assert ledger[KEY]["state"] == OPEN
    assert ledger[KEY]["opened_at"] == "2025-05-02T06:00:00Z"  # when it was sent, not seen


def test_a_resolve_records_when_the_target_was_met_again():
    ledger = settle(intend({}, [_item(CREATE)], MAY), [KEY])
    ledger = intend(ledger, [_item(RESOLVE)], JULY)
    assert ledger[KEY]["state"] == RESOLVING
    (record,) = improvement_records(ledger)
    assert record.state == OPEN and record.resolved_at is None  # not confirmed yet
    ledger = settle(ledger, [KEY])
    (record,) = improvement_records(ledger)
    assert (record.state, record.opened_at, record.resolved_at) == (RESOLVED, MAY, JULY)


def test_a_resolve_killed_before_its_confirmation_is_resolved_when_found_closed():
    ledger = intend(settle(intend({}, [_item(CREATE)], MAY), [KEY]), [_item(RESOLVE)], JULY)
    ledger = reconcile(ledger, [], _held(closed=True), datetime(2025, 7, 3, tzinfo=UTC))
    assert ledger[KEY]["state"] == RESOLVED
    assert ledger[KEY]["resolved_at"] == "2025-07-02T06:00:00Z"


def test_an_item_the_owner_closed_ends_as_closed_by_owner_when_it_was_noticed():
    ledger = settle(intend({}, [_item(CREATE)], MAY), [KEY])
    ledger = reconcile(ledger, [_item(LEAVE)], _held(closed=True), JUNE)
    (record,) = improvement_records(ledger)
    assert (record.state, record.resolved_at) == (CLOSED_BY_OWNER, JUNE)
    # later runs keep it as it was: no second end
    again = reconcile(ledger, [_item(LEAVE)], _held(closed=True), JULY)
    assert again == ledger


def test_items_made_before_the_ledger_are_entered_as_first_seen():
    ledger = reconcile({}, [_item(UPDATE)], _held(closed=False), JUNE)
    assert ledger[KEY]["state"] == OPEN and ledger[KEY]["opened_at"] == "2025-06-02T06:00:00Z"
    left = reconcile({}, [_item(LEAVE)], _held(closed=True), JUNE)
    assert left[KEY]["state"] == CLOSED_BY_OWNER


def test_the_functions_do_not_change_the_ledger_they_are_given():
    ledger = settle(intend({}, [_item(CREATE)], MAY), [KEY])
    before = {k: dict(v) for k, v in ledger.items()}
    intend(ledger, [_item(RESOLVE)], JULY)
    reconcile(ledger, [], _held(closed=True), JULY)
    settle(ledger, [KEY])
    assert ledger == before
