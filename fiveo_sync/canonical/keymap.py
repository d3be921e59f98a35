"""Which raw record each canonical record came from: ``(source, stream, key)``.

The normaliser returns canonical records without their raw keys, so the payloads are fed
to it through :class:`RawKeyTap`, which notes each payload's key as it passes. A
ServiceNow record's canonical ``id`` is its ``sys_id``, which is also its raw key, and a
sprint's ``id`` is its raw key: nothing needs remembering for those. A Jira issue is stored
under its numeric id but known by its key (``PAY-12``): the tap remembers, for such
records only, the identity the source map reads (``key``) and the raw key it was stored
under. A sprint scope is stored under ``"<sprint id>:<moment>"`` by the Jira connector.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from connectors.base import RawRecord
from fiveo_sync.engine.normalise_values import lookup_parts, raw_value
from fiveo_sync.engine.sources_spec import SourcesSpec

# (canonical kind, source, default stream, identity field of the source map)
RECORD_KINDS = (("incident", "servicenow", "incident", "id"),
                ("change", "servicenow", "change_request", "id"),
                ("problem", "servicenow", "problem", "id"),
                ("sla", "servicenow", "task_sla", "id"),
                ("work_item", "jira", "issue", "key"),
                ("sprint", "jira", "sprint", "id"),
                ("service", "servicenow", "cmdb_ci_service", "id"),
                ("outage", "servicenow", "cmdb_ci_outage", "id"),
                ("survey_response", "servicenow", "asmt_assessment_instance", "id"),
                ("supplier", "servicenow", "core_company", "id"),
                ("group", "servicenow", "sys_user_group", "id"),
                ("survey_result", "servicenow", "asmt_metric_result", "id"))
SCOPE_STREAM = ("jira", "sprint_scope")

RawKey = tuple[str, str, str]
# Kinds whose skipped records are noted per raw record: streams the normaliser reads one
# payload at a time, so the payload the tap yielded last is the one being skipped.
NOTED_KINDS = frozenset({"incident", "change", "problem", "sla", "work_item"})


class RawKeyTap:
    """Feeds stored records to the normaliser and remembers their raw keys.

    Args:
        sources: the source maps (they name each kind's stream and identity field).
        on_record: called with the number of records read so far, once per record
            (progress).
    """

    def __init__(self, sources: SourcesSpec, on_record: Callable[[int], None] | None = None
                 ) -> None:
        self._on_record = on_record or (lambda _read: None)
        self.read = 0
        self.streams: dict[str, tuple[str, str]] = {}
        self._identity: dict[tuple[str, str], tuple[str, ...]] = {}
        for kind, source, default, field in RECORD_KINDS:
            record_map = sources.record_map(kind)
            stream = record_map.stream if record_map else default
            self.streams[kind] = (source, stream)
            if record_map and field in record_map.fields:
                self._identity[(source, stream)] = tuple(
                    record_map.fields[field].source.split("."))
        self._moved: dict[tuple[str, str, str], deque[str]] = {}
        self._scope_keys: set[str] = set()
        self._last: dict[tuple[str, str], str] = {}
        self.skipped: dict[RawKey, tuple[str, str]] = {}

    def payloads(self, source: str, stream: str, records: Iterable[RawRecord]
                 ) -> Iterator[Any]:
        """The payloads of one stream, noting the keys the canonical records will need."""
        path = self._identity.get((source, stream))
        scope = (source, stream) == SCOPE_STREAM
        for record in records:
            self.read += 1
            self._on_record(self.read)
            self._last[(source, stream)] = record.key
            if scope:
                self._scope_keys.add(record.key)
            elif path is not None and isinstance(record.payload, dict):
                identity = raw_value(lookup_parts(record.payload, path))
                if identity is not None and str(identity) != record.key:
                    self._moved.setdefault((source, stream, str(identity)), deque()).append(
                        record.key)
            yield record.payload

    def on_skip(self, kind: str, reason: str) -> None:
        """Note the raw record the normaliser is skipping (``normalise(on_skip=…)``)."""
        if kind not in NOTED_KINDS:
            return
        source, stream = self.streams[kind]
        key = self._last.get((source, stream))
        if key is not None:
            self.skipped[(source, stream, key)] = (kind, reason)

    def key_of(self, kind: str, identity: object) -> RawKey | None:
        """The raw key of the canonical record of ``kind`` with ``identity``.

        Each call consumes the remembered key, so two raw records normalised to the same
        identity get their own keys, in store order.
        """
        if identity is None:
            return None
        source, stream = self.streams[kind]
        text = str(identity)
        moved = self._moved.get((source, stream, text))
        return (source, stream, moved.popleft() if moved else text)

    def scope_key(self, sprint: int, moment: str) -> RawKey | None:
        """The raw key of a sprint scope, when the store holds it under the connector's key."""
        key = f"{sprint}:{moment}"
        return (*SCOPE_STREAM, key) if key in self._scope_keys else None
