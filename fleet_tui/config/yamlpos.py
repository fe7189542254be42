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
- the parser's events (libyaml's when it is installed, ~30x faster than PyYAML's own) are
  first walked once, flat, refusing nesting deeper than ``MAX_DEPTH`` and more than
  ``MAX_NODES`` values counting each alias as the values it stands for (alias bombs), before
  anything is composed (by libyaml's composer, then); a number too long to read, a value that
  does not fit its explicit tag (``!!int x``) and a NUL in a string are errors at their
  place, not exceptions.
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


def _check_shape(loader: yaml.SafeLoader) -> None:
    """One flat pass over the parser's events, before anything is composed: nesting depth, and
    the values the document holds once each alias is expanded (an alias counts the values of
    its anchor; one to an anchor still open, a cycle the builder reports, counts 1). Raises
    YamlProblem at the first value past a limit, or the parser's own error."""
    sizes: dict[str, int] = {}
    #: One per open collection: [first value's count, anchor, is mapping, children, last key].
    frames: list[list[Any]] = []
    total = 0
    get_event = loader.get_event
    while True:
        event = get_event()
        kind = type(event)
        if kind is SequenceEndEvent or kind is MappingEndEvent:
            start, anchor, *_ = frames.pop()
            if anchor is not None:
                sizes[anchor] = total - start
            if frames:
                _advance(frames[-1], "?")
            continue
        if kind is StreamEndEvent:
            return
        if kind not in _NODE_EVENTS:
            continue  # the stream's and documents' starts and ends
        total += sizes.get(event.anchor, 1) if kind is AliasEvent else 1
        if total > MAX_NODES:
            raise _problem(event, frames, f"more than {MAX_NODES} values once aliases are expanded")
        if kind is ScalarEvent or kind is AliasEvent:
            if frames:
                _advance(frames[-1], event.value if kind is ScalarEvent else "?")
            continue
        if len(frames) >= MAX_DEPTH:
            raise _problem(event, frames[:3], f"nested more than {MAX_DEPTH} levels deep")
        frames.append([total, event.anchor, kind is MappingStartEvent, 0, None])


_NODE_EVENTS = (ScalarEvent, AliasEvent, SequenceStartEvent, MappingStartEvent)


def _advance(frame: list[Any], key: str) -> None:
    """A child of ``frame`` is done; in a mapping, every other one is a key."""
    if frame[2] and frame[3] % 2 == 0:
        frame[4] = key
    frame[3] += 1


def _problem(event: Any, frames: list[list[Any]], message: str) -> YamlProblem:
    """At ``event``, with the path the open ``frames`` lead to."""
    path: list[str | int] = []
    for _, _, is_mapping, children, key in frames:
        if not is_mapping:
            path.append(children)
        elif children % 2:
            path.append(key)
    mark = event.start_mark
    return YamlProblem(mark.line + 1, mark.column + 1, tuple(path), message)


#: libyaml's parser when PyYAML was built with it; the same events, ~30x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Raises ``yaml.YAMLError`` or ``YamlProblem``."""
    shape = _Loader(text)
    try:
        _check_shape(shape)
    finally:
        shape.dispose()
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(loader)
        data = None if node is None else builder.build(node, ())
    finally:
        loader.dispose()
    return data, builder.pos
