"""ConfigError: one line, ``file:line:col: path: message``, for every problem in a fleet.yaml.

``file`` is the name as the user gave it (relative stays relative). ``line``/``col`` are 1-based,
0 when the problem has no place in the file (unreadable, not found); ``path`` is the dotted path
into the YAML (``agents[2].command``), empty for the file as a whole. Empty parts are left out.
"""

from __future__ import annotations


class ConfigError(Exception):
    def __init__(self, file: str, line: int, col: int, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.path = path
        self.message = message
        where = f"{file}:{line}:{col}" if line else file
        super().__init__(": ".join(part for part in (where, path, message) if part))
