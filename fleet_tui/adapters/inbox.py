"""The session inbox: how agents and hooks hand events to fleet-tui, even while it is down.

``drop_message`` writes one message file atomically (temp file, fsync, rename, fsync of the
folder), so a reader never sees half a message. ``InboxWatcher`` scans the folder at start
(files dropped while fleet-tui was down), then follows it with watchfiles; each file is decoded
and handed to ``on_message``. A file that does not decode, or whose message ``on_message``
rejects (raising ``InboxRejected``), is moved to ``inbox/rejected/`` and reported through
``on_reject``; every other file is removed once handled. Handling happens on the watcher's
thread.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec
import watchfiles

from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected

REJECTED = "rejected"
SUFFIX = ".json"

OnMessage = Callable[[InboxMessage], None]
OnReject = Callable[[Path, str, bool], None]


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


class InboxWatcher:
    def __init__(self, inbox: Path, on_message: OnMessage, on_reject: OnReject) -> None:
        self.inbox = inbox
        self.on_message = on_message
        self.on_reject = on_reject
        self._decoder = msgspec.json.Decoder(InboxMessage)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def scan(self) -> None:
        """Handle every message file present now, oldest first."""
        for path in sorted(self.inbox.glob(f"*{SUFFIX}")):
            self.handle(path)

    def _run(self) -> None:
        self.scan()
        for changes in watchfiles.watch(
            self.inbox, stop_event=self._stop, debounce=5, step=10, recursive=False,
            watch_filter=lambda change, path: path.endswith(SUFFIX)
            and change != watchfiles.Change.deleted,
            raise_interrupt=False,
        ):
            for path in sorted({Path(p) for _, p in changes}):
                self.handle(path)

    def handle(self, path: Path) -> None:
        with self._lock:  # the start-up scan and the watcher may both see a file
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                return  # handled already
            try:
                msg = self._decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                self._reject(path, f"not a valid message: {exc}", False)
                return
            try:
                self.on_message(msg)
            except InboxRejected as exc:
                self._reject(path, exc.reason, exc.security)
                return
            path.unlink(missing_ok=True)

    def _reject(self, path: Path, reason: str, security: bool) -> None:
        rejected = self.inbox / REJECTED
        rejected.mkdir(mode=0o700, exist_ok=True)
        target = rejected / path.name
        os.replace(path, target)
        self.on_reject(target, reason, security)
