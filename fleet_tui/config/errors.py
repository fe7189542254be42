"""ConfigError: one line, ``file:line:col: path: message``, for every problem in a fleet.yaml."""

from __future__ import annotations


class ConfigError(Exception):
    def __init__(self, file: str, line: int, col: int, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.path = path
        self.message = message
        where = f"{file}:{line}:{col}" if line else file
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")
