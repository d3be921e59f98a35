"""Month, ISO-week and quarter periods in SQL, in the reporting time zone (``engine/periods.py``).

``timezone(tz, instant)`` (DuckDB's ICU extension) gives the local wall-clock time; the
period is truncated there and its local midnights turned back into instants with
``timezone(tz, local)``, so boundaries move with daylight saving time exactly as
``periods.month_of``/``week_of``/``quarter_of`` move them. The id is ``YYYY-MM``,
``YYYY-Www`` (ISO year and week of the local date) or ``YYYY-Qn``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fiveo_sync.sqlengine.fields import NotCompiled

_STEP = {"month": "INTERVAL 1 MONTH", "week": "INTERVAL 7 DAY", "quarter": "INTERVAL 3 MONTH"}


@dataclass(frozen=True)
class PeriodSql:
    """SQL expressions for the period containing one instant."""

    id: str
    start: str
    end: str


def period_sql(kind: str, stamp: str, tz: str) -> PeriodSql:
    """The period of kind ``kind`` containing the instant ``stamp``.

    Args:
        kind: ``month``, ``week`` or ``quarter``.
        stamp: a ``TIMESTAMPTZ`` expression.
        tz: the expression of the reporting time zone's name (a parameter).

    Raises:
        NotCompiled: for other period kinds.
    """
    if kind not in _STEP:
        raise NotCompiled(f"{kind} periods are not compiled")
    local = f"timezone({tz}, {stamp})"
    first = f"date_trunc('{kind}', {local})"
    if kind == "month":
        ident = f"strftime({local}, '%Y-%m')"
    elif kind == "quarter":
        ident = f"strftime({local}, '%Y') || '-Q' || CAST(quarter({local}) AS VARCHAR)"
    else:
        ident = (f"CAST(isoyear({local}) AS VARCHAR) || '-W' || "
                 f"lpad(CAST(week({local}) AS VARCHAR), 2, '0')")
    return PeriodSql(ident, f"timezone({tz}, {first})",
                     f"timezone({tz}, {first} + {_STEP[kind]})")
