"""Which periods an indicator reports (§2.2): the restatement window and the backfill.

Event indicators are recomputed for the current period and every period that ended less
than ``restatement_days`` before ``now``; older periods are final and computed only when the
history lacks them (a first run backfills). Snapshot indicators exist for the current
period only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fiveo_sync.engine.periods import Period, period_of, previous


def window_periods(kind: str, now: datetime, tz: str, restatement_days: int) -> list[Period]:
    """The current period and those that ended less than ``restatement_days`` before now."""
    horizon = now - timedelta(days=restatement_days)
    current = period_of(kind, now, tz)
    out = [current]
    while True:
        before = previous(out[-1], tz)
        if before.end <= horizon:
            break
        out.append(before)
    return sorted(out)


def choose(candidates: list[Period], window: set[str], final_done: set[str]) -> list[Period]:
    """Periods to compute: those in the window, and older ones history does not hold yet."""
    chosen = {p.id: p for p in candidates if p.id in window or p.id not in final_done}
    return sorted(chosen.values())
