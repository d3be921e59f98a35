"""Readers for raw platform values, one per value type of ``mappings/sources.yaml``.

Every reader takes the raw value as the platform returned it and gives the canonical value,
``None`` for empty, or raises :class:`UnreadableValue`. Platform facts relied on
(``servicenow-api.md`` §4, §6; ``jira-api.md`` §4, §5.2):

- ServiceNow Table API values are strings and ``""`` when unset; with
  ``sysparm_display_value=all`` every field is ``{display_value, value}`` (references add
  ``link``); the Change Management API returns JSON numbers and booleans (``3.0``,
  ``false``). Date-times are ``YYYY-MM-DD HH:MM:SS`` in UTC.
- Jira timestamps carry an offset without a colon (``+0800``) or ``Z``; old Server sprint
  fields are strings ``com.atlassian.greenhopper.service.sprint.Sprint@…[id=…,goal=a, b,…]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any


class UnreadableValue(ValueError):
    """A raw value that its declared type cannot read."""


def raw_value(value: Any) -> Any:
    """The stored value of a ServiceNow field in any response shape."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def is_empty(value: Any) -> bool:
    """``None``, ``""``, whitespace, an empty list or object."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def read_text(value: Any) -> str | None:
    """A string, or ``None`` when empty."""
    if type(value) is str:  # the common case, answered without the general checks
        return value if value.strip() else None
    value = raw_value(value)
    if is_empty(value):
        return None
    if isinstance(value, dict | list):
        raise UnreadableValue("expected text")
    return str(value)


def read_number(value: Any) -> float | None:
    """A number from ``"2.5"``, ``2``, ``"-1"``."""
    value = raw_value(value)
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise UnreadableValue("expected a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UnreadableValue("expected a number") from None


def read_int(value: Any) -> int | None:
    """An integer from ``"3"``, ``3`` or ``3.0``."""
    number = read_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise UnreadableValue("expected an integer")
    return int(number)


def read_bool(value: Any) -> bool | None:
    """``True``/``False`` from JSON booleans or ``"true"``/``"false"``."""
    value = raw_value(value)
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise UnreadableValue("expected true or false")


def read_code(value: Any) -> str | None:
    """A code as text, numbers normalised (``3.0`` and ``"3"`` are both ``"3"``)."""
    if type(value) is str and "." not in value:  # no "3.0" to normalise
        text = value.strip()
        return text or None
    value = raw_value(value)
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+\.0+", text):
        return text.split(".", 1)[0]
    return text


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SN_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def read_servicenow_datetime(value: Any) -> datetime | None:
    """A UTC date-time from ``YYYY-MM-DD HH:MM:SS`` (the stored value, never the display)."""
    value = raw_value(value)
    if is_empty(value):
        return None
    text = str(value).strip()
    if not _SN_DATETIME.match(text):
        raise UnreadableValue("expected YYYY-MM-DD HH:MM:SS")
    try:
        # The pattern fixed the layout; fromisoformat reads it ~40x faster than strptime
        # and, like it, rejects impossible dates and non-ASCII digits.
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise UnreadableValue("expected YYYY-MM-DD HH:MM:SS") from None


def read_servicenow_reference(value: Any) -> str | None:
    """The referenced sys_id from ``{link, value}``, ``{display_value, value, link}`` or text."""
    if type(value) is str:
        return value if value.strip() else None
    if isinstance(value, dict):
        value = value.get("value")
    return read_text(value)


def read_servicenow_duration(value: Any) -> float | None:
    """Seconds of a duration: stored as an epoch-offset date-time (``1970-01-01 02:30:00``).

    Plain seconds (``"9000"``, as a ``*_stc`` field holds them) are read too.
    """
    value = raw_value(value)
    if is_empty(value):
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    when = read_servicenow_datetime(text)
    seconds = (when - _EPOCH).total_seconds() if when is not None else -1.0
    if seconds < 0:
        raise UnreadableValue("expected a duration (1970-01-01 HH:MM:SS or seconds)")
    return seconds


def read_servicenow_list(value: Any) -> tuple[str, ...]:
    """A list field (glide_list): comma-separated sys_ids → a tuple, ``()`` when empty."""
    value = raw_value(value)
    if is_empty(value):
        return ()
    parts = value if isinstance(value, list) else str(value).split(",")
    return tuple(text for text in (str(p).strip() for p in parts) if text)


def reference_display(value: Any) -> str | None:
    """The display value of a reference in a ``display_value=all`` response, if present."""
    if isinstance(value, dict) and not is_empty(value.get("display_value")):
        return str(value["display_value"])
    return None


def read_jira_datetime(value: Any) -> datetime | None:
    """An aware UTC date-time from ``2020-06-12T08:13:13.360+0800`` or ``…Z``."""
    if is_empty(value):
        return None
    if not isinstance(value, str):
        raise UnreadableValue("expected an ISO 8601 timestamp")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UnreadableValue("expected an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise UnreadableValue("timestamp without a time zone")
    return parsed.astimezone(UTC)


def read_jira_name(value: Any) -> str | None:
    """An object's ``name`` (``issuetype``, ``resolution``, ``status``); text as is."""
    if isinstance(value, dict):
        value = value.get("name")
    return read_text(value)


