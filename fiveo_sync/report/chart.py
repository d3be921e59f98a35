"""Inline SVG charts of one indicator's history: axes, target, status-coloured points.

A chart shows the last twelve complete periods and, beside them, the current period to date
drawn differently (a hollow point on a dashed segment, in a shaded slot labelled
"to date"), so the partial period is never read as a result. The target is a line (two for
a ``band``) with the side that meets it lightly shaded. Everything is plain SVG: no script,
no external asset; every piece of text is escaped here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from fiveo_sync.writers.servicenow import format_number

STATUS_COLOURS = {"met": "#1a7f37", "at_risk": "#b35900", "missed": "#c62828",
                  "no_data": "#6e7781", "insufficient_data": "#8c959f"}
STATUS_LABELS = {"met": "met", "at_risk": "at risk", "missed": "missed", "no_data": "no data",
                 "insufficient_data": "insufficient data"}
COMPLETE_PERIODS = 12
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MARGIN = {"left": 52, "right": 14, "top": 22, "bottom": 34}


@dataclass(frozen=True)
class ChartPoint:
    """One period of a series: ``value`` None means the period has no usable value."""

    period: str
    value: float | None
    status: str
    partial: bool = False


@dataclass(frozen=True)
class ChartTarget:
    """The target as the status rule reads it: ``low``/``high`` None = open side."""

    low: float | None
    high: float | None
    direction: str
    text: str


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _item(item: Any) -> tuple[Any, Any, Any, bool]:
    if isinstance(item, dict):
        return (item.get("period"), item.get("value"), item.get("status"),
                bool(item.get("partial")))
    period, value, status, partial = (tuple(item) + (None, None, None, False))[:4]
    return period, value, status, bool(partial)


def build_points(history: Iterable[Any], *, partial_periods: Iterable[str] = (),
                 limit: int = COMPLETE_PERIODS) -> list[ChartPoint]:
    """Chart points from a view's history: the last ``limit`` complete periods, then partial ones.

    Args:
        history: ``(period, value, status[, partial])`` tuples or dicts with those keys,
            oldest first.
        partial_periods: periods to mark partial even if the item does not say so.
        limit: how many complete periods to keep.

    Returns:
        The points, oldest first; values that are not numbers become None.
    """
    marked = set(partial_periods)
    points = []
    for item in history or ():
        period, value, status, partial = _item(item)
        try:
            number = None if value is None else float(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and not math.isfinite(number):
            number = None
        points.append(ChartPoint(str(period), number, str(status or "no_data"),
                                 partial or str(period) in marked))
    partial = [p for p in points if p.partial]
    # Partial points go last, after any months or weeks missing before them.
    filled = _fill_gaps([p for p in points if not p.partial] + partial[:1])
    complete = [p for p in filled if not p.partial]
    return (complete[-limit:] if limit > 0 else []) + partial


def _next_period(period: str) -> str | None:
    """The period after a month (``2026-11``), ISO week (``2026-W47``) or quarter (``2026-Q3``)."""
    quarter = _quarter_parts(period)
    if quarter is not None:
        year, number = quarter
        return f"{year + 1}-Q1" if number == 4 else f"{year}-Q{number + 1}"
    try:
        if len(period) == 7 and period[4] == "-":
            year, month = int(period[:4]), int(period[5:])
            return f"{year + month // 12}-{month % 12 + 1:02d}" if 1 <= month <= 12 else None
        if len(period) == 8 and period[4:6] == "-W":
            monday = date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
            year, week, _ = (monday + timedelta(days=7)).isocalendar()
            return f"{year}-W{week:02d}"
    except ValueError:
        return None
    return None


def _quarter_parts(period: str) -> tuple[int, int] | None:
    """``(year, quarter)`` of a quarter id such as ``2026-Q3``, else None."""
    if len(period) == 7 and period[4:6] == "-Q" and period[:4].isdigit() \
            and period[6] in "1234":
        return int(period[:4]), int(period[6])
    return None


def _fill_gaps(points: list[ChartPoint], most: int = 60) -> list[ChartPoint]:
    """Periods with no result become empty slots, so the x axis is calendar time."""
    out: list[ChartPoint] = []
    for point in points:
        if out:
            following, added = _next_period(out[-1].period), 0
            while following is not None and following < point.period and added < most:
                out.append(ChartPoint(following, None, "no_data"))
                following, added = _next_period(following), added + 1
        out.append(point)
    return out


def build_target(result: Any) -> ChartTarget | None:
    """The chart target of a result, or None when it has no bound."""
    low, high = getattr(result, "target_low", None), getattr(result, "target_high", None)
    if low is None and high is None:
        return None
    return ChartTarget(low, high, str(getattr(result, "direction", "") or ""),
                       str(getattr(result, "target", "") or ""))


def value_label(value: float, unit: str) -> str:
    """A value as the chart prints it, with its unit (``18%``, ``12.5 h``, ``7 items``)."""
    number = format_number(value)
    return f"{number}%" if unit == "%" else f"{number} {unit}".strip()


def period_label(period: str) -> tuple[str, str]:
    """A short axis label for a period and a second line (the year on January or none).

    ``2026-11`` reads ``Nov``, ``2026-W47`` reads ``W47``, ``2026-Q1`` reads ``Q1`` over
    ``2026``, ``sprint-12`` reads ``S12``.
    """
    quarter = _quarter_parts(period)
    if quarter is not None:
        return f"Q{quarter[1]}", str(quarter[0]) if quarter[1] == 1 else ""
    try:
        day = datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        day = None
    if day is not None:
        return _MONTHS[day.month - 1], str(day.year) if day.month == 1 else ""
    if len(period) == 8 and period[4:6] == "-W" and period[6:].isdigit():
        return period[5:], ""
    if period.lower().startswith("sprint-"):
        return f"S{period[7:]}"[:6], ""
    return period[:7], ""


def _tick_number(value: float) -> str:
    """A tick's number, short enough for the axis margin (``12k``, ``1.5M``)."""
    for size, suffix in ((1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            return f"{format_number(value / (size if suffix == 'M' else 1e3))}{suffix}"
    return format_number(value)


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high - low < 1e-9:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    start, end = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return [round(start + i * step, 10) for i in range(int(round((end - start) / step)) + 1)]


def _domain(points: Sequence[ChartPoint], target: ChartTarget | None) -> list[float]:
    values = [p.value for p in points if p.value is not None]
    if target is not None:
        values += [v for v in (target.low, target.high) if v is not None]
    low, high = min(values), max(values)
    if 0 <= low <= high / 2:
        low = 0.0  # near zero anyway: an axis from zero reads honestly
    return _ticks(low, high)


def build_chart(points: Sequence[ChartPoint], *, title: str, unit: str,
                target: ChartTarget | None = None, width: int = 440,
                height: int = 200) -> str:
    """An ``<svg>`` line chart of a series.

    Args:
        points: oldest first (see :func:`build_points`); partial points come last.
        title: accessible title (the indicator and scope).
        unit: the values' unit, printed on the value axis.
        target: the target line(s), or None.
        width: pixels.
        height: pixels.

    Returns:
        SVG markup, or a short text marker when no point has a value.
    """
    if not any(p.value is not None for p in points):
        return '<p class="empty">no values yet</p>'
    ticks = _domain(points, target)
    low, high = ticks[0], ticks[-1]
    left, top = _MARGIN["left"], _MARGIN["top"]
    plot_w = width - left - _MARGIN["right"]
    plot_h = height - top - _MARGIN["bottom"]
    slot = plot_w / len(points)

    def x_of(i: int) -> float:
        return left + (i + 0.5) * slot

    def y_of(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'data-points="{len(points)}"><title>{_text(title)}</title>']
    parts += _partial_slots(points, x_of, slot, top, plot_h)
    parts += _axes(ticks, unit, y_of, left, plot_w)
    if target is not None:
        parts += _target(target, unit, y_of, left, plot_w, top, plot_h)
    parts += _lines(points, x_of, y_of)
    parts += _labels(points, x_of, top + plot_h, slot)
    parts += _dots(points, x_of, y_of, unit, top + plot_h)
    parts.append("</svg>")
    return "".join(parts)


def _axes(ticks: list[float], unit: str, y_of: Any, left: float, plot_w: float) -> list[str]:
    out = []
    short = unit == "%" or len(unit) <= 3
    for tick in ticks:
        y = y_of(tick)
        number = _tick_number(tick)
        label = (f"{number}%" if unit == "%" else f"{number} {unit}".strip()) if short \
            else number
        out.append(f'<line class="grid" x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/><text class="tick" x="{left - 6}" y="{y + 3.5:.1f}" '
                   f'text-anchor="end">{_text(label)}</text>')
    if not short:
        out.append(f'<text class="unit" x="{left - 6}" y="12" text-anchor="end">'
                   f"{_text(unit)}</text>")
    return out


def _target(target: ChartTarget, unit: str, y_of: Any, left: float, plot_w: float,
            top: float, plot_h: float) -> list[str]:
    bottom, right = top + plot_h, left + plot_w

    def clamp(y: float) -> float:  # a bound off the scale is drawn at the edge
        return min(max(y, top), bottom)

    y_low = clamp(y_of(target.low)) if target.low is not None else bottom
    y_high = clamp(y_of(target.high)) if target.high is not None else top
    band = (f'<rect class="target-band" x="{left}" y="{y_high:.1f}" width="{plot_w:.1f}" '
            f'height="{max(y_low - y_high, 0):.1f}"><title>meets the target '
            f"{_text(target.text)}</title></rect>")
    out = [band]
    for bound in (target.low, target.high):
        if bound is None:
            continue
        y = clamp(y_of(bound))
        out.append(f'<line class="target" x1="{left}" x2="{right:.1f}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"><title>target {_text(target.text)}</title></line>')
    label_y = (y_low if target.low is not None else y_high) - 4
    text = f"target {target.text}".strip() if target.text else "target"
    out.append(f'<text class="target-label" x="{right - 2:.1f}" y="{max(label_y, top + 9):.1f}" '
               f'text-anchor="end">{_text(text)}</text>')
    return out


def _partial_slots(points: Sequence[ChartPoint], x_of: Any, slot: float, top: float,
                   plot_h: float) -> list[str]:
    out = []
    for i, point in enumerate(points):
        if point.partial:
            out.append(f'<rect class="partial-slot" x="{x_of(i) - slot / 2:.1f}" y="{top}" '
                       f'width="{slot:.1f}" height="{plot_h:.1f}"/>'
                       f'<text class="partial-label" x="{x_of(i):.1f}" y="{top - 6}" '
                       f'text-anchor="middle">to date</text>')
    return out


def _lines(points: Sequence[ChartPoint], x_of: Any, y_of: Any) -> list[str]:
    out, run = [], []
    last_complete = None
    for i, point in enumerate(points):
        if point.partial:
            continue
        if point.value is None:
            if len(run) > 1:
                out.append(run)
            run = []
            continue
        run.append(f"{x_of(i):.1f},{y_of(point.value):.1f}")
        last_complete = i
    if len(run) > 1:
        out.append(run)
    svg = [f'<polyline class="series" points="{" ".join(r)}"/>' for r in out]
    start = last_complete
    for i, point in enumerate(points):
        if point.partial and point.value is not None:
            if start is not None and points[start].value is not None:
                svg.append(f'<line class="series partial" x1="{x_of(start):.1f}" '
                           f'y1="{y_of(points[start].value):.1f}" x2="{x_of(i):.1f}" '
                           f'y2="{y_of(point.value):.1f}"/>')
    return svg


def _labels(points: Sequence[ChartPoint], x_of: Any, base: float, slot: float) -> list[str]:
    every = max(1, math.ceil(30 / slot))  # a label needs about 30 px
    out = [f'<line class="axis" x1="{x_of(0) - slot / 2:.1f}" '
           f'x2="{x_of(len(points) - 1) + slot / 2:.1f}" y1="{base:.1f}" y2="{base:.1f}"/>']
    last = len(points) - 1
    for i, point in enumerate(points):
        if i % every and i != last and not point.partial:
            continue
        first, second = period_label(point.period)
        if i == 0 and not second and point.period[:4].isdigit():
            second = point.period[:4]
        cls = "period partial" if point.partial else "period"
        out.append(f'<text class="{cls}" x="{x_of(i):.1f}" y="{base + 14:.1f}" '
                   f'text-anchor="middle">{_text(first)}</text>')
        if second:
            out.append(f'<text class="period year" x="{x_of(i):.1f}" y="{base + 26:.1f}" '
                       f'text-anchor="middle">{_text(second)}</text>')
    return out


def _dots(points: Sequence[ChartPoint], x_of: Any, y_of: Any, unit: str,
          base: float) -> list[str]:
    out = []
    for i, point in enumerate(points):
        status = point.status if point.status in STATUS_COLOURS else "no_data"
        label = STATUS_LABELS.get(status, status)
        when = f"{point.period} (to date)" if point.partial else point.period
        if point.value is None:
            out.append(f'<text class="gap" x="{x_of(i):.1f}" y="{base - 4:.1f}" '
                       f'text-anchor="middle"><title>{_text(when)}: no value</title>–</text>')
            continue
        cls = f"pt status-{status}" + (" partial" if point.partial else "")
        colour = STATUS_COLOURS[status]
        fill = "#fff" if point.partial else colour
        tip = f"{when}: {value_label(point.value, unit)} — {label}"
        out.append(f'<circle class="{cls}" cx="{x_of(i):.1f}" cy="{y_of(point.value):.1f}" '
                   f'r="{4.5 if point.partial else 4}" fill="{fill}" stroke="{colour}">'
                   f"<title>{_text(tip)}</title></circle>")
    return out


def partial_periods(result: Any, now: datetime | None) -> set[str]:
    """The periods of a result's series still running at ``now``: the one place that rule lives.

    A history item that carries its own ``partial`` flag needs nothing from here; this covers
    the headline result's period when its end is still ahead of ``now``.
    """
    end = getattr(result, "period_end", None)
    if now is None or not isinstance(end, datetime) or end <= now:
        return set()
    return {str(result.period)}


def build_chart_figure(result: Any, history: Iterable[Any], *, now: datetime | None,
                       anchor: str, caption: str, partial: set[str] | None = None) -> str:
    """A ``<figure>`` holding the chart of one result's series, for a dashboard page.

    Args:
        result: the headline result of the series (unit, target, direction, period).
        history: the series' ``(period, value, status[, partial])`` items, oldest first.
        now: the moment the page describes (a period ending after it is partial).
        anchor: the figure's ``id`` (already safe: letters, digits and hyphens).
        caption: the chart's caption text (escaped here).
        partial: the periods the view marks partial; None derives them from ``now``.

    Returns:
        The figure markup.
    """
    items = list(history or ()) or [(result.period, result.value, result.status)]
    marked = partial if partial is not None else partial_periods(result, now)
    points = build_points(items, partial_periods=marked)
    target = build_target(result)
    svg = build_chart(points, title=caption, unit=str(getattr(result, "unit", "") or ""),
                      target=target)
    complete = sum(1 for p in points if not p.partial)
    if complete:
        note = f"last {complete} complete period{'s' if complete != 1 else ''}"
        note += " + current to date" if any(p.partial for p in points) else ""
    else:
        note = "no complete period yet: current period to date only"
    series = getattr(result, "series_key", "")
    return (f'<figure class="chart-card" id="{_text(anchor)}"'
            f' data-indicator="{_text(getattr(result, "indicator", ""))}"'
            f' data-series="{_text(series)}">'
            f"<figcaption>{_text(caption)}<small>{_text(note)}</small></figcaption>"
            f"{svg}</figure>")


def chart_anchor(series_key: str) -> str:
    """A page-unique, markup-safe ``id`` for a series' chart (a name cannot spell markup)."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in series_key.lower()).split())
    digest = hashlib.sha1(series_key.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
    return f"chart-{slug[-60:].strip('-')}-{digest}"


def build_chart_legend() -> str:
    """One line saying how to read the charts (a filled point, a hollow one, the target)."""
    dot = ('<svg class="key" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
           '<circle cx="7" cy="7" r="{r}" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
           "</svg>")
    line = ('<svg class="key" width="22" height="14" viewBox="0 0 22 14" aria-hidden="true">'
            '<line class="target" x1="1" x2="21" y1="7" y2="7" stroke="#1a7f37" '
            'stroke-width="1.5" stroke-dasharray="6 3"/></svg>')
    met = dot.format(r=4, fill=STATUS_COLOURS["met"], stroke=STATUS_COLOURS["met"])
    partial = dot.format(r=4.5, fill="#fff", stroke=STATUS_COLOURS["met"])
    return (f'<span class="chart-legend">Charts: {met} a complete period, coloured by its '
            f"status · {partial} the current period to date (partial: it decides no "
            f"status) · {line} the target, the side that meets it shaded</span>")
