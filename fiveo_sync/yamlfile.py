"""Reading YAML safely, with the line and column of every node.

Settings and mapping files are written by admins, so every error must point at a place in
the file. :func:`load_yaml` returns the data together with an index from key paths to
1-based ``(line, col)`` positions. Only plain YAML is accepted: tags such as
``!!python/object`` are refused with a located error, so a file can never execute anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fiveo_sync.errors import Location

PathKey = tuple[str | int, ...]
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:timestamp",
}


# Constructs plain scalars only (tags were checked before); one instance is enough.
_SCALARS = yaml.SafeLoader("")


class YamlProblem(Exception):
    """A file that is not readable, plain YAML; carries its location."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML plus the position of every key and item."""

    file: str
    data: Any
    positions: dict[PathKey, tuple[int, int]]

    def locate(self, path: PathKey) -> Location:
        """The location of ``path``, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            position = self.positions.get(tuple(path[:end]))
            if position is not None:
                return Location(self.file, position[0], position[1], format_path(path))
        return Location(self.file, 1, 1, format_path(path))


def format_path(path: PathKey) -> str:
    """``("indicators", 2, "filter")`` → ``indicators[2].filter``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def display_name(path: Path) -> str:
    """The path relative to the working directory when under it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_yaml(path: Path) -> YamlDocument:
    """Read one YAML file; raise :class:`YamlProblem` with a location on any problem."""
    name = display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlProblem(Location(name, 0, 0), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlProblem(Location(name, 0, 0), f"cannot read file: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(Location(name, line, col), f"YAML syntax error: {problem}") from None
    positions: dict[PathKey, tuple[int, int]] = {}
    if node is None:
        return YamlDocument(name, None, positions)
    data = _build(node, (), positions, name)
    return YamlDocument(name, data, positions)


def _build(node: yaml.Node, path: PathKey, positions: dict[PathKey, tuple[int, int]],
           name: str) -> Any:
    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if node.tag not in _PLAIN_TAGS:
        raise YamlProblem(Location(name, node.start_mark.line + 1, node.start_mark.column + 1,
                                   format_path(path)),
                          f"YAML tag {node.tag!r} is not allowed: only plain values, "
                          "lists and mappings")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path, {}, name)
            if isinstance(key, list | dict):
                raise YamlProblem(Location(name, key_node.start_mark.line + 1,
                                           key_node.start_mark.column + 1, format_path(path)),
                                  "a key must be a plain value")
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                raise YamlProblem(Location(name, *positions[child], format_path(child)),
                                  f"duplicate key {key!r}")
            result[key] = _build(value_node, child, positions, name)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), positions, name) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node)
