"""Reading what was appended to JSON-lines files, here or on a remote host: the I/O under the
transcript followers (``transcripts.py``), which parse and count the same way wherever the
files are.

An ``Ask`` names files with the byte offset read so far, and folders to look in for
``*.jsonl`` files; ``answer`` reads, for each file, what lies past its offset (from 0 when the
file became shorter: rewritten), at most ``READ_LIMIT`` bytes per file and about
``ANSWER_LIMIT`` in all, and lists the ``*.jsonl`` files under each folder that the ask does not
name, with their first bytes. ``LOCAL`` answers on this machine. ``RemoteFiles`` asks a host:
one SSH round trip over the host's link running ``python -I -m fleet_tui.adapters.remote_files``
there (this module: the ask on stdin, the answer on stdout, both JSON, the bytes in base64;
nothing passes through a shell). It starts on the host at every poll, so that side imports the
standard library only (``json``: msgspec alone would double its start-up); this side decodes
the answer with msgspec into the types below, and checks it (``check``) before it is used.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple, Protocol

#: Most bytes read from one file per poll (the rest waits for the next).
READ_LIMIT = 8 << 20
#: Once an answer carries this many bytes, the files after it wait for the next poll.
ANSWER_LIMIT = 2 * READ_LIMIT
#: Most files listed under one folder.
MAX_FOUND = 256
#: Seconds a host has to answer before the poll gives up (and tries again next time).
REMOTE_TIMEOUT = 10.0
REMOTE_MODULE = "fleet_tui.adapters.remote_files"


class Ask(NamedTuple):
    """``files``: (absolute ``.jsonl`` path, offset read so far); ``scan``: absolute folders."""

    files: list[tuple[str, int]] = []
    scan: list[str] = []


class Chunk(NamedTuple):
    """Bytes of a file from ``start``: the offset asked, or 0 when the file became shorter."""

    start: int
    data: bytes


class Reading(NamedTuple):
    """The answer to an ``Ask``, in its order. ``chunks``: one per file (None: cannot be read
    now, or left for the next poll); ``found``: per folder, the files the ask did not name,
    each with its first chunk (or None)."""

    chunks: list[Chunk | None]
    found: list[dict[str, Chunk | None]]


class Files(Protocol):
    def read(self, ask: Ask) -> Reading | None:
        """The reading, or None when it cannot be had now (a host unreachable)."""
        ...


def merge(asks: list[Ask]) -> Ask:
    """Several followers' asks as one (a host is asked once per poll)."""
    return Ask([f for a in asks for f in a.files], [s for a in asks for s in a.scan])


def split(asks: list[Ask], reading: Reading) -> list[Reading]:
    """The answer to ``merge(asks)``, cut back into one per ask."""
    parts, files, scans = [], 0, 0
    for ask in asks:
        parts.append(Reading(reading.chunks[files:files + len(ask.files)],
                             reading.found[scans:scans + len(ask.scan)]))
        files, scans = files + len(ask.files), scans + len(ask.scan)
    return parts


def _jsonl(path: str) -> bool:
    """An absolute ``.jsonl`` path without ``..`` or ``//`` (what a host may name as found)."""
    return path.startswith("/") and path.endswith(".jsonl") and os.path.normpath(path) == path


def _read(path: str, offset: int, budget: int) -> Chunk | None:
    if budget <= 0 or not (path.startswith("/") and path.endswith(".jsonl")):
        return None
    try:
        size = os.stat(path).st_size
        start = offset if 0 <= offset <= size else 0
        if size == start:
            return Chunk(start, b"")
        with open(path, "rb") as f:
            f.seek(start)
            return Chunk(start, f.read(min(size - start, READ_LIMIT)))
    except OSError:
        return None  # not written yet, or gone


def _under(folder: str) -> list[str]:
    if not folder.startswith("/"):
        return []
    return sorted(os.path.join(top, name) for top, _dirs, names in os.walk(folder)  # (quiet on errors)
                  for name in names if name.endswith(".jsonl") and _utf8(top + name))[:MAX_FOUND]


