"""An owner's page by characteristic and by ITIL dimension.

The five O sections of a view page group its series by O; this section regroups the
element's own headline series (its scope, breakdown ``all``) by what they tell —
availability, security, satisfaction … — and by ITIL dimension, each group with its most
telling status and its indicators linked to their charts. The portfolio heatmap's cells link
here (``#c-availability``, ``#d-partners_and_suppliers``). Text is escaped here.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fiveo_sync.element_status import cell_status, group_of, group_order
from fiveo_sync.report.chart import chart_anchor
from fiveo_sync.report.portfolio import group_anchor, group_label, headline_items, item_status


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _indicator_link(item: Any) -> str:
    result = getattr(item, "lead", item)
    anchor = chart_anchor(getattr(item, "series_key", result.series_key))
    status = item_status(item)
    return (f'<a class="status-{_text(status)}" href="#{_text(anchor)}" '
            f'title="{_text(status.replace("_", " "))}">{_text(result.name or result.indicator)}'
            "</a>")


def _table(grouping: str, caption: str, items: list[Any]) -> str:
    present = {group_of(getattr(i, "lead", i), grouping) for i in items}
    rows = []
    for group in group_order(grouping, present):
        members = [i for i in items if group_of(getattr(i, "lead", i), grouping) == group]
        if not members:
            continue
        worst, _ = cell_status(item_status(i) for i in members)
        links = ", ".join(_indicator_link(i) for i in members)
        rows.append(f'<tr id="{_text(group_anchor(grouping, group))}" '
                    f'data-group="{_text(group)}"><th scope="row">{_text(group_label(group))}'
                    f'</th><td><span class="badge status-{_text(worst)}">'
                    f"{_text(worst.replace('_', ' '))}</span></td><td>{links}</td></tr>")
    return (f"<table class=\"groups\" data-grouping=\"{grouping}\"><thead><tr>"
            f"<th>{_text(caption)}</th><th>Status</th><th>Indicators</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def build_group_section(view: Any) -> str:
    """The page's "by characteristic and ITIL dimension" section ("" with no own series)."""
    items = headline_items(view)
    if not items:
        return ""
    return ('<section class="o" id="groups"><h2>By characteristic and ITIL dimension'
            '<span class="tally">headline series at their last complete period</span></h2>'
            + _table("characteristic", "Characteristic", items)
            + _table("dimension", "ITIL dimension", items) + "</section>")
