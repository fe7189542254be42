"""A tmux control-mode client: one ``tmux -C attach-session`` process and its protocol.

Owns the wire: starting the client process (an argv list, no shell), the reader thread that
splits its stdout into command replies and notifications, and writing commands. It knows
nothing about agents; ``fleet_tui.adapters.monitor`` builds on it.

Protocol facts this relies on (tmux 3.3a, measured and read in ``control.c``):

- every command line gets exactly one ``%begin T N F`` ... ``%end T N F`` (or ``%error``)
  block, in the order the lines were sent; ``F`` is 1 for lines this client sent and 0 for
  the ``attach-session`` itself, whose block comes first. Lines inside a block are reply data
  even when they start with ``%`` (``list-panes`` prints ``%3 ...``);
- notifications never appear inside a block; ``%output %P data`` (``%extended-output %P age
  ... : data`` with the ``pause-after`` flag) carries pane output, octal-escaped;
- several commands joined with `` ; `` on one line stop at the first failing one and give
  fewer blocks, so :meth:`ControlClient.send` writes one command per line (still one write);
- an empty line detaches the client, so empty or multi-line commands are refused;
- commands sent before the attach's own block arrives fail ("no current client"):
  :meth:`ControlClient.start` waits for it.

Threads: :meth:`start` spawns one reader thread per client. ``on_output`` and
``on_notification`` are called on that thread and must be quick (the monitor only notes the
pane id). :meth:`send` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence

#: Notification callbacks: ``on_output(pane_id)`` for ``%output``/``%extended-output``,
#: ``on_notification(line)`` for every other ``%`` line (bytes, without the newline).
OutputCallback = Callable[[str], None]
NotificationCallback = Callable[[bytes], None]
CloseCallback = Callable[[str], None]
#: Bytes the reader asks for per read of the client's stdout.
READ_BUFFER = 1 << 16


class ControlError(Exception):
    """The control client could not start, or its connection is gone."""


class Reply:
    """The reply to one command: ``ok`` (``%end``) or not (``%error``), and its lines."""

    __slots__ = ("_event", "command", "lines", "ok")

    def __init__(self, command: str) -> None:
        self.command = command
        self.lines: list[bytes] = []
        self.ok = False
        self._event = threading.Event()

    @property
    def done(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the reply; False on timeout. A lost connection completes it with ok=False."""
        return self._event.wait(timeout)

    def text(self) -> list[str]:
        return [line.decode("utf-8", "replace") for line in self.lines]

    def error(self) -> str:
        return b" ".join(self.lines).decode("utf-8", "replace") or "connection lost"

    def _finish(self, ok: bool) -> None:
        self.ok = ok
        self._event.set()


