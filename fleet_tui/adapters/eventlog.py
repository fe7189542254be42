"""The session event log: one JSONL file per session, one writer, group commit.

Writing (``EventLogWriter``): a lock file makes the writer the only one; ``append`` assigns
``seq`` (and ``ts`` when the caller left it 0). Chatty events (pane output, status) are
buffered and written + fsynced by a background flusher within ``flush_interval`` (<= 200 ms);
every other event is written and fsynced, together with anything buffered before it, before
``append`` returns. Reopening a log repairs a torn tail and continues its ``seq``. An event that
would not read back (a NaN number, a lone surrogate: see ``readback.py``) is refused with
``EventRefused`` and nothing of it is written.

When a write fails (disk full, I/O error) the file is cut back to the end of its last whole
record, so no partial record is ever followed by another; the unwritten events stay in memory,
``problem`` says what is wrong (``on_problem`` is told on the flusher thread) and the flusher
tries again every ``RETRY_INTERVAL`` until it can write, then clears ``problem``. Meanwhile
chatty events past ``max_pending`` buffered bytes are dropped (counted in ``dropped``, left with
seq 0); every other event is kept, however many.

A new log is of schema 2: pane output as compact records, DEL standing for ESC
(``output_records.py``); one that began in schema 1 is written and read as before.

Also owned here, for writer and readers alike: the errors (``EventLogError``), the lock file
(``lock_path``, ``is_being_written``) and the torn-tail repair (``repair_tail``, the cut bytes
kept in ``.broken``). Reading (``LogReader`` / ``read_log``) is ``eventlog_read.py``'s.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

from fleet_tui.adapters.output_records import RECORD, as_event, compact_log
from fleet_tui.adapters.paths import make_private_dirs
from fleet_tui.adapters.readback import ReadBack, UnreadableEvent
from fleet_tui.core.events import Event, LogHeader

FILE_MODE = 0o600
#: Buffered chatty bytes past this are written out at once (fsync still waits for the flusher).
WRITE_THRESHOLD = 1 << 20
#: While the log cannot be written, chatty events past this many buffered bytes are dropped.
MAX_PENDING = 64 << 20
#: Seconds between attempts to write again after a write failed.
RETRY_INTERVAL = 0.5

#: Told the writer's ``problem`` each time it changes (None when it cleared).
OnProblem = Callable[[str | None], None]


class EventLogError(Exception):
    """A problem with an event log that the user should see as one line."""


class LogLockedError(EventLogError):
    pass


class EventRefused(EventLogError):
    """An event that would not read back from the log; nothing of it was written."""


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
                head = msgspec.json.decode(line, type=_SeqOnly | RECORD)
                return as_event(head).seq  # type: ignore[arg-type]
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
    return 0


class EventLogWriter:
    """The one writer of a session log. Thread-safe; see the module docstring for durability
    and for what happens when the disk is full."""

    def __init__(self, path: Path, *, flush_interval: float = 0.1,
                 clock: Callable[[], float] = time.time, max_pending: int = MAX_PENDING,
                 on_problem: OnProblem | None = None) -> None:
        if not 0 < flush_interval <= 0.2:
            raise ValueError("flush_interval must be within (0, 0.2] seconds")
        self.path = Path(path)
        self._clock = clock
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        #: Called on the flusher thread with ``problem`` each time it changes (None: cleared).
        self.on_problem = on_problem
        #: Why the log cannot be written now (e.g. the disk is full), or None.
        self.problem: str | None = None
        #: Chatty events dropped (not logged, seq 0) while the log could not be written.
        self.dropped = 0
        self._announced: str | None = None
        self._readback = ReadBack(compact=compact_log(self.path))
        self._buf = bytearray()  # whole records not written yet
        self._unsynced = False  # records written since the last successful fsync
        #: Events appended but not yet on disk (fsynced).
        self.pending = 0
        self._retry_at = 0.0
        self._lock = threading.Lock()
        self._closed = False
        make_private_dirs(self.path.parent)
        self._lock_fd = self._take_lock()
        try:
            existed = self.path.exists() and self.path.stat().st_size > 0
            self.repaired_bytes = repair_tail(self.path) if existed else 0
            self._seq = _last_seq(self.path) if existed else 0
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            self._end = os.fstat(self._fd).st_size  # the end of the last whole record written
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._must_truncate = False
        self.is_new = not existed
        self._stop = threading.Event()
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
        Non-chatty events are on disk (fsynced) when this returns, unless ``problem`` says the
        log cannot be written: then they are kept in memory until it can. Raises
        ``EventRefused`` for an event that would not read back."""
        with self._lock:
            if self._closed:
                self._check_open()
            chatty = type(event).chatty
            if not self._add(event, chatty):
                return event
            if not chatty:
                self._sync_when_due()
            elif len(self._buf) >= WRITE_THRESHOLD and self.problem is None:
                self._write_out()
        return event

    def append_many(self, events: Iterable[Event]) -> None:
        """Append several events at once; fsynced before return if any is not chatty.
        A refused event raises ``EventRefused`` after the ones before it are logged."""
        durable = False
        with self._lock:
            self._check_open()
            now = self._clock()
            try:
                for event in events:
                    chatty = type(event).chatty
                    if not event.ts:
                        event.ts = now
                    self._add(event, chatty)
                    durable = durable or not chatty
            finally:
                if durable:
                    self._sync_when_due()
                elif len(self._buf) >= WRITE_THRESHOLD and self.problem is None:
                    self._write_out()

    def _add(self, event: Event, chatty: bool) -> bool:
        """Encode ``event`` into the buffer with the next seq; False when it is dropped."""
        if chatty and self.problem is not None and len(self._buf) >= self._max_pending:
            self.dropped += 1
            return False
        if not event.ts:
            event.ts = self._clock()
        event.seq = self._seq + 1
        try:
            self._readback.encode_into(event, self._buf)
        except UnreadableEvent as exc:
            event.seq = 0
            raise EventRefused(f"{self.path}: refused a {event.type_name} event: {exc}") from None
        self._buf.extend(b"\n")
        self._seq += 1
        self.pending += 1
        return True

    def flush(self) -> bool:
        """Write and fsync everything appended so far; False if the log cannot be written."""
        with self._lock:
            return self._closed or self._sync()

    def _check_open(self) -> None:
        if self._closed:
            raise EventLogError(f"{self.path}: log is closed")

    def _sync_when_due(self) -> None:
        if self.problem is None or time.monotonic() >= self._retry_at:
            self._sync()

    def _write_out(self) -> bool:
        """Write the buffered records; on failure cut the file back to its last whole record
        and keep them all in memory."""
        if not self._buf:
            return True
        try:
            if self._must_truncate:
                os.ftruncate(self._fd, self._end)
                self._must_truncate = False
            with memoryview(self._buf) as view:
                written = 0
                while written < len(view):
                    written += os.write(self._fd, view[written:])
        except OSError as exc:
            self._failed(exc)
            return False
        self._end += len(self._buf)
        self._buf.clear()
        self._unsynced = True
        return True

    def _sync(self) -> bool:
        if not self._write_out():
            return False
        if self._unsynced:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._failed(exc)  # the records are whole: fsync is tried again later
                return False
            self._unsynced = False
        self.pending = 0
        self.problem = None
        return True

    def _failed(self, exc: OSError) -> None:
        try:
            os.ftruncate(self._fd, self._end)
        except OSError:
            self._must_truncate = True  # before anything else is written
        self._retry_at = time.monotonic() + RETRY_INTERVAL
        if self.problem is None:
            what = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else \
                exc.strerror or type(exc).__name__
            self.problem = (f"{what}: cannot write {self.path}; events are kept in memory and "
                            "written when it can be written again")

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._flush_interval):
            with self._lock:
                if self._closed:
                    return
                self._sync_when_due()
            self._announce()

    def _announce(self) -> None:
        problem = self.problem
        if problem == self._announced:
            return
        self._announced = problem
        if self.on_problem is not None:
            with contextlib.suppress(Exception):  # the flusher must outlive a failing listener
                self.on_problem(problem)

    def close(self) -> None:
        """Write what is left and close. Events that still cannot be written are lost:
        ``pending`` says how many."""
        with self._lock:
            if self._closed:
                return
            self._sync()
            self._closed = True
            os.close(self._fd)
            os.close(self._lock_fd)
        self._stop.set()
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
