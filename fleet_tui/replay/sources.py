"""Where a replay's events come from: a list in memory, or the log file read back by the byte
offsets the index keeps.

``OffsetReader`` is the ``LogReader`` the index is built with: it also says where each event's
line starts, and can skip what an earlier scan already indexed; so a torn tail, unknown types and
corrupt lines are handled (and warned about) exactly as the log reader does everywhere else.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Protocol

from fleet_tui.adapters.eventlog import EventLogError
from fleet_tui.adapters.eventlog_read import LogReader, ReadEvent

#: Bytes read and decoded at a time while indexing: small blocks keep few events alive at once,
#: which makes the garbage collector's passes cheap (measured: 4 MiB blocks cost 60% more CPU).
SCAN_BLOCK = 1 << 18


class EventSource(Protocol):
    def read(self, start: int, stop: int) -> list[ReadEvent]:
        """Events ``start`` to ``stop - 1``."""
        ...

    def close(self) -> None: ...


class ListSource:
    """Events already in memory."""

    def __init__(self, events: Sequence[ReadEvent]) -> None:
        self.events = events

    def read(self, start: int, stop: int) -> list[ReadEvent]:
        return list(self.events[start:stop])

    def close(self) -> None:
        """Nothing to close."""


class OffsetReader(LogReader):
    """A LogReader that notes where each event's line starts (``starts``, for the last block)
    and decodes only what lies past byte ``start``; ``decode`` reads a span of whole lines.
    It never writes: a torn tail is reported and left where it is (replay only reads)."""

    def __init__(self, path: Path, *, start: int = 0, skip_corrupt: bool = False) -> None:
        super().__init__(path, skip_corrupt=skip_corrupt, repair=False, block_size=SCAN_BLOCK)
        self.start = start
        self.pos = 0  # the end of the blocks seen so far
        self.starts: list[int] = []
        #: The warning about a torn last line ("" when the log ends with a whole line).
        self.torn = ""
        self._corrupt_lines: set[int] = set()

    def _decode_block(self, block: bytes, first_line: int) -> list[ReadEvent]:
        pos, self.pos = self.pos, self.pos + len(block)
        if self.pos <= self.start:
            self.starts = []
            return []
        if pos < self.start:
            first_line += block.count(b"\n", 0, self.start - pos)
            block, pos = block[self.start - pos:], self.start
        events = super()._decode_block(block, first_line)
        lines = block.split(b"\n")
        lines.pop()
        starts = list(accumulate([len(line) + 1 for line in lines], initial=pos))
        if len(events) != len(lines):  # blank lines, or corrupt ones that were skipped
            starts = [s for n, (s, line) in enumerate(zip(starts, lines, strict=False), first_line + 1)
                      if line.strip() and n not in self._corrupt_lines]
        self.starts = starts[: len(events)]
        return events

    def _corrupt(self, line: int, reason: str) -> None:
        super()._corrupt(line, reason)
        self._corrupt_lines.add(line)

    def _torn_tail(self, rest: bytes, line: int) -> None:
        before = len(self.warnings)
        super()._torn_tail(rest, line)
        if len(self.warnings) > before:
            self.torn = self.warnings.pop()

    def decode(self, data: bytes) -> list[ReadEvent]:
        self.warnings.clear()
        self._corrupt_lines.clear()
        return super()._decode_block(data, 0)


class LogSource:
    """Events read back from the log by the byte offsets the index keeps."""

    def __init__(self, path: Path, offsets: array, end: Callable[[], int]) -> None:
        self.path = path
        self.offsets = offsets
        self._end = end
        self._reader = OffsetReader(path, skip_corrupt=True)
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, start: int, stop: int) -> list[ReadEvent]:
        if start >= stop:
            return []
        first = self.offsets[start]
        last = self.offsets[stop] if stop < len(self.offsets) else self._end()
        events = self._reader.decode(os.pread(self._fd, last - first, first))
        if len(events) != stop - start:
            raise EventLogError(f"{self.path}: changed since it was indexed; open it again")
        return events

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
