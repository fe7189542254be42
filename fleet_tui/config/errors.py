"""ConfigError: one line, ``file:line:col: path: message``, for every problem in a fleet.yaml.

``file`` is the name as the user gave it (relative stays relative). ``line``/``col`` are 1-based,
0 when the problem has no place in the file (unreadable, not found); ``path`` is the dotted path
into the YAML (``agents[2].command``), empty for the file as a whole. Empty parts are left out.

Each part may quote the file's own text, so each is kept to one safe line: every character
Python does not call printable (controls, line breaks, bidi and other format characters) is
shown escaped (``\\n``, ``\\x1b``, ``\\u202e``) and a part is cut at ``LONGEST`` characters.
"""

from __future__ import annotations

LONGEST = 1000


def _escape(char: str) -> str:
    code = ord(char)
    if char.isprintable():
        return char
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def one_line(text: str) -> str:
    """``text`` escaped to one printable line of at most ``LONGEST`` characters."""
    text = text[: LONGEST * 4]
    if not text.isprintable():
        text = "".join(map(_escape, text))
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
