"""YAML to plain data that remembers where every key and value stood.

``load_with_positions(text)`` returns the data and a ``Positions`` map from a path tuple
(e.g. ``("agents", 2, "command")``) to the 1-based (line, col) of that value, and of each key
(``Positions.key``). Unlike PyYAML's loader:

- a duplicate key in a mapping is an error;
- keys are kept as the text written, so ``on:``/``yes:``/``1:`` stay strings (every mapping in
  fleet.yaml has string keys; YAML 1.1 would make them booleans and numbers);
- merge keys (``<<: *base``) work, explicit keys winning, and the merged values keep the
  position of the anchored text they came from;
- an alias inside the node it refers to is an error instead of endless recursion;
- the document is composed here from the parser's events (libyaml's when it is installed,
  which is ~30x faster than PyYAML's own), refusing, as soon as they are reached, nesting
  deeper than ``MAX_DEPTH`` and more than ``MAX_NODES`` values counting each alias as the
  values it stands for (alias bombs); a number too long to read, a value that does not fit its
  explicit tag (``!!int x``) and a NUL in a string are errors at their place, not exceptions.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from fleet_tui.config.limits import MAX_DEPTH, MAX_NODES

Path = tuple[str | int, ...]

MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"


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
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        with self.visiting(node, path):
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            value = node.value if node.tag == STR_TAG else self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:  # an unknown tag: reported by the loader
            raise
        except Exception:  # PyYAML's constructors fail in many ways on text that does not
            # fit an explicit tag (``!!timestamp x``, ``!!int x``), and on 4300+ digit integers
            kind = node.tag.rsplit(":", 1)[-1]
            too_long = kind == "int" and len(node.value) > sys.get_int_max_str_digits()
            message = "a number too long to read" if too_long else f"cannot read this as {kind}"
            raise YamlProblem(*_mark(node), path, message) from None
        if isinstance(value, str) and "\0" in value:
            raise YamlProblem(*_mark(node), path, "a NUL character (\\0) in a string") from None
        return value

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


_NODE_KINDS: dict[type, type[yaml.Node]] = {
    ScalarEvent: yaml.ScalarNode, SequenceStartEvent: yaml.SequenceNode,
    MappingStartEvent: yaml.MappingNode,
}


class _Composer:
    """PyYAML's Composer over the parser's events, with the depth and node budget checked."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.anchors: dict[str, yaml.Node] = {}
        #: Values each finished anchored node stands for; an alias to an unfinished one (which
        #: the builder reports as a cycle) counts 1.
        self.sizes: dict[int, int] = {}
        self.total = 0

    def single_document(self) -> yaml.Node | None:
        loader = self.loader
        loader.get_event()  # StreamStartEvent
        node = None
        if not loader.check_event(StreamEndEvent):
            loader.get_event()  # DocumentStartEvent
            node = self.node((), 0)
            loader.get_event()  # DocumentEndEvent
        if not loader.check_event(StreamEndEvent):
            event = loader.get_event()
            raise yaml.composer.ComposerError("expected a single document in the stream", None,
                                              "but found another document", event.start_mark)
        return node

    def count(self, size: int, event: Any, path: Path) -> None:
        self.total += size
        if self.total > MAX_NODES:
            mark = event.start_mark
            raise YamlProblem(mark.line + 1, mark.column + 1, path,
                              f"more than {MAX_NODES} values once aliases are expanded")

    def node(self, path: Path, depth: int) -> yaml.Node:
        event = self.loader.get_event()
        if isinstance(event, AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is None:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                  event.start_mark)
            self.count(self.sizes.get(id(target), 1), event, path)
            return target
        if depth >= MAX_DEPTH:
            raise YamlProblem(event.start_mark.line + 1, event.start_mark.column + 1, path[:3],
                              f"nested more than {MAX_DEPTH} levels deep")
        start = self.total
        self.count(1, event, path)
        node = self.new_node(event)
        if event.anchor is not None:
            if event.anchor in self.anchors:
                raise yaml.composer.ComposerError(
                    f"found duplicate anchor {event.anchor!r}; first occurrence",
                    self.anchors[event.anchor].start_mark, "second occurrence", event.start_mark)
            self.anchors[event.anchor] = node
        if isinstance(node, yaml.SequenceNode):
            while not self.loader.check_event(SequenceEndEvent):
                node.value.append(self.node((*path, len(node.value)), depth + 1))
        elif isinstance(node, yaml.MappingNode):
            while not self.loader.check_event(MappingEndEvent):
                key = self.node(path, depth + 1)
                step = key.value if isinstance(key, yaml.ScalarNode) else "?"
                node.value.append((key, self.node((*path, step), depth + 1)))
        if not isinstance(node, yaml.ScalarNode):
            node.end_mark = self.loader.get_event().end_mark
        self.sizes[id(node)] = self.total - start
        return node

    def new_node(self, event: Any) -> yaml.Node:
        kind = _NODE_KINDS[type(event)]
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, event.value if kind is yaml.ScalarNode else None,
                                      event.implicit)
        if kind is yaml.ScalarNode:
            return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                   style=event.style)
        return kind(tag, [], event.start_mark, None, flow_style=event.flow_style)


#: libyaml's parser when PyYAML was built with it; the same events, ~30x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Raises ``yaml.YAMLError`` or ``YamlProblem``."""
    loader = _Loader(text)
    try:
        node = _Composer(loader).single_document()
        builder = _Builder(loader)
        data = None if node is None else builder.build(node, ())
    finally:
        loader.dispose()
    return data, builder.pos
