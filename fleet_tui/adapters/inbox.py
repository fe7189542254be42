"""The session inbox: how agents and hooks hand events to fleet-tui, even while it is down.

``drop_message`` writes one message file atomically (temp file, fsync, rename, fsync of the
folder), so a reader never sees half a message. ``InboxWatcher`` scans the folder at start
(files dropped while fleet-tui was down), then follows it with watchfiles; each ``*.json`` entry
is handled on the watcher's thread.

Anything can be put in the folder, so a file is opened without following links and without
blocking (``O_NOFOLLOW | O_NONBLOCK``) and read only when ``fstat`` shows a regular file of
at most ``MAX_MESSAGE_BYTES`` with no other hard link. Directories, FIFOs, sockets, devices,
links (dangling or not), oversize files, files that do not decode, messages whose token is not
the named agent's (a security problem, see ``agent_tokens.py``) and messages ``on_message``
refuses (raising ``InboxRejected``) are moved to ``inbox/rejected/`` (removed when they cannot
be moved) and reported through ``on_reject``; every other file is removed once handled.
Nothing stops the watcher: a failure is reported through ``on_error`` (a file whose handling
failed is kept) and watching starts again after ``RETRY_DELAY``; after ``RESCAN_MS`` without
changes the folder is scanned again, so no file is left behind for long.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec
import watchfiles

from fleet_tui.adapters.agent_tokens import AgentTokens
from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected

REJECTED = "rejected"
SUFFIX = ".json"
#: Larger message files are refused unread.
MAX_MESSAGE_BYTES = 64 * 1024
#: Seconds before watching again after the watcher failed.
RETRY_DELAY = 0.5
#: Milliseconds of quiet after which the folder is scanned again: files that came before the
#: watch began, or that an overflowing watch missed, or whose handling failed, are not left.
RESCAN_MS = 1000

OnMessage = Callable[[InboxMessage], None]
OnReject = Callable[[Path, str, bool], None]
OnError = Callable[[str], None]


def new_message_id() -> str:
    return uuid.uuid4().hex


def drop_message(inbox: Path, msg: InboxMessage) -> Path:
    """Write ``msg`` into ``inbox`` atomically; returns the final path."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} does not exist (is the fleet's session gone?)")
    data = msgspec.json.encode(msg)
    final = inbox / f"{time.time_ns()}-{msg.id}{SUFFIX}"
    tmp = inbox / f".tmp-{msg.id}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, final)
    dir_fd = os.open(inbox, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def _loggable(text: str) -> str:
    """``text`` with undecodable bytes (a file name's, kept as lone surrogates) shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link (links are not followed)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_message_file(path: Path) -> bytes | str | None:
    """The bytes of a message file, or why it is refused, or None when it is gone. Never
    follows a link, never blocks, never reads more than ``MAX_MESSAGE_BYTES`` + 1 bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        try:
            return f"is {_kind(os.lstat(path).st_mode)}"
        except FileNotFoundError:
            return None
        except OSError:
            return f"cannot be read: {exc.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return f"is {_kind(st.st_mode)}"
        if st.st_nlink > 1:
            return "has other hard links (messages are single files)"
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_MESSAGE_BYTES and (chunk := os.read(fd, MAX_MESSAGE_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_MESSAGE_BYTES or st.st_size > MAX_MESSAGE_BYTES:
        return f"is {max(size, st.st_size)} bytes or more, over the {MAX_MESSAGE_BYTES}-byte limit"
    return b"".join(chunks)


class InboxWatcher:
    def __init__(self, inbox: Path, on_message: OnMessage, on_reject: OnReject,
                 tokens: AgentTokens, on_error: OnError | None = None) -> None:
        self.inbox = inbox
        self.on_message = on_message
        self.on_reject = on_reject
        self.on_error = on_error
        self.tokens = tokens
        self._decoder = msgspec.json.Decoder(InboxMessage)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_error = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def scan(self) -> None:
        """Handle every message file present now, oldest first."""
        for name in sorted(n for n in os.listdir(self.inbox) if n.endswith(SUFFIX)):
            self.handle(self.inbox / name)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not os.path.lexists(self.inbox):  # removed under us: agents need it back
                    os.mkdir(self.inbox, 0o700)
                self.scan()  # also after a failure: files may have come meanwhile
                for changes in watchfiles.watch(
                    self.inbox, stop_event=self._stop, debounce=5, step=10, recursive=False,
                    watch_filter=lambda change, path: path.endswith(SUFFIX)
                    and change != watchfiles.Change.deleted,
                    raise_interrupt=False, rust_timeout=RESCAN_MS, yield_on_timeout=True,
                ):
                    if not changes:  # quiet for a while: catch what the watch missed
                        self.scan()
                    for path in sorted({Path(p) for _, p in changes}):
                        self.handle(path)
            except Exception as exc:
                self._error(f"inbox {self.inbox}: {type(exc).__name__}: {_loggable(str(exc))}; "
                            "watching again")
            self._stop.wait(RETRY_DELAY)

    def _error(self, message: str) -> None:
        if message != self._last_error and self.on_error is not None:
            self.on_error(message)
        self._last_error = message

    def handle(self, path: Path) -> None:
        """Handle one inbox entry; whatever it is, this returns (failures go to ``on_error``)."""
        with self._lock:  # the start-up scan and the watcher may both see a file
            try:
                self._handle(path)
            except Exception as exc:
                self._error(f"inbox file {_loggable(path.name)} not handled: "
                            f"{type(exc).__name__}: {_loggable(str(exc))}")

    def _handle(self, path: Path) -> None:
        raw = read_message_file(path)
        if raw is None:
            return  # handled already
        if isinstance(raw, str):
            self._reject(path, raw, False)
            return
        try:
            msg = self._decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._reject(path, f"not a valid message: {exc}", False)
            return
        if msg.agent and not self.tokens.matches(msg.agent, msg.token):
            self._reject(path, f"its token is not agent {msg.agent!r}'s: only that agent may speak "
                         "for it", True)
            return
        try:
            self.on_message(msg)
        except InboxRejected as exc:
            self._reject(path, exc.reason, exc.security)
            return
        path.unlink(missing_ok=True)

    def _reject(self, path: Path, reason: str, security: bool) -> None:
        target = self._move_aside(path)
        if target is None:
            self.on_reject(path.with_name(_loggable(path.name)),
                           f"{reason} (removed: it could not be moved to {REJECTED}/)", security)
        else:
            self.on_reject(target, reason, security)

    def _move_aside(self, path: Path) -> Path | None:
        """Move ``path`` into ``rejected/`` (a new name there, never over another); remove it
        when that fails. Returns where it went, or None when removed."""
        rejected = self._rejected_dir()
        name = _loggable(path.name)  # so the error naming it can be logged
        target = rejected / name
        if os.path.lexists(target):
            target = rejected / f"{time.time_ns()}-{name}"
        try:
            os.rename(path, target)
            return target
        except FileNotFoundError:
            raise
        except OSError:
            pass
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return None

    def _rejected_dir(self) -> Path:
        """``inbox/rejected``, made (again) as a real private folder if it is not one."""
        rejected = self.inbox / REJECTED
        try:
            if stat.S_ISDIR(os.lstat(rejected).st_mode):
                return rejected
            os.unlink(rejected)  # a file or link put in its place
        except FileNotFoundError:
            pass
        os.mkdir(rejected, 0o700)
        return rejected