def read_jira_key(value: Any) -> str | None:
    """An object's ``key`` (``project``, ``parent``); text as is."""
    if isinstance(value, dict):
        value = value.get("key")
    return read_text(value)


def read_jira_labels(value: Any) -> frozenset[str]:
    """Labels as a set; ``None`` is no labels."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnreadableValue("expected a list of labels")
    return frozenset(value)


def read_jira_rating(value: Any) -> float | None:
    """A 1–5 rating from the Satisfaction field (``{self, rating}``) or a plain number."""
    if isinstance(value, dict):
        value = value.get("rating")
    rating = read_number(value)
    if rating is not None and not 1 <= rating <= 5:
        raise UnreadableValue("expected a rating from 1 to 5")
    return rating


# Keys of the old Server sprint string; a value runs until the next ",<known key>=".
_SPRINT_KEYS = ("id", "rapidViewId", "state", "name", "goal", "startDate", "endDate",
                "completeDate", "activatedDate", "sequence", "autoStartStop",
                "synced", "incompleteIssuesDestinationId")
_SPRINT_SPLIT = re.compile(r",(?=(?:" + "|".join(_SPRINT_KEYS) + r")=)")


def parse_sprint_string(text: str) -> dict[str, str]:
    """Fields of ``com.atlassian.greenhopper.service.sprint.Sprint@…[id=1,goal=a, b,…]``."""
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end < start:
        raise UnreadableValue("expected a sprint object or Sprint@…[…] string")
    fields: dict[str, str] = {}
    for part in _SPRINT_SPLIT.split(text[start + 1:end]):
        key, sep, val = part.partition("=")
        if sep:
            fields[key] = val
    return fields


def read_jira_sprints(value: Any) -> tuple[int, ...]:
    """Sprint ids from the sprint field (objects, old-Server strings, or bare ids)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    ids: list[int] = []
    for item in items:
        if isinstance(item, dict):
            raw_id = item.get("id")
        elif isinstance(item, str) and "[" in item:
            raw_id = parse_sprint_string(item).get("id")
        else:
            raw_id = item
        sprint_id = read_int(raw_id)
        if sprint_id is None:
            raise UnreadableValue("sprint without an id")
        if sprint_id not in ids:
            ids.append(sprint_id)
    return tuple(ids)


def read_id_list(value: Any) -> tuple[int, ...]:
    """A changelog ``Sprint`` item's comma-separated id list (``"36, 37"``)."""
    if is_empty(value):
        return ()
    try:
        return tuple(int(part) for part in str(value).split(",") if part.strip())
    except ValueError:
        raise UnreadableValue("expected comma-separated sprint ids") from None


READERS: Mapping[str, Callable[[Any], Any]] = {
    "text": read_text,
    "int": read_int,
    "number": read_number,
    "bool": read_bool,
    "code": read_code,
    "servicenow_datetime": read_servicenow_datetime,
    "servicenow_reference": read_servicenow_reference,
    "servicenow_reference_name": read_servicenow_reference,
    "servicenow_duration": read_servicenow_duration,
    "servicenow_list": read_servicenow_list,
    "jira_datetime": read_jira_datetime,
    "jira_name": read_jira_name,
    "jira_key": read_jira_key,
    "jira_labels": read_jira_labels,
    "jira_sprints": read_jira_sprints,
}


def lookup_path(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``fields.status.statusCategory.key``), else ``None``."""
    return lookup_parts(record, path.split("."))


def lookup_parts(record: Mapping[str, Any], parts: tuple[str, ...] | list[str]) -> Any:
    """:func:`lookup_path` with the path already split at its dots."""
    if len(parts) == 1 and type(record) is dict and "display_value" not in record:
        return record.get(parts[0])  # a top-level field of a plain record
    node: Any = record
    for part in parts:
        if isinstance(node, dict) and "value" in node and part not in node and \
                "display_value" in node:
            node = node["value"]
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
