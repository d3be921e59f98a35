"""What a measure gives for one scope, breakdown and period, before status and trend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.engine import stats


@dataclass
class Outcome:
    """A measured cell: ``value, n, excluded`` (§2.6), its flags and minimum sample."""

    value: float | None
    n: int
    excluded: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    min_sample: int = stats.MIN_SAMPLE
