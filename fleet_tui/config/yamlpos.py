"""YAML to plain data that remembers where every key and value stood.

``load_with_positions(text)`` returns the data and a ``Positions`` map from a path tuple
(e.g. ``("agents", 2, "command")``) to the 1-based (line, col) of that value, and of each key
(``Positions.key``). Duplicate keys in a mapping are an error, unlike in PyYAML's loader.
"""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlProblem(Exception):
    def __init__(self, line: int, col: int, path: Path, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.path, self.message = line, col, path, message


class Positions:
    def __init__(self) -> None:
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}

    def value(self, path: Path) -> tuple[int, int]:
        """Where the value at ``path`` is; falls back to its nearest known parent."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (1, 1))

    def key(self, path: Path) -> tuple[int, int]:
        return self.keys.get(path) or self.value(path)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path, pos: Positions, constructor: yaml.SafeLoader) -> Any:
    pos.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise YamlProblem(*_mark(key_node), path, "a mapping key must be a plain value")
            if key in out:
                raise YamlProblem(*_mark(key_node), (*path, key), f"duplicate key '{key}'")
            pos.keys[(*path, key)] = _mark(key_node)
            out[key] = _build(value_node, (*path, key), pos, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), pos, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Raises ``yaml.YAMLError`` or ``YamlProblem``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        pos = Positions()
        data = None if node is None else _build(node, (), pos, loader)
    finally:
        loader.dispose()
    return data, pos
