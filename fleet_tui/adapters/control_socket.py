"""The daemon's control socket: where it is, how requests and replies travel, who is asking.

A Unix stream socket in the session folder (``sessions/<id>/control.sock``, mode 0600). Each
connection carries one request and one reply, each a single line of msgspec JSON: a
``Request`` names an operation and its arguments, a ``Reply`` is ``ok`` with data, or a
one-line ``error``. The peer's pid and uid come from the kernel (``SO_PEERCRED``), so the
daemon knows which process asks, not what it claims to be.

Socket paths are limited to 107 bytes; a longer one is reached through the folder's open
descriptor (``/proc/self/fd/N/control.sock``), which is short whatever the folder is.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from fleet_tui.adapters import paths

SOCKET_FILE = "control.sock"
#: The tmux server option naming the fleet's current session (so its socket can be found).
SESSION_OPTION = "@fleet_session"
#: Longest request or reply line read (a zoom's scrollback is the largest reply).
MAX_LINE = 64 << 20
_SUN_PATH_MAX = 100


class Request(msgspec.Struct, kw_only=True, omit_defaults=True):
    op: str
    args: dict[str, Any] = {}
    #: What kind of client asks (``ui``, ``cli``, ``web``): recorded on the events it causes.
    client: str = "cli"


class Reply(msgspec.Struct, kw_only=True, omit_defaults=True):
    ok: bool
    error: str = ""
    data: Any = None


class ControlError(Exception):
    """The socket could not be reached, or the daemon answered with an error (one line)."""


class NoDaemon(ControlError):
    """Nobody listens on the socket: the fleet's daemon is not running."""


class Peer(msgspec.Struct, frozen=True):
    pid: int
    uid: int


_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(Request)
_reply_decoder = msgspec.json.Decoder(Reply)


def control_path(session_id: str) -> Path:
    return paths.session_dir(session_id) / SOCKET_FILE


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A path to ``path`` short enough for ``bind``/``connect``."""
    text = str(path)
    if len(text.encode()) <= _SUN_PATH_MAX:
        yield text
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def peer_of(conn: socket.socket) -> Peer:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return Peer(pid=pid, uid=uid)


def read_line(conn: socket.socket) -> bytes:
    """One newline-terminated message (without the newline); b"" if the peer closed first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return b""
        cut = chunk.find(b"\n")
        if cut >= 0:
            chunks.append(chunk[:cut])
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_LINE:
            raise ControlError("message too long")


def encode(message: Request | Reply) -> bytes:
    return _encoder.encode(message) + b"\n"


def decode_request(line: bytes) -> Request:
    return _request_decoder.decode(line)


def listen(path: Path) -> socket.socket:
    """A listening socket at ``path`` (a stale file from a dead daemon is replaced), 0600."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        with reachable(path) as where:
            sock.bind(where)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock


def call(path: Path, request: Request, timeout: float = 30.0) -> Any:
    """Send one request and return the reply's data; raises ``NoDaemon`` when nobody listens
    and ``ControlError`` with the daemon's one-line message when it refuses."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            with reachable(path) as where:
                sock.connect(where)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NoDaemon("the fleet's daemon is not running") from exc
        sock.sendall(encode(request))
        line = read_line(sock)
    except TimeoutError as exc:
        raise ControlError(f"the daemon did not answer {request.op!r} within {timeout:g}s") from exc
    except OSError as exc:
        raise ControlError(f"control socket: {exc.strerror or exc}") from exc
    finally:
        sock.close()
    if not line:
        raise ControlError(f"the daemon closed the connection during {request.op!r}")
    try:
        reply = _reply_decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise ControlError(f"unreadable reply from the daemon: {exc}") from exc
    if not reply.ok:
        raise ControlError(reply.error or f"{request.op} failed")
    return reply.data
