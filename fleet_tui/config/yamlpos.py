"""YAML to plain data that remembers where every key and value stood.

``load_with_positions(text)`` returns the data and a ``Positions`` map from a path tuple
(e.g. ``("agents", 2, "command")``) to the 1-based (line, col) of that value, and of each key
(``Positions.key``). Unlike PyYAML's loader:

- a duplicate key in a mapping is an error;
- keys are kept as the text written, so ``on:``/``yes:``/``1:`` stay strings (every mapping in
  fleet.yaml has string keys; YAML 1.1 would make them booleans and numbers);
- merge keys (``<<: *base``) work, explicit keys winning, and the merged values keep the
  position of the anchored text they came from;
- an alias inside the node it refers to is an error instead of endless recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

Path = tuple[str | int, ...]

MERGE_TAG = "tag:yaml.org,2002:merge"


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


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.pos = Positions()
        self.active: set[int] = set()

    @contextmanager
    def visiting(self, node: yaml.Node, path: Path) -> Iterator[None]:
        if id(node) in self.active:
            raise YamlProblem(*_mark(node), path, "an alias refers to a node that contains it")
        self.active.add(id(node))
        try:
            yield
        finally:
            self.active.discard(id(node))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.pos.values[path] = _mark(node)
        with self.visiting(node, path):
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        """Merged keys first, so explicit keys override them (and their positions)."""
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in _merge_sources(value_node, path):
                    with self.visiting(source, path):
                        for key, value in self.mapping(source, path).items():
                            merged.setdefault(key, value)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(*_mark(key_node), path, "a mapping key must be a plain value")
            key = key_node.value
            if key in out:
                raise YamlProblem(*_mark(key_node), (*path, key), f"duplicate key '{key}'")
            self.pos.keys[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
        return {**merged, **out}


def _merge_sources(node: yaml.Node, path: Path) -> list[yaml.MappingNode]:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not all(isinstance(item, yaml.MappingNode) for item in items):
        raise YamlProblem(*_mark(node), path, "'<<' needs a mapping or a list of mappings")
    return items


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Raises ``yaml.YAMLError`` or ``YamlProblem``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(loader)
        data = None if node is None else builder.build(node, ())
    finally:
        loader.dispose()
    return data, builder.pos