def decode_output(data: bytes) -> bytes:
    """Undo the ``\\ooo`` octal escaping of ``%output`` data (the monitor never needs it)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == 0x5C and i + 4 <= n and data[i + 1:i + 4].isdigit():
            out.append(int(data[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(c)
            i += 1
    return bytes(out)


def quote(arg: str) -> str:
    """Quote one argument for a tmux command line (single quotes; tmux has no escapes in
    them, so a single quote is written as ``'\\''``)."""
    if "\n" in arg or "\r" in arg:
        raise ValueError("tmux command arguments cannot contain newlines")
    if arg and all(ch.isalnum() or ch in "%@$_-.:/=,+" for ch in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


class ControlClient:
    """One control-mode connection to the tmux server on ``socket_name``.

    ``flags`` go to ``attach-session -f`` (``ignore-size`` keeps this client out of window
    sizing; ``pause-after`` switches on per-pane flow control, see ``monitor.py``). ``wrap``
    turns the client's argv into the one to run (over SSH: ``SshLink.remote_argv``).
    """

    def __init__(
        self,
        socket_name: str,
        target: str,
        *,
        on_output: OutputCallback,
        on_notification: NotificationCallback,
        on_close: CloseCallback,
        flags: Sequence[str] = ("ignore-size",),
        tmux: str = "tmux",
        wrap: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self.socket_name = socket_name
        self.wrap = wrap
        self.target = target
        self.flags = tuple(flags)
        self.tmux = tmux
        self._on_output = on_output
        self._on_notification = on_notification
        self._on_close = on_close
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._pending: deque[Reply] = deque()
        self._write_lock = threading.Lock()
        self._attached = threading.Event()
        self._attach_ok = False
        self._attach_error = ""
        self._closed = False
        self.exit_reason = ""

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self._closed

    def argv(self) -> list[str]:
        argv = [self.tmux, "-L", self.socket_name, "-C", "attach-session"]
        if self.flags:
            argv += ["-f", ",".join(self.flags)]
        argv = [*argv, "-t", self.target]
        return self.wrap(argv) if self.wrap is not None else argv

    def start(self, timeout: float = 5.0) -> None:
        """Start the client and wait for the attach's own reply. Raises ControlError."""
        env = dict(os.environ)
        env.pop("TMUX", None)  # attaching from inside tmux is refused otherwise
        self._proc = subprocess.Popen(
            self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, bufsize=0, close_fds=True,
        )
        self._reader = threading.Thread(target=self._read_loop, name="fleet-tmux-control",
                                        daemon=True)
        self._reader.start()
        if not self._attached.wait(timeout):
            self.close()
            raise ControlError("tmux control client did not attach in time")
        if not self._attach_ok:
            err = self._attach_error or self.exit_reason
            self.close()
            raise ControlError(f"tmux control client could not attach: {err or 'no server'}")

    def close(self, timeout: float = 2.0) -> None:
        """Detach (closing stdin detaches cleanly) and reap the process."""
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    # --- commands --------------------------------------------------------------------------

    def send(self, commands: Sequence[str]) -> list[Reply]:
        """Send commands, one per line, in a single write; return their replies in order.

        Never sends an empty line (that would detach). If the connection is gone the replies
        come back already finished with ok=False."""
        replies = [Reply(c) for c in commands]
        if not replies:
            return replies
        for c in commands:
            if not c.strip() or "\n" in c or "\r" in c:
                raise ValueError(f"bad control-mode command: {c!r}")
        data = ("\n".join(commands) + "\n").encode()
        with self._write_lock:
            proc = self._proc
            if self._closed or proc is None or proc.stdin is None:
                for r in replies:
                    r._finish(False)
                return replies
            self._pending.extend(replies)
            # On failure the reader thread sees EOF and fails every pending reply.
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.write(data)
        return replies

    def run(self, command: str, timeout: float = 5.0) -> Reply:
        """Send one command and wait for its reply."""
        reply = self.send([command])[0]
        reply.wait(timeout)
        return reply

    # --- reader thread ---------------------------------------------------------------------

    def _read_loop(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        # bufsize=0 makes stdout a raw FileIO, whose readline reads one byte per system call:
        # a 100-pane capture batch (~300 KB) cost ~40 % of a core in reads alone.
        readline = io.BufferedReader(proc.stdout, READ_BUFFER).readline  # type: ignore[arg-type]
        on_output = self._on_output
        on_notification = self._on_notification
        pending = self._pending
        block: list[bytes] | None = None
        block_tail = b""
        block_ours = False
        try:
            while True:
                line = readline()
                if not line:
                    break
                if block is not None:
                    # Inside a reply: everything is data until the matching guard.
                    if line[:5] == b"%end " or line[:7] == b"%error ":
                        ok = line[:5] == b"%end "
                        tail = line[5:] if ok else line[7:]
                        if tail.rstrip(b"\r\n") == block_tail:
                            if block_ours and pending:
                                reply = pending.popleft()
                                reply.lines = block
                                reply._finish(ok)
                            elif not self._attached.is_set():
                                self._attach_ok = ok
                                self._attach_error = b" ".join(block).decode("utf-8", "replace")
                                self._attached.set()
                            block = None
                            continue
                    block.append(line[:-1] if line[-1:] == b"\n" else line)
                    continue
                if line[:8] == b"%output ":
                    end = line.find(b" ", 8)
                    on_output(line[8:end].decode("ascii", "replace"))
                elif line[:17] == b"%extended-output ":
                    end = line.find(b" ", 17)
                    on_output(line[17:end].decode("ascii", "replace"))
                elif line[:7] == b"%begin ":
                    block = []
                    block_tail = line[7:].rstrip(b"\r\n")
                    block_ours = block_tail.endswith(b" 1")
                elif line[:5] == b"%exit":
                    self.exit_reason = line[5:].strip().decode("utf-8", "replace")
                    on_notification(line.rstrip(b"\r\n"))
                elif line[:1] == b"%":
                    on_notification(line.rstrip(b"\r\n"))
                # Anything else outside a block (stray text) is ignored.
        except (OSError, ValueError):
            pass
        finally:
            with self._write_lock:
                self._closed = True
                while pending:
                    pending.popleft()._finish(False)
            if not self._attached.is_set():
                if proc.stderr is not None:
                    with contextlib.suppress(OSError, ValueError):
                        self._attach_error = proc.stderr.read().decode("utf-8", "replace").strip()
                self._attached.set()
            self._on_close(self.exit_reason or "connection closed")
