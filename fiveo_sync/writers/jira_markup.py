"""Rich text for the Jira scorecard: ADF (Cloud, REST v3) or wiki markup (Data Center, v2).

jira-api.md §6: REST v3 takes Atlassian Document Format, REST v2 a wiki-markup string. Text
taken from results and the portfolio (names, scopes, targets) is escaped so that names like
``<script>`` or ``|*_{`` appear as text: in wiki markup every formatting character is
backslash-escaped, a backslash itself becomes an entity (two backslashes would be a line break), and
line breaks are folded (a newline ends a table row); in ADF text nodes carry text literally,
so only control characters are removed and empty text becomes an empty paragraph (empty
``text`` nodes are rejected).

A status reads as Jira shows one, a coloured lozenge: the ADF ``status`` inline node
(``attrs.text``, ``attrs.color`` one of neutral, purple, blue, red, yellow, green) and, in
wiki markup, bold capitals in the same colour (``{color:#FF5630}*MISSED*{color}``, what
Atlassian's own ADF-to-wiki conversion gives a status).

A link (an evidence link the writer built) is written only when its target is a plain
``http(s)`` URL of URL-safe characters (:func:`safe_href`): anything else — a character that
would end a wiki link or start markup, another scheme — makes the cell its label alone,
never a link with a cut or altered target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fiveo_sync.evidence_links import LONG_URL_CHARS

# Jira rejects a description over 32,767 characters (an ADF document counted as its JSON):
# when one would not fit, the longest links become plain text first (a link at most this
# long is kept, in turn).
MAX_DESCRIPTION_CHARS = 32_000
LINK_BUDGETS = (LONG_URL_CHARS, 1000, 500, 250, 0)

# Characters that start wiki-markup effects: bold, italic, tables, macros, links, lists...
_WIKI_SPECIAL = frozenset("*_?-+^~|{}[]!#")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a link target may hold: http(s), then unreserved characters, percent escapes and the
# delimiters a list or search URL needs. No | [ ] { } ! * ^ ~ + space, quote or angle bracket.
_SAFE_HREF = re.compile(r"https?://[A-Za-z0-9\-._:/?#@=&%,;]+")

_LOZENGE_HEX = {"neutral": "#97A0AF", "purple": "#6554C0", "blue": "#00B8D9",
                "red": "#FF5630", "yellow": "#FF991F", "green": "#36B37E"}


@dataclass(frozen=True)
class Lozenge:
    """A status cell: short text on a colour (``neutral`` when the colour is unknown).

    Attributes:
        text: e.g. ``met``, ``at risk`` (Jira shows lozenges in capitals).
        color: one of neutral, purple, blue, red, yellow, green.
    """

    text: str
    color: str = "neutral"


# A cell is text, ``(text, href)`` for a link (evidence links in the scorecard), or a
# status lozenge.
Cell = str | tuple[str, str] | Lozenge
Rows = Sequence[Sequence[Cell]]


def document_size(document: Any) -> int:
    """A description's size as Jira counts it: the wiki text, or the ADF document's JSON."""
    return len(document) if isinstance(document, str) else len(json.dumps(document))


def escape_wiki(text: str) -> str:
    """Text safe to place anywhere in Jira wiki markup, including a table cell."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    out = []
    for char in flat:
        if char == "\\":
            out.append("&#92;")
        elif char in _WIKI_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def clean_text(text: str) -> str:
    """Text safe for an ADF text node: control characters folded to single spaces."""
    text = str(text)
    if not text.isprintable():  # printable text holds no control character to replace
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


# -- ADF ---------------------------------------------------------------------------------

def _adf_paragraph(text: str) -> dict[str, Any]:
    cleaned = clean_text(text)
    if not cleaned:
        return {"type": "paragraph", "content": []}
    return {"type": "paragraph", "content": [{"type": "text", "text": cleaned}]}


