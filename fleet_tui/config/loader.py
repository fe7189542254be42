"""Finding and loading fleet.yaml, with every problem reported as ``file:line:col: path: message``.

``find_config`` applies the search order (``--config``, ``$FLEET_CONFIG``, ``./fleet.yaml``,
the XDG config dir); ``load_config`` reads the text within the limits (``source.py``,
``limits.py``), parses the YAML keeping positions (``yamlpos.py``),
converts it to the schema's Structs with msgspec, turns msgspec's messages into plain ones
positioned at the offending key or value, then runs the checks the schema cannot express
(``checks.py``). Only the first problem is reported.

msgspec's messages look like ``Expected `array`, got `str` - at `$.agents[2].command```;
the expected type is described from the schema's type hints along that path rather than from
the message, so it reads ``expected a list of strings, got a string``.
"""

from __future__ import annotations

import datetime
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
from fleet_tui.config.limits import MAX_DEPTH
from fleet_tui.config.schema import FleetConfig
from fleet_tui.config.source import check_text, read_text
from fleet_tui.config.yamlpos import Positions, YamlProblem, load_with_positions

CONFIG_NAME = "fleet.yaml"

DataPath = list[str | int]


class LoadedConfig(msgspec.Struct):
    config: FleetConfig
    #: Absolute path of the file.
    path: Path
    #: Its folder: relative ``cwd`` values are taken from here.
    base_dir: Path


def _user_config() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "fleet-tui" / CONFIG_NAME


