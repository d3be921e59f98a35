"""Owners who left, on the dashboard: the banner of a flagged page and the governance page.

The governance page (``governance.html``) is for the continual improvement manager: every
service and product whose owner is missing, inactive or not found, with its last known
owner, since when, and the acting (fallback) owner (:mod:`fiveo_sync.ownership`), then the
open improvement items per service and product (``docs/improvement.md``). Each view
page of a flagged element carries a banner saying the same, and the portfolio heatmap a
flag on its row. Every value is escaped: a hostile name stays text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_STATES = {"missing": "owner missing", "inactive": "owner inactive",
           "not_found": "owner not found"}


def _text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _person(ident: Any, name: Any) -> str:
    if not ident:
        return "–"
    if name and str(name) != str(ident):
        return f'<span title="{_text(ident)}">{_text(name)}</span> <small>({_text(ident)})</small>'
    return _text(ident)


def flagged_ownership(view: Any) -> Any:
    """The view's :class:`~fiveo_sync.ownership.OwnerState` when flagged, else None."""
    ownership = getattr(view, "ownership", None)
    return ownership if ownership is not None and ownership.flagged else None


def build_owner_flag(view: Any) -> str:
    """A small flag for a heatmap row (``owner inactive``), empty when the owner is active."""
    ownership = flagged_ownership(view)
    if ownership is None:
        return ""
    return (f'<span class="owner-flag" data-owner-state="{_text(ownership.state)}" '
            f'title="{_text(ownership.sentence())}">{_text(_STATES[ownership.state])}</span>')


def build_owner_banner(view: Any) -> str:
    """The banner at the top of a flagged element's page, empty when the owner is active."""
    ownership = flagged_ownership(view)
    if ownership is None:
        return ""
    return (f'<section class="owner-banner" role="alert" data-owner-state='
            f'"{_text(ownership.state)}"><strong>{_text(_STATES[ownership.state].capitalize())}'
            f"</strong>: {_text(ownership.sentence())}. "
            '<a href="governance.html">Governance page →</a></section>')


def build_improvement_section(items: Sequence[Mapping[str, Any]],
                              entries: Sequence[tuple[Any, str]] = ()) -> str:
    """Open improvement items per service and product (``docs/improvement.md``).

    Args:
        items: the open items the last push left (dicts: ``scope_type``, ``scope``,
            ``scope_name``, ``name``, ``indicator``, ``title``, ``since``, ``latest``,
            ``link``, ``platform``).
        entries: ``(view, filename)`` of the view pages, to link each element to its page.
    """
    pages = {(view.kind, view.id): filename for view, filename in entries}
    if not items:
        return ('<section class="o" id="improvements"><h2>Open improvement items</h2>'
                '<p class="empty">No open improvement item: no target has been missed often '
                "enough (improvement.yaml).</p></section>")
    ordered = sorted(items, key=lambda i: (i.get("scope_type") != "service",
                                           str(i.get("scope_name")),
                                           str(i.get("indicator")), str(i.get("key"))))
    rows = []
    for item in ordered:
        page = pages.get((item.get("scope_type"), item.get("scope")))
        element = _text(item.get("scope_name") or item.get("scope"))
        if page:
            element = f'<a href="{_text(page)}">{element}</a>'
        link = str(item.get("link") or "")
        where = "ServiceNow" if item.get("platform") == "servicenow" else "Jira"
        opened = (f'<a href="{_text(link)}">{where}</a>'
                  if link.startswith(("https://", "http://")) else where)
        rows.append(
            f'<tr data-improvement="{_text(item.get("key"))}">'
            f"<td>{_text(item.get('scope_type'))}</td><td>{element}</td>"
            f'<td title="{_text(item.get("indicator"))}">{_text(item.get("name"))}</td>'
            f"<td>{_text(item.get('since'))}</td><td>{_text(item.get('latest'))}</td>"
            f"<td>{_text(item.get('title'))}</td><td>{opened}</td></tr>")
    header = "".join(f"<th>{h}</th>" for h in ("Kind", "Element", "Indicator", "Missed since",
                                                "Latest period", "Item", "Open in"))
    return (f'<section class="o" id="improvements"><h2>Open improvement items'
            f'<span class="tally">{len(rows)} open</span></h2><table><thead><tr>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def build_governance_body(entries: Sequence[tuple[Any, str]], manager: str | None,
                          improvements: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The governance page's ``<main>``: one row per flagged service or product.

    Args:
        entries: ``(view, filename)`` of every view page.
        manager: the continual improvement manager's label (``Name (id)``), or None.
        improvements: the open improvement items, listed after the owners who left; None
            leaves the section out.
    """
    return _ownerless_body(entries, manager) + (
        build_improvement_section(improvements, entries) if improvements is not None else "")


def _ownerless_body(entries: Sequence[tuple[Any, str]], manager: str | None) -> str:
    rows = []
    for view, filename in entries:
        ownership = flagged_ownership(view)
        if ownership is None:
            continue
        since = ownership.since[:10] if ownership.since else "–"
        rows.append(
            f'<tr data-view="{_text(view.id)}" data-owner-state="{_text(ownership.state)}">'
            f"<td>{_text(view.kind)}</td>"
            f'<td><a href="{_text(filename)}">{_text(view.name or view.id)}</a></td>'
            f"<td>{_text(_STATES[ownership.state])}</td>"
            f"<td>{_person(ownership.owner, ownership.owner_name)}</td>"
            f'<td title="{_text(ownership.since or "")}">{_text(since)}</td>'
            f"<td>{_person(ownership.acting_owner, ownership.acting_owner_name)}</td></tr>")
    who = f" Continual improvement manager: {_text(manager)}." if manager else ""
    intro = ("<p class=\"legend\">Services and products whose owner is missing, inactive or "
             "not found in the pulled ServiceNow and Jira data. The acting owner is the "
             "portfolio's <code>governance.fallback_owner</code> until a new owner is named in "
             f"<code>portfolio.yaml</code>.{who}</p>")
    if not rows:
        return (intro + '<section class="o" id="ownerless"><h2>Owners who left</h2>'
                '<p class="empty">Every service and product has an active owner.</p></section>')
    header = "".join(f"<th>{h}</th>" for h in ("Kind", "Element", "State",
                                                "Last known owner", "Since", "Acting owner"))
    return (f'{intro}<section class="o" id="ownerless"><h2>Owners who left'
            f'<span class="tally">{len(rows)} flagged</span></h2><table><thead><tr>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")
