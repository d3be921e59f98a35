"""Server-side ``javascript:`` values in encoded queries: the GlideSystem date helpers.

An encoded query may carry ``javascript:gs.daysAgoStart(7)`` where a literal belongs
(servicenow-api.md §3); the instance runs it and compares with the result, a GMT date-time
``YYYY-MM-DD HH:MM:SS``. The sandbox evaluates the GlideSystem functions documented in the
GlideSystem API reference (scoped and global): ``daysAgo``/``daysAgoStart``/``daysAgoEnd``,
``hoursAgo*``, ``minutesAgo*``, ``monthsAgo*``, ``quartersAgo*``, ``yearsAgo``,
``yesterday``, ``beginningOf``/``endOf`` + ``Today``/``Yesterday``/``Tomorrow`` and
``This``/``Last``/``Next`` + ``Week``/``Month``/``Quarter``/``Year``, ``now``/
``nowDateTime``, ``dateGenerate(date, start|end|time)``, ``getUserID()`` and
``getUserName()``, against the sandbox clock, in UTC (the time zone of the sandbox users).
Weeks start on Monday. Anything else is not evaluated: the caller drops the condition, as
the platform drops an invalid one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

SN_FORMAT = "%Y-%m-%d %H:%M:%S"
_CALL = re.compile(r"^\s*gs\.(\w+)\(\s*(.*?)\s*\)\s*;?\s*$", re.DOTALL)
_EDGE = re.compile(r"^(beginningOf|endOf)(This|Last|Next)(Week|Month|Quarter|Year)$")
_DAY_EDGE = re.compile(r"^(beginningOf|endOf)(Today|Yesterday|Tomorrow)$")
_AGO = re.compile(r"^(minutes|hours|days|months|quarters)Ago(Start|End)?$")


@dataclass(frozen=True)
class ScriptContext:
    """What a ``javascript:`` value may read: the clock and the calling user.

    Attributes:
        now: the sandbox's current time (aware or naive UTC).
        user_id: the caller's ``sys_user`` sys_id (``""`` when unknown).
        user_name: the caller's ``user_name``.
    """

    now: datetime
    user_id: str = ""
    user_name: str = ""


def evaluate(value: str, context: ScriptContext | None) -> str | None:
    """The literal a query value stands for: itself, or what its script returns.

    Returns:
        The value unchanged when it is not ``javascript:``; the script's result; ``None``
        when the script is not one the sandbox evaluates (or there is no context).
    """
    if not value.startswith("javascript:"):
        return value
    if context is None:
        return None
    match = _CALL.match(value[len("javascript:"):])
    if match is None:
        return None
    name, args_text = match.groups()
    args = [a.strip().strip("'\"") for a in args_text.split(",")] if args_text else []
    now = context.now.replace(tzinfo=None, microsecond=0)
    try:
        result = _call(name, args, now, context)
    except (ValueError, IndexError):
        return None
    if isinstance(result, datetime):
        return result.strftime(SN_FORMAT)
    return result


def _call(name: str, args: list[str], now: datetime, ctx: ScriptContext) -> datetime | str | None:
    if name == "getUserID":
        return ctx.user_id
    if name == "getUserName":
        return ctx.user_name
    if name in ("now", "nowDateTime", "nowNoTZ"):
        return now
    if name == "yesterday":
        return now - timedelta(days=1)
    if name == "dateGenerate":
        return _date_generate(args)
    if name == "daysAgo" or name == "daysAgoLater":
        sign = -1 if name == "daysAgoLater" else 1
        return now - sign * timedelta(days=int(args[0]))
    if name == "minutesAgo":
        return now - timedelta(minutes=int(args[0]))
    if name == "yearsAgo":
        return _add_months(now, -12 * int(args[0]))
    if match := _DAY_EDGE.match(name):
        edge, which = match.groups()
        day = now + timedelta(days={"Today": 0, "Yesterday": -1, "Tomorrow": 1}[which])
        return _day_start(day) if edge == "beginningOf" else _day_end(day)
    if match := _EDGE.match(name):
        edge, which, unit = match.groups()
        step = {"This": 0, "Last": -1, "Next": 1}[which]
        start = _period_start(now, unit, step)
        if edge == "beginningOf":
            return start
        return _period_start(start, unit, 1) - timedelta(seconds=1)
    if match := _AGO.match(name):
        unit, edge = match.groups()
        return _ago(now, unit, int(args[0]), edge)
    return None


def _date_generate(args: list[str]) -> datetime:
    """``dateGenerate('2024-01-01', 'start'|'end'|'10:00:00')`` or one ``'date time'``."""
    if len(args) == 1:
        text = args[0] if " " in args[0] else f"{args[0]} 00:00:00"
        return datetime.strptime(text, SN_FORMAT)
    day = datetime.strptime(args[0], "%Y-%m-%d")
    if args[1] == "start":
        return _day_start(day)
    if args[1] == "end":
        return _day_end(day)
    return datetime.strptime(f"{args[0]} {args[1]}", SN_FORMAT)


def _ago(now: datetime, unit: str, count: int, edge: str | None) -> datetime:
    if unit in ("minutes", "hours", "days"):
        moment = now - timedelta(**{unit: count})
        if edge is None:
            return moment
        trim = {"minutes": {"second": 0},
                "hours": {"minute": 0, "second": 0},
                "days": {"hour": 0, "minute": 0, "second": 0}}[unit]
        start = moment.replace(**trim)
        if edge == "Start":
            return start
        return start + timedelta(**{unit: 1}) - timedelta(seconds=1)
    months = count * (3 if unit == "quarters" else 1)
    if edge is None:
        return _add_months(now, -months)
    period = "Quarter" if unit == "quarters" else "Month"
    start = _period_start(now, period, -count)
    if edge == "Start":
        return start
    return _period_start(start, period, 1) - timedelta(seconds=1)


def _day_start(day: datetime) -> datetime:
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _day_end(day: datetime) -> datetime:
    return day.replace(hour=23, minute=59, second=59, microsecond=0)


def _period_start(now: datetime, unit: str, step: int) -> datetime:
    """The start of the week/month/quarter/year containing ``now``, moved ``step`` periods."""
    day = _day_start(now)
    if unit == "Week":
        return day - timedelta(days=day.weekday()) + timedelta(weeks=step)
    if unit == "Month":
        return _add_months(day.replace(day=1), step)
    if unit == "Quarter":
        first = day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
        return _add_months(first, 3 * step)
    return day.replace(month=1, day=1, year=day.year + step)


def _add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole months, the day clamped to the target month's length."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


_RELATIVE_UNITS = {"minute": "minutes", "hour": "hours", "dayofweek": "days", "day": "days",
                   "month": "months", "quarter": "quarters", "year": "years"}


def relative_moment(operand: str, context: ScriptContext | None) -> str | None:
    """The GMT date-time an ``@hour@ago@3`` operand (``RELATIVEGT`` and friends) names.

    Units ``minute``, ``hour``, ``dayofweek`` (days), ``month``, ``quarter``, ``year``;
    direction ``ago`` or ``ahead``. ``None`` when malformed.
    """
    parts = [p for p in operand.split("@") if p]
    if context is None or len(parts) != 3 or parts[0] not in _RELATIVE_UNITS \
            or parts[1] not in ("ago", "ahead") or not parts[2].isdigit():
        return None
    unit, count = _RELATIVE_UNITS[parts[0]], int(parts[2])
    if parts[1] == "ahead":
        count = -count
    now = context.now.replace(tzinfo=None, microsecond=0)
    if unit == "years":
        moment = _add_months(now, -12 * count)
    elif unit in ("months", "quarters"):
        moment = _ago(now, unit, count, None)
    else:
        moment = now - timedelta(**{unit: count})
    return moment.strftime(SN_FORMAT)
