"""Turning pydantic validation errors into located, admin-readable problems.

Every pydantic error carries a ``loc`` (keys and list indexes, plus the tags of
discriminated unions). This module maps a ``loc`` to the line and column of the YAML node
(:class:`fiveo_sync.yamlfile.YamlDocument`), drops the union-tag segments that are not
keys of the file, and words the message for an admin: unknown keys get a "did you mean".
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from fiveo_sync.errors import Location
from fiveo_sync.yamlfile import YamlDocument

Problem = tuple[Location, str]


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, else `` (expected a, b, …)``."""
    options = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if not options:
        return ""
    shown = ", ".join(options[:8]) + (", …" if len(options) > 8 else "")
    return f" (expected {shown})"


def located_problems(exc: ValidationError, document: YamlDocument,
                     model: type[BaseModel]) -> list[Problem]:
    """One located problem per pydantic error, in file order."""
    problems: list[Problem] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = _data_path(document.data, loc, error["type"])
        message = _message(error, model, loc, path)
        problems.append((document.locate(path), message))
    problems.sort(key=lambda p: (p[0].line, p[0].col))
    return problems


def _data_path(data: Any, loc: tuple[Any, ...], error_type: str) -> tuple[Any, ...]:
    """``loc`` without the segments that are not keys or indexes of the YAML data."""
    path: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif last and error_type == "missing":
            path.append(part)
        # else: a union tag (or a key of a missing parent) — not a place in the file.
    return tuple(path)


def _message(error: dict[str, Any], model: type[BaseModel], loc: tuple[Any, ...],
             path: tuple[Any, ...]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key '{key}'" + suggest(key, _keys_at(model, loc[:-1]))
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if path == ("version",):
        return f"unsupported version {given!r} (expected 1)"
    if kind == "literal_error":
        return f"unknown {given!r} (expected {ctx.get('expected', '')})"
    if kind == "union_tag_invalid":
        return (f"unknown {str(ctx.get('discriminator', 'kind')).strip(chr(39))} "
                f"{ctx.get('tag')!r} "
                f"(expected {ctx.get('expected_tags')})")
    if kind == "union_tag_not_found":
        return f"missing required key {ctx.get('discriminator', '')}".replace("'", "")
    text = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(given, str | int | float | bool) and kind != "value_error":
        return f"{text[:1].lower()}{text[1:]}, got {_short(given)}"
    return f"{text[:1].lower()}{text[1:]}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` of ``model`` (for "did you mean")."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    names: list[str] = []
    for member in _members(current):
        if isinstance(member, type) and issubclass(member, BaseModel):
            names += [f.alias or name for name, f in member.model_fields.items()]
    return names


def _members(tp: Any) -> list[Any]:
    """The concrete types of ``tp``: unwraps Annotated, Optional and unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            if arg is not type(None):
                out += _members(arg)
        return out
    return [tp]


def _step(tp: Any, part: Any) -> Any:
    """The type found under key or index ``part`` of ``tp``, or the union member tagged so."""
    members = _members(tp)
    if len(members) > 1:
        for member in members:
            if isinstance(member, type) and issubclass(member, BaseModel):
                if member.__name__ == part or part in _literal_tags(member):
                    return member
    for member in members:
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
            return args[0]
        elif origin is dict and isinstance(part, str) and len(args) == 2:
            return args[1]
    return None


def _literal_tags(model: type[BaseModel]) -> set[Any]:
    tags: set[Any] = set()
    for info in model.model_fields.values():
        if typing.get_origin(info.annotation) is typing.Literal:
            tags.update(typing.get_args(info.annotation))
    return tags
