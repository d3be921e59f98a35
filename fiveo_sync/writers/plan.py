"""Write plans: the plain data writers produce and connectors execute.

A :class:`Plan` is an ordered tuple of frozen :class:`WriteOp` values. Writers build plans
from indicator results and what a platform currently holds; executors in ``connectors/``
carry them out; ``push --dry-run`` prints the same plan as a table or JSON instead.
Ordering is deterministic (target, key, action) so plans diff cleanly and golden files stay
stable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ACTIONS = ("create", "update", "skip_unchanged", "mark")
TARGETS = ("servicenow", "jira")


@dataclass(frozen=True)
class WriteOp:
    """One write (or deliberate non-write) against one platform record.

    Attributes:
        action: ``create``, ``update``, ``skip_unchanged`` or ``mark`` (a record that
            vanished from the results is marked, never deleted).
        target: ``servicenow`` or ``jira``.
        key: the idempotency key (ServiceNow ``u_key``; Jira: the product id).
        fields: the values to write, read-only (a mapping proxy over a copy).
        reason: why this action was chosen, for humans reading a dry run.
        ref: the platform id of the existing record (``sys_id``, issue key), ``""`` if none.
        changed: names of the fields that differ from the platform (updates only).
    """

    action: str
    target: str
    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    ref: str = ""
    changed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown write action {self.action!r}")
        if self.target not in TARGETS:
            raise ValueError(f"unknown write target {self.target!r}")
        # Frozen all the way down: callers cannot mutate a planned write behind our back.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "changed", tuple(self.changed))

    @property
    def writes(self) -> bool:
        """True when executing this operation sends a write to the platform."""
        return self.action != "skip_unchanged"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of this operation."""
        return {"action": self.action, "target": self.target, "key": self.key,
                "ref": self.ref, "reason": self.reason, "changed": list(self.changed),
                "fields": dict(self.fields)}


def _order(op: WriteOp) -> tuple[str, str, int]:
    return (op.target, op.key, ACTIONS.index(op.action))


@dataclass(frozen=True)
class Plan:
    """The write operations for one or more targets, sorted by (target, key, action)."""

    ops: tuple[WriteOp, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(sorted(self.ops, key=_order)))

    @classmethod
    def merge(cls, plans: Iterable[Plan]) -> Plan:
        """One plan holding the operations of several."""
        return cls(tuple(op for plan in plans for op in plan.ops))

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self):  # noqa: D105 - iterating a plan yields its operations
        return iter(self.ops)

    def for_target(self, target: str) -> Plan:
        """The operations of one target only."""
        return Plan(tuple(op for op in self.ops if op.target == target))

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets this plan touches, in order."""
        return tuple(dict.fromkeys(op.target for op in self.ops))

    def counts(self) -> dict[str, int]:
        """How many operations there are per action (every action listed, zeros included)."""
        tally = Counter(op.action for op in self.ops)
        return {action: tally.get(action, 0) for action in ACTIONS}

    def to_json_data(self) -> dict[str, Any]:
        """The plan as JSON-able data: counts and every operation."""
        return {"counts": self.counts(), "ops": [op.to_dict() for op in self.ops]}

    def to_json(self) -> str:
        """The plan as stable JSON (sorted keys, two-space indent, trailing newline)."""
        return json.dumps(self.to_json_data(), sort_keys=True, indent=2,
                          ensure_ascii=False) + "\n"


def _one_line(text: str, width: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_table(plan: Plan, *, width: int = 60) -> str:
    """The plan as a readable fixed-width table, one operation per line, then totals.

    Args:
        plan: the plan to show.
        width: the widest a key or reason column may grow before it is cut with ``…``.

    Returns:
        The table text, ending with a newline.
    """
    header = ("TARGET", "ACTION", "KEY", "CHANGED", "REASON")
    rows = [header]
    for op in plan.ops:
        changed = ",".join(op.changed) if op.changed else "-"
        rows.append((op.target, op.action, _one_line(op.key, width),
                     _one_line(changed, 40), _one_line(op.reason, width)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    counts = plan.counts()
    lines.append("")
    lines.append("total: " + ", ".join(f"{counts[a]} {a}" for a in ACTIONS))
    return "\n".join(lines) + "\n"
