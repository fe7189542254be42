"""Following a session's event log into a state, the way every client sees the fleet.

``open`` starts from the replay index (its cached snapshot nearest the end, so a session with a
million events opens in well under two seconds) and ``poll`` then folds whatever the daemon has
appended since: whole lines only, in bounded chunks, events at or below the last ``seq`` seen
skipped (a write the daemon rolled back and wrote again is folded once).

``ends_stopped`` reads only the log's tail: whether a person stopped the fleet after its last
daemon started, for a client that has not folded that far yet.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from fleet_tui.adapters.eventlog_read import ReadEvent
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import FleetState
from fleet_tui.replay.index import Progress, open_index
from fleet_tui.replay.sources import OffsetReader

#: Bytes read at most per poll, so a client far behind catches up without freezing.
MAX_CHUNK = 4 << 20
#: The tail ``ends_stopped`` reads (a daemon writes little after it logs its stop).
STOP_TAIL = 1 << 20


class _Tagged(msgspec.Struct):
    type: str = ""


def ends_stopped(path: Path) -> bool:
    """Whether the log's last word on its daemon, within its last ``STOP_TAIL`` bytes, is that
    a person stopped the fleet (``daemon.stopped`` after the last ``config.loaded``, which
    each daemon writes first)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - STOP_TAIL))
            tail = f.read()
    except OSError:
        return False
    for line in reversed(tail.splitlines()):
        if b'"daemon.stopped"' not in line and b'"config.loaded"' not in line:
            continue
        try:
            kind = msgspec.json.decode(line, type=_Tagged).type
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # a torn first line, or an output record quoting the words
        if kind in ("daemon.stopped", "config.loaded"):
            return kind == "daemon.stopped"
    return False


class LogFollower:
    def __init__(self, path: Path, *, skip_corrupt: bool = False) -> None:
        self.path = Path(path)
        self.skip_corrupt = skip_corrupt
        self.offset = 0
        self.warnings: list[str] = []
        self._fd = -1
        self._reader = OffsetReader(self.path, skip_corrupt=True)

    def open(self, progress: Progress | None = None) -> FleetState:
        """The fold of the log as it is now (``EventLogError`` for a missing or corrupt log)."""
        index = open_index(self.path, skip_corrupt=self.skip_corrupt, progress=progress)
        try:
            state = index.state_at(len(index))
            self.offset = index.end
            self.warnings = list(index.warnings)
        finally:
            index.close()
        self._fd = os.open(self.path, os.O_RDONLY)
        return state

    def read(self) -> list[ReadEvent]:
        """The whole lines appended since the last read (at most ``MAX_CHUNK`` bytes of them)."""
        if self._fd < 0:
            return []
        size = os.fstat(self._fd).st_size
        if size < self.offset:  # a failed write was rolled back: it will be written again
            self.offset = size
        if size == self.offset:
            return []
        data = os.pread(self._fd, min(size - self.offset, MAX_CHUNK), self.offset)
        cut = data.rfind(b"\n") + 1
        if not cut:
            return []
        self.offset += cut
        events = self._reader.decode(data[:cut])
        self.warnings.extend(self._reader.warnings)
        return events

    def poll(self, state: FleetState) -> int:
        """Fold what is new into ``state``; returns how many events were folded."""
        last = state.last_seq
        events = [e for e in self.read() if e.seq > last]
        if events:
            fold_all(events, state)
        return len(events)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
