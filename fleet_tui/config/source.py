"""fleet.yaml's bytes to text: the size limit, UTF-8 and printable characters, before any parsing.

``read_text`` reads at most ``MAX_BYTES + 1`` bytes whatever the file is, and each problem is a
ConfigError at the ``line:col`` of the first byte or character at fault: the first byte past
the limit, the first byte that is not UTF-8, the first NUL or control character. Columns count
characters, as the YAML parser's do.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from fleet_tui.config.errors import ConfigError
from fleet_tui.config.limits import MAX_BYTES

#: What YAML accepts in a stream (PyYAML's reader uses the same set).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[start:offset].decode("utf-8", "replace")) + 1


def read_text(path: Path | str) -> str:
    """The file's text; ConfigError if it is missing, unreadable, too big or not UTF-8 text."""
    filename = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(filename, 0, 0, "", "no such file") from None
    except OSError as exc:
        raise ConfigError(filename, 0, 0, "", f"cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _too_big(filename, *_place(data, MAX_BYTES))
    return decode(data, filename)


def decode(data: bytes, filename: str) -> str:
    if data.startswith(_UTF16_BOMS):
        raise ConfigError(filename, 1, 1, "", "the file is UTF-16: save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(filename, *_place(data, exc.start), "",
                          f"byte 0x{data[exc.start]:02x} is not UTF-8: save the file as UTF-8") from None
    check_text(text, filename)
    return text


def _too_big(filename: str, line: int, col: int) -> ConfigError:
    return ConfigError(filename, line, col, "",
                       f"the file goes on past {MAX_BYTES // 2**20} MB, the most fleet.yaml may hold")


def check_text(text: str, filename: str) -> None:
    """Text given directly: at most ``MAX_BYTES`` characters, and no NUL or control character
    (or lone surrogate) anywhere; each an error at its place."""
    if len(text) > MAX_BYTES:
        raise _too_big(filename, *_text_place(text, MAX_BYTES))
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    char = found.group()
    what = ("a NUL byte (a UTF-16 or binary file? fleet.yaml must be UTF-8 text)" if char == "\0"
            else f"a control character U+{ord(char):04X}: fleet.yaml must be text")
    raise ConfigError(filename, *_text_place(text, found.start()), "", what)


def _text_place(text: str, at: int) -> tuple[int, int]:
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