def _utf8(text: str) -> bool:
    """Whether a name read from the disk has no undecodable bytes (JSON could not carry it)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def answer(ask: Ask, budget: int = ANSWER_LIMIT) -> Reading:
    """Read what ``ask`` names, on this machine, until ``budget`` bytes are read."""

    def read(path: str, offset: int) -> Chunk | None:
        nonlocal budget
        chunk = _read(path, offset, budget)
        budget -= len(chunk.data) if chunk else 0
        return chunk

    chunks = [read(path, offset) for path, offset in ask.files]
    named = {path for path, _ in ask.files}
    found = [{p: read(p, 0) for p in _under(folder) if p not in named} for folder in ask.scan]
    return Reading(chunks, found)


class _Local:
    def read(self, ask: Ask) -> Reading | None:
        return answer(ask, sys.maxsize)  # no copy to send: each file's READ_LIMIT is enough


#: This machine's files.
LOCAL: Files = _Local()


def check(ask: Ask, reading: Reading) -> str:
    """What is wrong with a host's answer to ``ask`` ("" if nothing): every piece where it
    should be, offsets and sizes within bounds, found files ``.jsonl`` under their folder."""
    if len(reading.chunks) != len(ask.files) or len(reading.found) != len(ask.scan):
        return "an answer of another length than the question"
    for (_path, offset), chunk in zip(ask.files, reading.chunks, strict=True):
        if chunk is not None and (chunk.start not in (0, offset) or len(chunk.data) > READ_LIMIT):
            return f"a chunk from {chunk.start} of {len(chunk.data)} bytes for offset {offset}"
    for folder, found in zip(ask.scan, reading.found, strict=True):
        if len(found) > MAX_FOUND:
            return f"{len(found)} files under one folder"
        for path, chunk in found.items():
            if not (_jsonl(path) and path.startswith(folder.rstrip("/") + "/")):
                return f"a file {path[:200]!r} not under {folder!r}"
            if chunk is not None and (chunk.start != 0 or len(chunk.data) > READ_LIMIT):
                return f"a new file's chunk from {chunk.start} of {len(chunk.data)} bytes"
    return ""


class RemoteFiles:
    """A host's files, over its link (an ``SshLink``) with its ``python``. ``error`` says why
    the last reading could not be had ("" when it could)."""

    def __init__(self, link: Any, python: str = "python3", timeout: float = REMOTE_TIMEOUT) -> None:
        self.link = link
        self.python = python
        self.timeout = timeout
        self.error = ""

    def read(self, ask: Ask) -> Reading | None:
        import msgspec  # (this side only: the host's starts without it)

        if not self.link.alive:
            return self._failed("the link is down")  # its keeper reports that, and reopens it
        done = self.link.run([self.python, "-I", "-m", REMOTE_MODULE],
                             input=msgspec.json.encode(ask).decode(), timeout=self.timeout)
        if done.returncode != 0:
            return self._failed((done.stderr.strip().splitlines() or ["no answer"])[-1][:300])
        try:
            reading = msgspec.json.decode(done.stdout, type=Reading)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return self._failed(f"not an answer: {exc}"[:300])
        wrong = check(ask, reading)
        if wrong:
            return self._failed(f"a wrong answer: {wrong}")
        self.error = ""
        return reading

    def _failed(self, why: str) -> None:
        if why != self.error and why != "the link is down":
            import logging  # here: the host runs this module at every poll, and starts faster

            logging.getLogger(__name__).warning("host %s: transcripts not read: %s",
                                                self.link.target.name, why)
        self.error = why


def _plain(chunk: Chunk | None) -> list[Any] | None:
    import base64

    return None if chunk is None else [chunk.start, base64.b64encode(chunk.data).decode()]


def main() -> int:
    """The host's side: the ask on stdin, the reading on stdout."""
    import json

    try:
        files, scan = json.loads(sys.stdin.buffer.read())
        ask = Ask([(str(path), int(offset)) for path, offset in files], [str(f) for f in scan])
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"remote_files: not an ask: {exc}\n")
        return 2
    reading = answer(ask)
    json.dump([[_plain(c) for c in reading.chunks],
               [{path: _plain(c) for path, c in found.items()} for found in reading.found]],
              sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