def find_config(explicit: str | None = None) -> Path:
    """The config to use: ``explicit``, else $FLEET_CONFIG, ./fleet.yaml, the XDG config dir.

    An explicit or $FLEET_CONFIG path is returned as given (``load_config`` reports it if it is
    missing); the other two are used only if they exist.
    """
    chosen = explicit or os.environ.get("FLEET_CONFIG")
    if chosen:
        return Path(chosen)
    candidates = [Path(CONFIG_NAME), _user_config()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(f"./{c}" if not c.is_absolute() else str(c) for c in candidates)
    raise ConfigError("", 0, 0, "",
                      f"no fleet.yaml found: looked at {looked}; create one with `fleet-tui init`")


def load_config(path: Path | str) -> LoadedConfig:
    path = Path(path)
    config = load_config_text(read_text(path), str(path))
    absolute = path.resolve()
    return LoadedConfig(config=config, path=absolute, base_dir=absolute.parent)


def load_config_text(text: str, filename: str = CONFIG_NAME) -> FleetConfig:
    """Parse and check fleet.yaml text; ``filename`` is only used in error messages."""
    check_text(text, filename)
    data, pos = _parse(text, filename)
    if data is None:
        raise ConfigError(filename, 1, 1, "", "the file is empty; it needs at least `fleet: NAME`")
    if not isinstance(data, dict):
        raise ConfigError(filename, 1, 1, "",
                          f"expected a mapping at the top (fleet:, agents:, ...), got {_kind(data)}")
    try:
        config = msgspec.convert(data, FleetConfig)
    except msgspec.ValidationError as exc:
        raise _friendly(str(exc), data, pos, filename) from None
    problem = check_config(config)
    if problem is not None:
        at, message, on_key = problem
        line, col = pos.key(at) if on_key else pos.value(at)
        raise ConfigError(filename, line, col, _dotted(at), message)
    return config


def load_yaml_file(path: Path | str) -> Any:
    """The data of any other YAML file fleet-tui reads (theme files), within the same limits;
    a ConfigError for every problem."""
    return _parse(read_text(path), str(path))[0]


def _parse(text: str, filename: str) -> tuple[Any, Positions]:
    try:
        return load_with_positions(text)
    except YamlProblem as p:
        raise ConfigError(filename, p.line, p.col, _dotted(p.path), p.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = _yaml_message(exc, _char_at(text, line, col))
        raise ConfigError(filename, line, col, "", f"YAML syntax error: {message}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(filename, 0, 0, "", f"YAML syntax error: {exc}") from None


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.splitlines()
    return lines[line - 1][col - 1:col] if 0 < line <= len(lines) else ""


def _yaml_message(exc: yaml.MarkedYAMLError, at: str) -> str:
    """The parser's message; ``at`` is the character it points at."""
    problem = str(exc.problem or "").removeprefix("but ")
    if at == "\t" or "tab character" in problem:
        return "a tab character; YAML is indented with spaces"
    if "maximum nesting depth" in problem:  # libyaml's own limit, for flow collections
        return f"nested more than {MAX_DEPTH} levels deep"
    if "duplicate anchor" in str(exc.context) and exc.context_mark is not None:
        return f"an anchor defined again (first at line {exc.context_mark.line + 1})"
    return f"{problem} ({exc.context})" if exc.context else problem


# --- turning msgspec's messages into plain ones ------------------------------------------------

_MSG = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_PART = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _parse_path(text: str) -> DataPath:
    return [name or (int(idx) if idx != "..." else "...") for name, idx in _PART.findall(text)]


def _dotted(path: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _kind(value: Any) -> str:
    """Plain English for what the user wrote: ``"a string"``, ``"a list"``..."""
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "true/false"), (str, "a string"), (int, "a number"), (float, "a decimal number"),
        (list, "a list"), (dict, "a mapping"), ((datetime.date, datetime.datetime), "a date"),
        (type(None), "nothing"),
    ]
    return next((text for kind, text in kinds if isinstance(value, kind)), type(value).__name__)


def _got(value: Any, tp: Any) -> str:
    """What the user wrote: the word itself for a bad choice (``got 'gpt'``), else its kind."""
    if isinstance(value, str) and typing.get_origin(_unwrap(tp)) is typing.Literal:
        return repr(value)
    if _unwrap(tp) is str and isinstance(value, bool | int | float | datetime.date):
        return f"{_kind(value)} (put it in quotes)"
    return _kind(value)


def _plural(description: str) -> str:
    """``"a string"`` -> ``"strings"``, ``"a mapping"`` -> ``"mappings"``."""
    noun = description.removeprefix("a ").removeprefix("an ")
    return noun if noun.endswith("s") else f"{noun}s"


def _describe(tp: Any) -> str:
    """Plain English for a schema type: ``list[str]`` -> ``a list of strings``."""
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        if set(args) == {int, float, str}:
            return "a duration (seconds, or like 90s, 10m, 1h)"
        if set(args) == {int, float}:
            return "a number"
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin is list:
        return f"a list of {_plural(_describe(args[0]))}"
    if origin is dict:
        return f"a mapping of {_plural(_describe(args[0]))} to {_plural(_describe(args[1]))}"
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return "a mapping"
    simple = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return simple.get(tp, getattr(tp, "__name__", str(tp)))


def _fields(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.encode_name: f.type for f in msgspec.structs.fields(struct)}


def _unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return tp


def _type_at(path: DataPath) -> Any:
    """The schema type at a path of the data, or None if the path leaves the schema."""
    tp: Any = FleetConfig
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            tp = _fields(tp).get(str(part))
        elif typing.get_origin(tp) in (list, dict):
            tp = typing.get_args(tp)[-1]
        else:
            return None
        if tp is None:
            return None
    return tp


def _value_at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _resolve_ellipsis(path: DataPath, data: Any) -> DataPath:
    """msgspec says ``env[...]`` for a bad mapping value: find the key whose value is wrong."""
    i = path.index("...")
    value_type = _type_at(path[: i + 1])
    for key, value in _value_at(data, path[:i]).items():
        try:
            msgspec.convert(value, value_type)
        except msgspec.ValidationError:
            return [*path[:i], key, *path[i + 1:]]
    return path[:i]


def _friendly(text: str, data: Any, pos: Positions, filename: str) -> ConfigError:
    m = _MSG.match(text)
    assert m is not None  # the pattern matches any text
    msg, path = m["msg"], _parse_path(m["path"] or "")
    if "..." in path:
        path = _resolve_ellipsis(path, data)
    if found := re.match(r"Object contains unknown field `(.+)`", msg):
        return _unknown_field(found[1], path, pos, filename)
    if found := re.match(r"Object missing required field `(.+)`", msg):
        line, col = pos.value(tuple(path))
        return ConfigError(filename, line, col, _dotted(path) or "top level",
                           f"missing required field '{found[1]}'")
    line, col = pos.value(tuple(path))
    if msg.startswith(("Expected `", "Invalid enum value")) and (tp := _type_at(path)) is not None:
        got = _got(_value_at(data, path), tp)
        return ConfigError(filename, line, col, _dotted(path), f"expected {_describe(tp)}, got {got}")
    return ConfigError(filename, line, col, _dotted(path), msg[:1].lower() + msg[1:])


def _unknown_field(field: str, path: DataPath, pos: Positions, filename: str) -> ConfigError:
    struct = _unwrap(_type_at(path))
    known = list(_fields(struct))
    close = difflib.get_close_matches(field, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(known)}"
    at = (*path, field)
    return ConfigError(filename, *pos.key(at), _dotted(at), f"unknown field '{field}' ({hint})")
