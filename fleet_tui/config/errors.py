"""ConfigError: one line, ``file:line:col: path: message``, for every problem in a fleet.yaml.

``file`` is the name as the user gave it (relative stays relative). ``line``/``col`` are 1-based,
0 when the problem has no place in the file (unreadable, not found); ``path`` is the dotted path
into the YAML (``agents[2].command``), empty for the file as a whole. Empty parts are left out.

Each part may quote the file's own text, so each is kept to one safe line: control, line-break
and bidi characters are shown escaped (``\\n``, ``\\x1b``, ``\\u202e``) and a part is cut at
``LONGEST`` characters.
"""

from __future__ import annotations

import re

LONGEST = 1000

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """``text`` escaped to one printable line of at most ``LONGEST`` characters."""
    text = _UNSAFE.sub(lambda m: _escape(m.group()), text[: LONGEST * 4])
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


class ConfigError(Exception):
    def __init__(self, file: str, line: int, col: int, path: str, message: str) -> None:
        self.file = one_line(file)
        self.line = line
        self.col = col
        self.path = one_line(path)
        self.message = one_line(message)
        where = f"{self.file}:{line}:{col}" if line else self.file
        super().__init__(": ".join(part for part in (where, self.path, self.message) if part))
