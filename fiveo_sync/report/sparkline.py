"""Inline SVG sparklines: a result series' history drawn without scripts or external assets."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

STATUS_COLOURS = {"met": "#1a7f37", "at_risk": "#b35900", "missed": "#c62828",
                  "no_data": "#6e7781", "insufficient_data": "#57606a"}


def history_points(history: Iterable[Any]) -> list[tuple[str, float, str]]:
    """``(period, value, status)`` triples with a value, from tuples or dicts, oldest first."""
    points = []
    for item in history or ():
        if isinstance(item, dict):
            period, value, status = item.get("period"), item.get("value"), item.get("status")
        else:
            period, value, status = (tuple(item) + (None, None, None))[:3]
        if value is None:
            continue
        try:
            points.append((str(period), float(value), str(status or "")))
        except (TypeError, ValueError):
            continue
    return points


def build_sparkline(history: Iterable[Any], *, width: int = 120, height: int = 28,
                    label: str = "") -> str:
    """An ``<svg>`` sparkline of a series; the last point is coloured by its status.

    Args:
        history: ``(period, value, status)`` items (or dicts with those keys), oldest first.
        width: pixels.
        height: pixels.
        label: accessible title (escaped here).

    Returns:
        SVG markup, or a short text marker when fewer than two values exist.
    """
    points = history_points(history)
    if len(points) < 2:
        return '<span class="empty">no history</span>'
    values = [p[1] for p in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pad = 3.0
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [(pad + i * step, height - pad - (v - low) / span * (height - 2 * pad))
              for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    colour = STATUS_COLOURS.get(points[-1][2], "#6e7781")
    title = f"{label}: " if label else ""
    title += ", ".join(f"{p} {v:g}" for p, v, _ in points[-12:])
    return (f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>{escape(title)}</title>"
            f'<polyline fill="none" stroke="#57606a" stroke-width="1.5" points="{line}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{colour}"/></svg>')
