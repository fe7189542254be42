"""Finding and loading fleet.yaml, with every problem reported as ``file:line:col: path: message``.

``find_config`` applies the search order (``--config``, ``$FLEET_CONFIG``, ``./fleet.yaml``,
the XDG config dir); ``load_config`` parses the YAML keeping positions, converts it to the
schema's Structs with msgspec, turns msgspec's messages into plain ones positioned at the
offending key or value, then runs the checks the schema cannot express (``checks.py``).
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import msgspec
import yaml

from fleet_tui.config.checks import check_config
from fleet_tui.config.errors import ConfigError
from fleet_tui.config.schema import FleetConfig
from fleet_tui.config.yamlpos import Positions, YamlProblem, load_with_positions

CONFIG_NAME = "fleet.yaml"


class LoadedConfig(msgspec.Struct):
    config: FleetConfig
    path: Path
    base_dir: Path


def find_config(explicit: str | None = None) -> Path:
    """The config to use: ``explicit``, else $FLEET_CONFIG, ./fleet.yaml, the XDG config dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FLEET_CONFIG")
    if env:
        return Path(env)
    local = Path(CONFIG_NAME)
    if local.is_file():
        return local
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = xdg / "fleet-tui" / CONFIG_NAME
    if user.is_file():
        return user
    raise ConfigError(CONFIG_NAME, 0, 0, "",
                      f"no fleet.yaml found (looked at ./{CONFIG_NAME} and {user}); "
                      "create one with `fleet-tui init`")


def load_config(path: Path | str) -> LoadedConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), 0, 0, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), 0, 0, "", f"cannot read it: {exc}") from None
    config = load_config_text(text, str(path))
    absolute = path.resolve()
    return LoadedConfig(config=config, path=absolute, base_dir=absolute.parent)


def load_config_text(text: str, filename: str = CONFIG_NAME) -> FleetConfig:
    try:
        data, pos = load_with_positions(text)
    except YamlProblem as p:
        raise ConfigError(filename, p.line, p.col, _dotted(p.path), p.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"{exc.problem} ({exc.context})" if exc.context else str(exc.problem)
        raise ConfigError(filename, line, col, "", f"YAML syntax error: {message}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(filename, 0, 0, "", f"YAML syntax error: {exc}") from None
    if data is None:
        raise ConfigError(filename, 1, 1, "", "the file is empty; it needs at least `fleet: NAME`")
    if not isinstance(data, dict):
        raise ConfigError(filename, 1, 1, "",
                          f"expected a mapping at the top (fleet:, agents:, ...), got {_kind(data)}")
    try:
        config = msgspec.convert(data, FleetConfig)
    except msgspec.ValidationError as exc:
        raise _friendly(exc, data, pos, filename) from None
    problem = check_config(config, data)
    if problem is not None:
        at, message, on_key = problem
        line, col = pos.key(at) if on_key else pos.value(at)
        raise ConfigError(filename, line, col, _dotted(at), message)
    return config


# --- turning msgspec's messages into plain ones ------------------------------------------------

_MSG = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_PART = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _parse_path(text: str) -> list[str | int]:
    return [name or (int(idx) if idx != "..." else "...")
            for name, idx in _PART.findall(text or "")]


def _dotted(path: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else type(value).__name__


def _describe(tp: Any) -> str:
    """Plain English for a schema type: ``list[str]`` -> ``a list of strings``."""
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        if all(a in (int, float) for a in args):
            return "a number"
        if set(args) == {int, float, str}:
            return "a duration (seconds, or like 90s, 10m, 1h)"
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of: " + ", ".join(str(a) for a in typing.get_args(tp))
    if origin is list:
        inner = _describe(args[0])
        plural = {"a string": "strings", "an integer": "integers", "a number": "numbers"}
        return f"a list of {plural.get(inner, inner.removeprefix('a ').removeprefix('an ') + 's')}"
    if origin is dict:
        return f"a mapping of strings to {_describe(args[1]).removeprefix('a ')}s"
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return "a mapping"
    simple = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return simple.get(tp, getattr(tp, "__name__", str(tp)))


def _fields(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.encode_name: f.type for f in msgspec.structs.fields(struct)}


def _unwrap(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return tp


def _type_at(path: list[str | int]) -> Any:
    tp: Any = FleetConfig
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            tp = _fields(tp).get(str(part))
        elif typing.get_origin(tp) in (list, dict):
            tp = typing.get_args(tp)[-1]
        if tp is None:
            return None
    return tp


def _value_at(data: Any, path: list[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


def _resolve_ellipsis(path: list[str | int], data: Any, expected: str) -> list[str | int]:
    """msgspec says ``env[...]`` for a bad dict value: find which key it was."""
    if "..." not in path:
        return path
    i = path.index("...")
    mapping = _value_at(data, path[:i])
    for key, value in mapping.items():
        if not isinstance(value, str) or expected != "str":
            return [*path[:i], key, *path[i + 1:]]
    return path[:i]


def _friendly(exc: msgspec.ValidationError, data: Any, pos: Positions, filename: str) -> ConfigError:
    m = _MSG.match(str(exc))
    assert m is not None
    msg, path = m["msg"], _parse_path(m["path"] or "")
    if key_in := re.match(r"(.*) - at `key` in `\$([^`]*)`", str(exc)):
        at = _parse_path(key_in[2])
        line, col = pos.value(tuple(at))
        return ConfigError(filename, line, col, _dotted(at),
                           "keys must be strings (YAML reads yes/no/on/off as true/false: quote them)")
    if found := re.match(r"Object contains unknown field `(.+)`", msg):
        field = found[1]
        struct = _unwrap(_type_at(path))
        known = list(_fields(struct)) if isinstance(struct, type) else []
        close = difflib.get_close_matches(field, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (expected one of: {', '.join(known)})"
        at = (*path, field)
        return ConfigError(filename, *pos.key(at), _dotted(at), f"unknown field '{field}'{hint}")
    if found := re.match(r"Object missing required field `(.+)`", msg):
        line, col = pos.value(tuple(path))
        return ConfigError(filename, line, col, _dotted(path) or "top level",
                           f"missing required field '{found[1]}'")
    if found := re.match(r"Expected `(.+?)`, got `(.+?)`", msg):
        path = _resolve_ellipsis(path, data, found[1])
        expected = _describe(_type_at(path)) if _type_at(path) is not None else found[1]
        got = _kind(_value_at(data, path)) if "..." not in path else found[2]
        line, col = pos.value(tuple(path))
        return ConfigError(filename, line, col, _dotted(path), f"expected {expected}, got {got}")
    if re.match(r"Invalid enum value", msg):
        line, col = pos.value(tuple(path))
        return ConfigError(filename, line, col, _dotted(path),
                           f"expected {_describe(_type_at(path))}, got {_value_at(data, path)!r}")
    line, col = pos.value(tuple(path))
    return ConfigError(filename, line, col, _dotted(path), msg[:1].lower() + msg[1:])
