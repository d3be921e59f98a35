"""JQL date values: literals, relative periods and date functions, in the user's zone.

Platform facts (jira-api.md §4; Atlassian "JQL functions" and "JQL fields" references):

- Zone-less literals ``yyyy/MM/dd HH:mm``, ``yyyy-MM-dd HH:mm``, ``yyyy/MM/dd``,
  ``yyyy-MM-dd`` are read in the searching user's profile zone; a bare integer is epoch
  milliseconds.
- Relative periods (``-30d``, ``-2w``, ``-4h``, ``"4w 2d"``) are parsed as Jira's
  duration strings: lower-cased first, units ``m`` (minutes), ``h``, ``d`` (24 h) and
  ``w`` (7 d), parts separated by spaces or commas, a bare number means minutes. Because
  of the lower-casing, ``-1M`` on a field is one *minute* ago, not a month; months and
  years exist only as function increments.
- ``startOfDay``/``endOfDay``/``…Week``/``…Month``/``…Year`` take an optional increment
  ``(+/-)nn(y|M|w|d|h|m)`` (case matters: ``M`` months, ``m`` minutes; no unit means the
  function's own period). The period boundary is taken first, then the increment is added
  (``startOfMonth("+14d")`` is the 15th). Weeks start on Sunday (locale ``en_US``); an end
  is the last millisecond of its period.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.jira.sandbox.jql_syntax import JqlError

DATE_FORMATS_TEXT = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', "
                     "'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")
DATE_FUNCTIONS = ("now", "startofday", "endofday", "startofweek", "endofweek", "startofmonth",
                  "endofmonth", "startofyear", "endofyear")
_LITERAL_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_DURATION_PART = re.compile(r"^(\d+)([a-z]*)$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_INCREMENT = re.compile(r"^([-+]?)(\d+)([mhdwMy]?)$")
_END = timedelta(microseconds=999_000)  # an end of period is its last millisecond


def parse_date(field: str, text: str, is_word: bool, zone: ZoneInfo,
               now: datetime) -> datetime:
    """A date literal, epoch milliseconds or relative period as an aware datetime.

    Raises:
        JqlError: with Jira's "Date value … is invalid" wording.
    """
    text = text.strip()
    if is_word and text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=zone)
    seconds = _duration_seconds(text)
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    for fmt in _LITERAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_FORMATS_TEXT}")


def _duration_seconds(text: str) -> int | None:
    """Jira's signed duration string in seconds, or ``None`` if it is not one."""
    if not text:
        return None
    sign = -1 if text[0] == "-" else 1
    body = text[1:] if text[0] in "+-" else text
    parts = [p for p in re.split(r"[ ,]+", body.strip().lower()) if p]
    if not parts:
        return None
    total = 0
    for part in parts:
        match = _DURATION_PART.match(part)
        if not match:
            return None
        unit = match.group(2) or "m"
        # "5d", "5day" and "5days" are all accepted; "5mo" is not.
        word = _UNIT_WORDS.get(unit[0])
        if word is None or (len(unit) > 1 and unit not in (word, word + "s")):
            return None
        total += int(match.group(1)) * _UNIT_SECONDS[unit[0]]
    return sign * total


def call_date_function(name: str, args: list[str], zone: ZoneInfo, now: datetime) -> datetime:
    """Evaluate ``now()`` or a start/end-of-period function in ``zone``.

    Args:
        name: the function name as written (any case).
        args: its arguments (at most one increment).
        zone: the searching user's zone.
        now: the sandbox clock.
    """
    low = name.lower()
    if low == "now":
        if args:
            raise JqlError(f"Function '{name}' expected '0' arguments but received "
                           f"'{len(args)}'.")
        return now
    if len(args) > 1:
        raise JqlError(f"Function '{name}' expected between '0' and '1' arguments but "
                       f"received '{len(args)}'.")
    edge, period = low.split("of", 1)
    local = now.astimezone(zone).replace(tzinfo=None)
    moment = _start_of(local, period)
    if edge == "end":
        moment = _add(moment, period, 1) - timedelta(microseconds=1000)
    if args:
        match = _INCREMENT.match(args[0].strip())
        if not match:
            raise JqlError(f"Duration for function '{name}' should have the format "
                           "(+/-)n(yMwdhm), e.g. -1M for a month ago.")
        amount = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
        unit = {"y": "year", "M": "month", "w": "week", "d": "day", "h": "hour",
                "m": "minute"}.get(match.group(3), period)
        moment = _add(moment, unit, amount)
    return moment.replace(tzinfo=zone, fold=0)


def _start_of(local: datetime, period: str) -> datetime:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":  # Sunday-based weeks (Python's weekday(): Monday is 0)
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if period == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _add(local: datetime, unit: str, amount: int) -> datetime:
    """Calendar arithmetic on a wall-clock time, as Java's ``Calendar.add``."""
    if unit in ("month", "year"):
        months = local.month - 1 + amount * (12 if unit == "year" else 1)
        year, month = local.year + months // 12, months % 12 + 1
        return local.replace(year=year, month=month,
                             day=min(local.day, monthrange(year, month)[1]))
    return local + timedelta(**{unit + "s": amount})
