"""Rich text in both of Jira's forms: wiki-markup strings (v2) and ADF documents (v3).

Values are stored as they were written (a string, an ADF ``dict``, or an ADF document
serialised to a string by older write paths) and converted when served: ``/rest/api/3`` on
Cloud always answers ADF, ``/rest/api/2`` always a string; ``renderedFields`` and
``renderedBody`` are HTML.
"""

from __future__ import annotations

import html
import json
from typing import Any


def adf(text: str) -> dict[str, Any]:
    """An ADF document of one paragraph per line."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")]}


def _as_doc(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and value.get("type") == "doc":
        return value
    if isinstance(value, str) and value.startswith('{"'):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) and parsed.get("type") == "doc" else None
    return None


def plain(value: Any) -> str | None:
    """The text of a value (ADF paragraphs joined by newlines)."""
    if value is None:
        return None
    doc = _as_doc(value)
    if doc is None:
        return str(value)

    def text(node: dict[str, Any]) -> str:
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        return "".join(text(c) for c in node.get("content") or [] if isinstance(c, dict))

    return "\n".join(text(block) for block in doc.get("content") or []
                     if isinstance(block, dict))


def for_version(value: Any, v3: bool) -> Any:
    """The value as the API version serves it (ADF on Cloud v3, a string otherwise)."""
    if value is None:
        return None
    if v3:
        return _as_doc(value) or adf(str(value))
    return plain(value)


def to_html(value: Any) -> str | None:
    """The rendered HTML of a value, as ``renderedFields`` carries it."""
    text = plain(value)
    if text is None:
        return None
    paragraphs = [html.escape(p).replace("\n", "<br/>") for p in text.split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs)