def _adf_cell(cell: Cell) -> dict[str, Any]:
    if isinstance(cell, Lozenge):
        color = cell.color if cell.color in _LOZENGE_HEX else "neutral"
        return {"type": "paragraph", "content": [
            {"type": "status", "attrs": {"text": clean_text(cell.text).upper() or "-",
                                         "color": color}}]}
    if isinstance(cell, tuple):
        href = safe_href(cell[1])
        if href is None:
            return _adf_paragraph(cell[0])
        return {"type": "paragraph", "content": [
            {"type": "text", "text": clean_text(cell[0]) or href,
             "marks": [{"type": "link", "attrs": {"href": href}}]}]}
    return _adf_paragraph(cell)


def safe_href(href: str) -> str | None:
    """The link target if it is a plain http(s) URL of URL-safe characters, else None.

    The writer builds its links from configured instance URLs and percent-encoded ids; a
    target failing this check is not repaired (a changed URL would select other records).
    """
    text = str(href)
    return text if _SAFE_HREF.fullmatch(text) else None


def _adf_row(cells: Sequence[Cell], cell_type: str) -> dict[str, Any]:
    return {"type": "tableRow",
            "content": [{"type": cell_type, "content": [_adf_cell(c)]} for c in cells]}


def build_adf_document(intro: str, sections: Sequence[tuple[str, Rows]],
                       header: Sequence[str]) -> dict[str, Any]:
    """An ADF document: an intro paragraph, then a heading and a table per section.

    Args:
        intro: the opening sentence.
        sections: ``(heading, rows)`` pairs; each row has one string per header column.
        header: the table's column titles.

    Returns:
        The ADF ``doc`` node.
    """
    content: list[dict[str, Any]] = [_adf_paragraph(intro)]
    for heading, rows in sections:
        content.append({"type": "heading", "attrs": {"level": 3},
                        "content": [{"type": "text", "text": clean_text(heading) or "-"}]})
        content.append({
            "type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": [_adf_row(header, "tableHeader")]
            + [_adf_row(row, "tableCell") for row in rows]})
    return {"type": "doc", "version": 1, "content": content}


def build_adf_list(intro: str, items: Sequence[str]) -> dict[str, Any]:
    """An ADF document with a paragraph and a bullet list (used for comments)."""
    bullets = [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in items]
    content: list[dict[str, Any]] = [_adf_paragraph(intro)]
    if bullets:
        content.append({"type": "bulletList", "content": bullets})
    return {"type": "doc", "version": 1, "content": content}


# -- wiki markup -------------------------------------------------------------------------

def _wiki_cell(cell: Cell) -> str:
    if isinstance(cell, Lozenge):
        hex_colour = _LOZENGE_HEX.get(cell.color, _LOZENGE_HEX["neutral"])
        text = escape_wiki(cell.text.upper()) or escape_wiki("-")
        return f"{{color:{hex_colour}}}*{text}*{{color}}"
    if isinstance(cell, tuple):
        href = safe_href(cell[1])
        if href is None:
            return escape_wiki(cell[0]) or "\u00a0"
        label = escape_wiki(cell[0])
        return f"[{label}|{href}]" if label else f"[{href}]"
    # An empty cell collapses the table row; a non-breaking space keeps it.
    return escape_wiki(cell) or "\u00a0"


def build_wiki_document(intro: str, sections: Sequence[tuple[str, Rows]],
                        header: Sequence[str]) -> str:
    """The same document as :func:`build_adf_document`, as a wiki-markup string."""
    lines = [escape_wiki(intro)]
    for heading, rows in sections:
        lines.append("")
        lines.append(f"h3. {escape_wiki(heading)}")
        lines.append("||" + "||".join(_wiki_cell(h) for h in header) + "||")
        lines.extend("|" + "|".join(_wiki_cell(c) for c in row) + "|" for row in rows)
    return "\n".join(lines) + "\n"


def build_wiki_list(intro: str, items: Sequence[str]) -> str:
    """A paragraph and a bullet list as wiki markup (used for comments)."""
    lines = [escape_wiki(intro)] + [f"* {escape_wiki(item)}" for item in items]
    return "\n".join(lines) + "\n"
