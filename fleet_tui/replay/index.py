"""The replay index of a session log: random access to ``fold(events[:k])`` for any ``k``.

For every event it keeps where its line starts in the log, its time (a running maximum, so it
can be searched), its seq, and which agent it is about; it lists the events the timeline keeps,
the "trouble" events (errors, alerts, exits, losses, stalls) and the idle gaps longer than
``IDLE_GAP``; and every ``every`` events it keeps the fold's state (without the timeline, which
is read back from the log: it is the last ``TIMELINE_LIMIT`` timeline events). ``state_at(k)``
is then one snapshot, at most ``TIMELINE_LIMIT`` timeline events and fewer than ``every`` events
folded on top.

The index is cached beside the log (``events.jsonl.idx``: magic, CRC-32, msgpack) and never
trusted blindly: a cache is used only if its format id (index version, event schema, byte order
and a digest of the fold's source) matches and the log's size, mtime and a hash of its head and
of the bytes before the indexed end match. A log that only grew (a live one) is extended from
where the cache ends; anything else is rebuilt. A cache that cannot be written is a warning.

Reading goes through ``LogReader`` (see ``sources.py``): a torn tail, unknown event types and
corrupt lines are treated as everywhere else and end up in ``warnings``, except that the log is
only read: a torn tail is left in place (the next writer cuts it off).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from fleet_tui.adapters.eventlog import EventLogError
from fleet_tui.adapters.eventlog_read import ReadEvent
from fleet_tui.adapters.paths import replace_private
from fleet_tui.core import events as ev
from fleet_tui.core import fold as fold_module
from fleet_tui.core import state as state_module
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import STALLED, FleetState
from fleet_tui.replay.sources import EventSource, ListSource, LogSource, OffsetReader

INDEX_VERSION = 1
#: Events between state snapshots: bounds the events a seek folds (see ``bench/replay.py``).
SNAPSHOT_EVERY = 10_000
#: Gaps between events longer than this (seconds) are idle; replay can skip them.
IDLE_GAP = 5.0
MAGIC = b"FLEETIDX"
#: Bytes hashed at the head of the log and before the indexed end, to check a cache against it.
STAMP_BYTES = 1 << 16

#: ``progress(bytes_read, bytes_total)``, called from the thread that builds the index.
Progress = Callable[[int, int], None]

_TROUBLE = (ev.Error, ev.Alert, ev.AgentExited, ev.AgentLost)


def is_trouble(event: ReadEvent) -> bool:
    """Errors, alerts, exits, lost agents and stalls: what "next trouble" jumps to."""
    cls = type(event)
    return cls in _TROUBLE or (cls is ev.AgentStatus and event.status == STALLED)  # type: ignore[union-attr]


def in_timeline(event: ReadEvent) -> bool:
    """Whether the fold keeps ``event`` in ``FleetState.timeline`` (known, not pane output)."""
    return isinstance(event, ev.Event) and event.in_timeline


def index_path(log: Path) -> Path:
    """Where the index of ``log`` is cached."""
    return log.with_name(log.name + ".idx")


# --- state snapshots --------------------------------------------------------------------------

_SNAPSHOT_FIELDS = tuple(f.name for f in msgspec.structs.fields(FleetState) if f.name != "timeline")
_ENCODER = msgspec.msgpack.Encoder()
_STATE_DECODER = msgspec.msgpack.Decoder(FleetState)


def encode_state(state: FleetState) -> bytes:
    """``state`` without its timeline, msgpack, compressed."""
    return zlib.compress(_ENCODER.encode({name: getattr(state, name) for name in _SNAPSHOT_FIELDS}), 1)


def decode_state(blob: bytes) -> FleetState:
    """The state ``encode_state`` saved, with an empty timeline."""
    return _STATE_DECODER.decode(zlib.decompress(blob))


@functools.cache
def format_id() -> str:
    """Changes whenever a cached index could disagree with this version's fold."""
    digest = hashlib.blake2b(digest_size=8)
    for module in (ev, state_module, fold_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    return f"{INDEX_VERSION}/{ev.SCHEMA_VERSION}/{sys.byteorder}/{digest.hexdigest()}"


# --- the index ----------------------------------------------------------------------------------


class _Stamp(msgspec.Struct, frozen=True):
    size: int
    mtime_ns: int
    head: bytes
    tail: bytes


class _IndexFile(msgspec.Struct):
    format: str
    stamp: _Stamp
    every: int
    count: int
    end: int
    skipped: int
    schema: int | None
    ts: bytes
    seqs: bytes
    offsets: bytes
    timeline: bytes
    trouble: bytes
    gaps: bytes
    agents: dict[str, bytes]
    unknown: dict[str, int]
    warnings: list[str]
    torn: str
    snapshots: list[bytes]


def _array(code: str, data: bytes = b"") -> array:
    out = array(code)
    out.frombytes(data)
    return out


class ReplayIndex:
    """What a replay needs to reach any point of a session quickly (see the module docstring).

    Arrays, one entry per event unless said: ``ts`` (running maximum of event times), ``seqs``,
    ``offsets`` (where each line starts; empty for an in-memory index); sorted event indices:
    ``timeline``, ``trouble``, ``gaps`` (events that end an idle gap) and ``by_agent[name]``.
    """

    def __init__(self, *, every: int = SNAPSHOT_EVERY) -> None:
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.count = 0
        self.end = 0  # byte offset just past the last indexed line
        self.ts = array("d")
        self.seqs = array("Q")
        self.offsets = array("Q")
        self.timeline = array("I")
        self.trouble = array("I")
        self.gaps = array("I")
        self.by_agent: dict[str, array] = {}
        self.unknown: dict[str, int] = {}
        self.schema: int | None = None
        self.skipped = 0
        self.skip_corrupt = False
        #: The log as it was when last indexed (see ``_stamp``).
        self.stamp = _Stamp(size=0, mtime_ns=0, head=b"", tail=b"")
        self.snapshots: list[bytes] = [encode_state(FleetState())]
        #: How this index came to be: ``memory``, ``built``, ``cached`` or ``extended``.
        self.origin = "memory"
        self.source: EventSource = ListSource([])
        self._read_warnings: list[str] = []
        self._torn = ""  # the torn tail as of the last scan: a later scan may find it gone
        self._state: FleetState | None = FleetState()  # the fold at ``count``, while adding

    @classmethod
    def from_events(cls, events: Sequence[ReadEvent], *, every: int = SNAPSHOT_EVERY) -> ReplayIndex:
        """An index over events in memory (no file, no cache)."""
        index = cls(every=every)
        index.source = ListSource(events)
        index.add(events)
        return index

    def __len__(self) -> int:
        return self.count

    @property
    def warnings(self) -> list[str]:
        """One line per thing a user should know about the log (torn tail, unknown types, ...)."""
        out = [*self._read_warnings, *([self._torn] if self._torn else [])]
        if self.unknown:
            names = ", ".join(sorted(self.unknown))
            out.append(f"{sum(self.unknown.values())} records of types this version does not know "
                       f"({names}) are skipped")
        if self.schema is not None and self.schema not in ev.READS_FULLY:
            age = "older" if self.schema < ev.SCHEMA_VERSION else "newer"
            out.append(f"the log has event schema {self.schema}, {age} than this version's "
                       f"{ev.SCHEMA_VERSION}: what it lacks reads as defaults")
        return out

    # --- building -------------------------------------------------------------------------

    def add(self, events: Sequence[ReadEvent], starts: Sequence[int] = ()) -> None:
        """Index ``events`` (which follow those already indexed); ``starts``: their line offsets."""
        state = self._state
        if state is None:
            state = self._state = self.state_at(self.count, timeline=False)
        if self.count == 0 and events and isinstance(events[0], ev.LogHeader):
            self.schema = events[0].schema
        self.offsets.extend(starts)
        self.seqs.extend([e.seq for e in events])
        done = 0
        while done < len(events):
            if self.count == len(self.snapshots) * self.every:
                self.snapshots.append(encode_state(state))
            chunk = events[done: done + self.every - self.count % self.every]
            self._note(chunk)
            fold_all(chunk, state)
            self.count += len(chunk)
            done += len(chunk)

    def _note(self, chunk: Sequence[ReadEvent]) -> None:
        """Times, gaps, timeline, trouble and per-agent entries of ``chunk``."""
        ts_append, gaps, timeline_append = self.ts.append, self.gaps, self.timeline.append
        by_agent, unknown = self.by_agent, ev.UnknownEvent
        last = self.ts[-1] if self.ts else None
        for i, e in enumerate(chunk, self.count):
            t = e.ts
            if last is None or t > last:
                if last is not None and t - last > IDLE_GAP:
                    gaps.append(i)
                last = t
            ts_append(last)
            cls = type(e)
            if cls is unknown:
                self.unknown[e.type_name] = self.unknown.get(e.type_name, 0) + 1  # type: ignore[union-attr]
                continue
            if e.in_timeline:
                timeline_append(i)
                if is_trouble(e):
                    self.trouble.append(i)
            agent = getattr(e, "agent", None)
            if agent:
                found = by_agent.get(agent)
                if found is None:
                    found = by_agent[agent] = array("I")
                found.append(i)

    # --- reading ------------------------------------------------------------------------------

    def read(self, start: int, stop: int) -> list[ReadEvent]:
        """Events ``start`` to ``stop - 1``."""
        return self.source.read(max(0, start), min(stop, self.count))

    def event(self, i: int) -> ReadEvent:
        """Event ``i``."""
        if not 0 <= i < self.count:
            raise IndexError(i)
        return self.source.read(i, i + 1)[0]

    def read_at(self, indices: Sequence[int]) -> list[ReadEvent]:
        """The events at sorted ``indices``, read in runs of consecutive ones."""
        out: list[ReadEvent] = []
        i = 0
        while i < len(indices):
            j = i
            while j + 1 < len(indices) and indices[j + 1] == indices[j] + 1:
                j += 1
            out += self.source.read(indices[i], indices[j] + 1)
            i = j + 1
        return out

    def state_at(self, k: int, *, timeline: bool = True) -> FleetState:
        """A new ``FleetState`` equal to ``fold_all(events[:k])`` (``k`` clamped to the index)."""
        k = max(0, min(k, self.count))
        snap = min(k // self.every, len(self.snapshots) - 1)
        base = snap * self.every
        state = decode_state(self.snapshots[snap])
        if timeline:
            lo = bisect_left(self.timeline, base)
            wanted = (state.timeline.maxlen or 0) - (bisect_left(self.timeline, k) - lo)
            if wanted > 0:
                state.timeline.extend(self.read_at(self.timeline[max(0, lo - wanted): lo]))
        return fold_all(self.read(base, k), state)

    def close(self) -> None:
        self.source.close()

    # --- the log file -------------------------------------------------------------------------

    def _scan(self, path: Path, progress: Progress | None) -> None:
        """Index the log's whole lines past ``end``."""
        reader = OffsetReader(path, start=self.end, skip_corrupt=self.skip_corrupt)
        total = path.stat().st_size
        for block in reader.blocks():
            if block:
                self.add(block, reader.starts)
            if progress is not None:
                progress(min(reader.pos, total), total)
        self.end = max(self.end, reader.pos)
        self.skipped += reader.skipped
        self._read_warnings += reader.warnings
        self._torn = reader.torn

    def refresh(self, *, progress: Progress | None = None) -> int:
        """Index what was appended to the log since (a live session); return how many events.
        Raises ``EventLogError`` if the log changed in any other way."""
        if not isinstance(self.source, LogSource):
            return 0
        path, before = self.source.path, self.count
        now = _stamp(path, self.end)
        if now == self.stamp:
            return 0
        if not _only_grew(now, self):
            raise EventLogError(f"{path}: changed since it was indexed; open it again")
        self._scan(path, progress)
        self.stamp = _stamp(path, self.end)
        return self.count - before

    def _to_file(self) -> _IndexFile:
        return _IndexFile(
            format=format_id(), stamp=self.stamp, every=self.every, count=self.count,
            end=self.end, skipped=self.skipped, schema=self.schema, ts=self.ts.tobytes(),
            seqs=self.seqs.tobytes(), offsets=self.offsets.tobytes(),
            timeline=self.timeline.tobytes(), trouble=self.trouble.tobytes(),
            gaps=self.gaps.tobytes(), agents={a: v.tobytes() for a, v in self.by_agent.items()},
            unknown=self.unknown, warnings=self._read_warnings, torn=self._torn, snapshots=self.snapshots,
        )

    @classmethod
    def _from_file(cls, data: _IndexFile) -> ReplayIndex:
        index = cls(every=data.every)
        index.count, index.end, index.skipped, index.schema = data.count, data.end, data.skipped, data.schema
        index.ts, index.seqs = _array("d", data.ts), _array("Q", data.seqs)
        index.offsets, index.timeline = _array("Q", data.offsets), _array("I", data.timeline)
        index.trouble, index.gaps = _array("I", data.trouble), _array("I", data.gaps)
        index.by_agent = {a: _array("I", v) for a, v in data.agents.items()}
        index.unknown, index._read_warnings, index._torn = data.unknown, data.warnings, data.torn
        index.snapshots, index.stamp = data.snapshots, data.stamp
        index._state = None
        if not (len(index.ts) == len(index.seqs) == len(index.offsets) == index.count
                and len(index.snapshots) == -(-index.count // index.every) + (index.count == 0)):
            raise ValueError("inconsistent index")
        return index


def _stamp(path: Path, end: int) -> _Stamp:
    """Size and mtime of the log, and hashes of its head and of the bytes before ``end``."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        head = f.read(min(STAMP_BYTES, end))
        tail_from = max(0, end - STAMP_BYTES)
        f.seek(tail_from)
        tail = f.read(end - tail_from)
    return _Stamp(size=st.st_size, mtime_ns=st.st_mtime_ns,
                  head=hashlib.blake2b(head, digest_size=16).digest(),
                  tail=hashlib.blake2b(tail, digest_size=16).digest())


def _only_grew(now: _Stamp, index: ReplayIndex) -> bool:
    """Whether the log grew and still has the head and the indexed bytes ``index`` saw."""
    return now.size > index.stamp.size and (now.head, now.tail) == (index.stamp.head, index.stamp.tail)


def _load_cache(path: Path) -> ReplayIndex | None:
    """The cached index of ``path`` if the cache file is whole and of this format, else None."""
    try:
        data = index_path(path).read_bytes()
    except OSError:
        return None
    head, crc, body = data[: len(MAGIC)], data[len(MAGIC): len(MAGIC) + 4], data[len(MAGIC) + 4:]
    if head != MAGIC or int.from_bytes(crc, "little") != zlib.crc32(body):
        return None
    try:
        file = msgspec.msgpack.decode(body, type=_IndexFile)
        if file.format != format_id():
            return None
        return ReplayIndex._from_file(file)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None


def _save_cache(path: Path, index: ReplayIndex) -> str | None:
    """Write the cache (atomically, 0600); a warning if it cannot be written."""
    target = index_path(path)
    body = msgspec.msgpack.encode(index._to_file())
    try:
        replace_private(target, MAGIC + zlib.crc32(body).to_bytes(4, "little") + body)
    except OSError as exc:
        return f"{target}: replay index not saved ({exc.strerror or exc})"
    return None


def open_index(path: Path, *, every: int = SNAPSHOT_EVERY, skip_corrupt: bool = False,
               progress: Progress | None = None) -> ReplayIndex:
    """The index of the log at ``path``: from its cache when that matches the log, extended
    when the log only grew, else built (and cached). ``progress`` is told how far a build got.
    Raises ``EventLogError`` for a missing log, or a corrupt line unless ``skip_corrupt``."""
    path = Path(path)
    if not path.is_file():
        raise EventLogError(f"{path}: no such event log")
    index = _load_cache(path)
    if index is not None and (index.every != every or (index.skipped and not skip_corrupt)):
        index = None
    if index is not None:
        now = _stamp(path, index.end)
        if now == index.stamp:
            index.origin = "cached"
        elif _only_grew(now, index):
            index.origin = "extended"
        else:
            index = None
    if index is None:
        index = ReplayIndex(every=every)
        index.origin = "built"
    index.skip_corrupt = skip_corrupt
    index.source = LogSource(path, index.offsets, lambda: index.end)
    if index.origin != "cached":
        try:
            index._scan(path, progress)
        except BaseException:
            index.close()
            raise
        index.stamp = _stamp(path, index.end)
        warning = _save_cache(path, index)
        if warning:
            index._read_warnings.append(warning)
    return index
