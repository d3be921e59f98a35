"""Applying one record map of ``sources.yaml`` to one raw payload.

:func:`map_fields` reads every mapped field with its type's reader, translates codes
through value maps and resolves references to names; a record that cannot be read raises
:class:`SkipRecord` with a short, countable reason (``"missing number"``,
``"unparsable opened_at"``, ``"unknown state"``). One bad record never stops a run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fiveo_sync.engine.normalise_values import (
    READERS,
    UnreadableValue,
    lookup_parts,
    lookup_path,
    read_text,
    reference_display,
)
from fiveo_sync.engine.sources_spec import REQUIRED_FIELDS, RecordMapSpec, SourcesSpec

Payload = Mapping[str, Any]


class SkipRecord(Exception):
    """A raw record that cannot become a canonical record; ``reason`` is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SkipCounter:
    """Skipped records per canonical kind and reason.

    ``listener``, when given, hears each skip as it happens: the canonical builder uses it
    to note which raw record was skipped (the one its stream yielded last).
    """

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    listener: Callable[[str, str], None] | None = field(default=None, repr=False,
                                                        compare=False)

    def add(self, kind: str, reason: str) -> None:
        """Count one skipped record of ``kind`` for ``reason``."""
        per_kind = self.counts.setdefault(kind, {})
        per_kind[reason] = per_kind.get(reason, 0) + 1
        if self.listener is not None:
            self.listener(kind, reason)


@dataclass
class LookupIndex:
    """Raw records of lookup streams by id (``sys_id`` or Jira ``id``), per stream."""

    by_stream: dict[str, dict[str, Payload]] = field(default_factory=dict)
    _memo: dict[tuple[str, str, str], str | None] = field(default_factory=dict, repr=False,
                                                          compare=False)

    @classmethod
    def build(cls, streams: Mapping[str, Iterable[Payload]]) -> LookupIndex:
        """Index each stream's records by ``sys_id`` (ServiceNow) or ``id`` (Jira)."""
        index = cls()
        for stream, payloads in streams.items():
            table: dict[str, Payload] = {}
            for payload in payloads:
                if not isinstance(payload, Mapping):
                    continue
                key = read_text(payload.get("sys_id", payload.get("id")))
                if key is not None:
                    table[key] = payload
            index.by_stream[stream] = table
        return index

    def field_of(self, stream: str, key: str, name: str) -> str | None:
        """Field ``name`` of record ``key`` in ``stream``, if present."""
        # A million incidents name a few dozen groups: read each group's name once.
        memo = self._memo.get((stream, key, name), self)
        if memo is self:
            memo = self._memo[(stream, key, name)] = self._field_of(stream, key, name)
        return memo

    def _field_of(self, stream: str, key: str, name: str) -> str | None:
        record = self.by_stream.get(stream, {}).get(key)
        if record is None:
            return None
        try:
            return read_text(lookup_path(record, name))
        except UnreadableValue:
            return None


# Values of these types repeat across records (a category, a status name, a project):
# interned, a million records hold one string each, not a million copies.
_SHARED_TYPES = frozenset({"text", "code", "jira_name", "jira_key"})
_UNIQUE_FIELDS = frozenset({"id", "number", "key"})


class _FieldPlan:
    """One record map prepared for many records: paths split, readers and maps resolved."""

    __slots__ = ("fields", "required")

    def __init__(self, kind: str, record_map: RecordMapSpec, spec: SourcesSpec) -> None:
        self.fields = [
            (name, tuple(fm.source.split(".")), READERS[fm.type],
             spec.value_maps.get(fm.values, {}) if fm.type == "code" and fm.values else None,
             fm.lookup if fm.type == "servicenow_reference_name" else None,
             fm.type == "servicenow_reference_name",
             fm.type in _SHARED_TYPES and name not in _UNIQUE_FIELDS)
            for name, fm in record_map.fields.items()]
        self.required = REQUIRED_FIELDS.get(kind, ())


# Plans by (kind, id of record map, id of spec); the specs are kept alive beside their plan.
_PLANS: dict[tuple[str, int, int], tuple[RecordMapSpec, SourcesSpec, _FieldPlan]] = {}


def _plan(kind: str, record_map: RecordMapSpec, spec: SourcesSpec) -> _FieldPlan:
    key = (kind, id(record_map), id(spec))
    found = _PLANS.get(key)
    if found is None or found[0] is not record_map or found[1] is not spec:
        if len(_PLANS) > 64:
            _PLANS.clear()
        found = (record_map, spec, _FieldPlan(kind, record_map, spec))
        _PLANS[key] = found
    return found[2]


def map_fields(kind: str, record_map: RecordMapSpec, payload: Payload, spec: SourcesSpec,
               lookups: LookupIndex) -> dict[str, Any]:
    """Canonical field values of one raw record.

    Raises:
        SkipRecord: a required field is empty, a value is unreadable or a code unknown.
    """
    if not isinstance(payload, Mapping) or not payload:
        raise SkipRecord("empty record")
    values: dict[str, Any] = {}
    problems: list[str] | None = None
    plan = _plan(kind, record_map, spec)
    # A plain record's top-level fields are read directly (what lookup_parts would do).
    plain = payload.get if type(payload) is dict and "display_value" not in payload else None
    for name, parts, reader, value_map, lookup, is_reference_name, shared in plan.fields:
        raw = plain(parts[0]) if plain is not None and len(parts) == 1 else \
            lookup_parts(payload, parts)
        try:
            value = reader(raw)
        except UnreadableValue:
            problems = (problems or []) + [f"unparsable {name}"]
            continue
        if value_map is not None and value is not None:
            mapped = value_map.get(value)
            if mapped is None:
                problems = (problems or []) + [f"unknown {name}"]
                continue
            value = mapped
        if is_reference_name and value is not None:
            named = lookups.field_of(lookup.stream, value, lookup.field) if lookup else None
            value = named or reference_display(raw) or value
        elif shared and type(value) is str:
            value = sys.intern(value)
        values[name] = value
    for name in plan.required:
        if values.get(name) is None and (
                problems is None or (f"unparsable {name}" not in problems
                                     and f"unknown {name}" not in problems)):
            raise SkipRecord(f"missing {name}")
    if problems:
        raise SkipRecord(problems[0])
    return values
