"""Reading a session event log (written by ``eventlog.py``): streams the file in blocks, safely.

``LogReader`` / ``read_log`` decode blocks of whole lines (``line_blocks``) with
``Decoder.decode_lines``, falling back to line by line only for a block that fails. A torn last
line is cut off and kept in ``events.jsonl.broken`` with a warning (``eventlog.repair_tail``;
not while a live writer holds the log's lock: it is mid-line, not torn); records of unknown types
are kept as ``UnknownEvent``; a corrupt line in the middle raises ``CorruptLogError`` naming
``file:line`` unless ``skip_corrupt`` is set. A schema-2 log's compact records are read back as
events (``output_records.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec

from fleet_tui.adapters.eventlog import EventLogError, broken_path, is_being_written, repair_tail
from fleet_tui.adapters.output_records import LINE_TYPE, as_event, as_events, compact_log, restore_esc
from fleet_tui.core.events import EVENTS_BY_TYPE, Event, UnknownEvent

BLOCK_SIZE = 4 << 20


class CorruptLogError(EventLogError):
    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: corrupt event record: {reason} (use --skip-corrupt to skip it)")
        self.path = path
        self.line = line


ReadEvent = Event | UnknownEvent


def line_blocks(path: Path, block_size: int = BLOCK_SIZE) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(block, rest)``: blocks of whole lines (ending in a newline) read from ``path``,
    and, with the last block, whatever follows the final newline (``b""`` when nothing)."""
    rest = b""
    with open(path, "rb") as f:
        while chunk := f.read(block_size):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut], b""
    if rest:
        yield b"", rest


class _TypeOnly(msgspec.Struct):
    type: str
    seq: int = 0
    ts: float = 0.0


class LogReader:
    """Streams a log's events in blocks. ``warnings`` collects one-line notices as it reads."""

    def __init__(self, path: Path, *, skip_corrupt: bool = False, repair: bool = True,
                 block_size: int = BLOCK_SIZE) -> None:
        self.path = Path(path)
        self.skip_corrupt = skip_corrupt
        self.repair = repair
        self.block_size = block_size
        self.warnings: list[str] = []
        self.unknown = 0
        self.skipped = 0
        self._decoder = msgspec.json.Decoder(LINE_TYPE)
        self._compact = compact_log(self.path)

    def blocks(self) -> Iterator[list[ReadEvent]]:
        if not self.path.exists():
            raise EventLogError(f"{self.path}: no such event log")
        line_no = 0  # lines before the current block
        for block, rest in line_blocks(self.path, self.block_size):
            if block:
                yield self._decode_block(block, line_no)
                line_no += block.count(b"\n")
            elif rest.strip():
                self._torn_tail(rest, line_no + 1)

    def _decode_block(self, block: bytes, first_line: int) -> list[ReadEvent]:
        if self._compact:
            block = restore_esc(block)
        try:
            return as_events(self._decoder.decode_lines(block))
        except (msgspec.DecodeError, msgspec.ValidationError):
            return self._decode_slowly(block, first_line)

    def _decode_slowly(self, block: bytes, first_line: int) -> list[ReadEvent]:
        out: list[ReadEvent] = []
        decode = self._decoder.decode
        for offset, line in enumerate(block.split(b"\n")):
            if not line.strip():
                continue
            try:
                out.append(as_event(decode(line)))
                continue
            except msgspec.ValidationError as exc:
                unknown = self._unknown(line)
                if unknown is not None:
                    out.append(unknown)
                    continue
                reason = str(exc)
            except msgspec.DecodeError as exc:
                reason = str(exc)
            self._corrupt(first_line + offset + 1, reason)
        return out

    def _unknown(self, line: bytes) -> UnknownEvent | None:
        try:
            head = msgspec.json.decode(line, type=_TypeOnly)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if head.type in EVENTS_BY_TYPE:
            return None
        self.unknown += 1
        return UnknownEvent(type_name=head.type, seq=head.seq, ts=head.ts, raw=line)

    def _corrupt(self, line: int, reason: str) -> None:
        if not self.skip_corrupt:
            raise CorruptLogError(self.path, line, reason)
        self.skipped += 1
        self.warnings.append(f"{self.path}:{line}: skipped corrupt event record: {reason}")

    def _torn_tail(self, rest: bytes, line: int) -> None:
        if is_being_written(self.path):
            return  # a live writer is mid-line: not torn, just not finished
        if self.repair:
            repair_tail(self.path)
            kept = f", kept in {broken_path(self.path).name}"
        else:
            kept = ""
        self.warnings.append(
            f"{self.path}:{line}: torn last line ({len(rest)} bytes) cut off{kept}"
        )

    def __iter__(self) -> Iterator[ReadEvent]:
        for block in self.blocks():
            yield from block


def read_log(path: Path, *, skip_corrupt: bool = False, repair: bool = True
             ) -> tuple[list[ReadEvent], list[str]]:
    """All events of a log, and the warnings met reading it."""
    reader = LogReader(path, skip_corrupt=skip_corrupt, repair=repair)
    events: list[ReadEvent] = []
    for block in reader.blocks():
        events.extend(block)
    return events, reader.warnings
