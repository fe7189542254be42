"""The session event log: one JSONL file per session, one writer, group commit, safe reading.

Writing (``EventLogWriter``): a lock file makes the writer the only one; ``append`` assigns
``seq`` (and ``ts`` when the caller left it 0). Chatty events (pane output, status) are
buffered and written + fsynced by a background flusher within ``flush_interval`` (<= 200 ms);
every other event is written and fsynced, together with anything buffered before it, before
``append`` returns. Reopening a log repairs a torn tail and continues its ``seq``.

Reading (``LogReader`` / ``read_log``): streams the file in blocks decoded with
``Decoder.decode_lines`` (falling back to line by line only for a block that fails). A torn last
line is cut off and kept in ``events.jsonl.broken`` with a warning; records of unknown types are
kept as ``UnknownEvent``; a corrupt line in the middle raises ``CorruptLogError`` naming
``file:line`` unless ``skip_corrupt`` is set.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import msgspec

from fleet_tui.adapters.paths import make_private_dirs
from fleet_tui.core.events import EVENTS_BY_TYPE, AnyEvent, Event, LogHeader, UnknownEvent

FILE_MODE = 0o600
BLOCK_SIZE = 4 << 20
#: Buffered chatty bytes past this are written out at once (fsync still waits for the flusher).
WRITE_THRESHOLD = 1 << 20


class EventLogError(Exception):
    """A problem with an event log that the user should see as one line."""


class LogLockedError(EventLogError):
    pass


class CorruptLogError(EventLogError):
    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: corrupt event record: {reason} (use --skip-corrupt to skip it)")
        self.path = path
        self.line = line


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def broken_path(path: Path) -> Path:
    return path.with_name(path.name + ".broken")


def is_being_written(path: Path) -> bool:
    """True when a live writer holds the log's lock."""
    try:
        fd = os.open(lock_path(path), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _append_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_tail(path: Path) -> int:
    """Cut a torn last line off ``path`` (keeping its bytes in ``.broken``); return its size."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return 0
        pos = size
        while pos > 0:
            step = min(65536, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                pos = pos - step + nl + 1
                break
            pos -= step
        if pos == size:
            return 0
        f.seek(pos)
        torn = f.read()
    _append_private(broken_path(path), torn + b"\n")
    os.truncate(path, pos)
    return len(torn)


class _SeqOnly(msgspec.Struct):
    seq: int = 0


def _last_seq(path: Path) -> int:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read()
    for line in reversed(tail.splitlines()):
        if line.strip():
            try:
                return msgspec.json.decode(line, type=_SeqOnly).seq
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
    return 0


class EventLogWriter:
    """The one writer of a session log. Thread-safe; see the module docstring for durability."""

    def __init__(self, path: Path, *, flush_interval: float = 0.1,
                 clock: Callable[[], float] = time.time) -> None:
        if not 0 < flush_interval <= 0.2:
            raise ValueError("flush_interval must be within (0, 0.2] seconds")
        self.path = Path(path)
        self._clock = clock
        self._flush_interval = flush_interval
        self._encoder = msgspec.json.Encoder()
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._dirty = False  # bytes written or buffered since the last fsync
        self._closed = False
        make_private_dirs(self.path.parent)
        self._lock_fd = self._take_lock()
        try:
            existed = self.path.exists() and self.path.stat().st_size > 0
            self.repaired_bytes = repair_tail(self.path) if existed else 0
            self._seq = _last_seq(self.path) if existed else 0
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self.is_new = not existed
        self._wake = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="eventlog-flush", daemon=True)
        self._flusher.start()

    def _take_lock(self) -> int:
        path = lock_path(self.path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LogLockedError(
                f"{self.path}: another fleet-tui (pid {holder}) is writing this log"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    @property
    def last_seq(self) -> int:
        return self._seq

    def append(self, event: Event) -> Event:
        """Give ``event`` its seq (and ts if unset) and log it. Returns the same event.
        Non-chatty events are on disk (fsynced) when this returns."""
        with self._lock:
            self._check_open()
            self._seq += 1
            event.seq = self._seq
            if not event.ts:
                event.ts = self._clock()
            self._encoder.encode_into(event, self._buf, -1)
            self._buf.extend(b"\n")
            if type(event).chatty:
                self._dirty = True
                if len(self._buf) >= WRITE_THRESHOLD:
                    self._write_buffer()
            else:
                self._write_buffer()
                os.fsync(self._fd)
                self._dirty = False
        return event

    def append_many(self, events: Iterable[Event]) -> None:
        """Append several events at once; fsynced before return if any is not chatty."""
        durable = False
        with self._lock:
            self._check_open()
            now = self._clock()
            encode_into, buf = self._encoder.encode_into, self._buf
            for event in events:
                self._seq += 1
                event.seq = self._seq
                if not event.ts:
                    event.ts = now
                encode_into(event, buf, -1)
                buf.extend(b"\n")
                durable = durable or not type(event).chatty
            self._dirty = True
            if durable:
                self._write_buffer()
                os.fsync(self._fd)
                self._dirty = False
            elif len(buf) >= WRITE_THRESHOLD:
                self._write_buffer()

    def flush(self) -> None:
        """Write and fsync everything appended so far."""
        with self._lock:
            if not self._closed:
                self._sync()

    def _check_open(self) -> None:
        if self._closed:
            raise EventLogError(f"{self.path}: log is closed")

    def _write_buffer(self) -> None:
        view = memoryview(self._buf)
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        view.release()
        self._buf.clear()

    def _sync(self) -> None:
        if self._buf:
            self._write_buffer()
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False

    def _flush_loop(self) -> None:
        while not self._wake.wait(self._flush_interval):
            with self._lock:
                if self._closed:
                    return
                if self._dirty:
                    self._sync()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._sync()
            self._closed = True
            os.close(self._fd)
            os.close(self._lock_fd)
        self._wake.set()
        self._flusher.join(timeout=1)

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_log(path: Path, header: LogHeader | None = None, **kwargs: object) -> EventLogWriter:
    """Open (or create) a log for writing; a new log starts with ``header``."""
    writer = EventLogWriter(path, **kwargs)  # type: ignore[arg-type]
    if writer.is_new and header is not None:
        writer.append(header)
    return writer


# --- reading ----------------------------------------------------------------------------------

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
        self._decoder = msgspec.json.Decoder(AnyEvent)

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
        try:
            return self._decoder.decode_lines(block)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return self._decode_slowly(block, first_line)

    def _decode_slowly(self, block: bytes, first_line: int) -> list[ReadEvent]:
        out: list[ReadEvent] = []
        decode = self._decoder.decode
        for offset, line in enumerate(block.split(b"\n")):
            if not line.strip():
                continue
            try:
                out.append(decode(line))
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
