"""ReplayCursor: a position in a recorded session, and the moves replay's keys make.

Position ``k`` (0 to ``len(index)``) means the first ``k`` events have happened: the state
shown is ``fold_all(events[:k])`` and the current event is ``k - 1``. Next to the position the
cursor keeps a play ``clock`` (seconds since the epoch, between the first and last event times)
that playback advances; a move by event sets the clock to that event's time, a move by time
sets the position to the events at or before that time.

The state is built when asked for: from the state already held when the position moved a little
forward (playback), else from the index's nearest snapshot. It belongs to the cursor and changes
when the cursor moves on; take ``state.copy()`` to keep one.

The module-level functions are the arithmetic behind the moves, over plain sequences.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import FleetState
from fleet_tui.replay.index import IDLE_GAP, ReplayIndex
from fleet_tui.replay.seek import Offset, Relative, SeekTarget, Seq

#: Playback speeds, slowest first.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def change_speed(speed: float, steps: int) -> float:
    """The speed ``steps`` places faster (negative: slower) in ``SPEEDS``, kept within it."""
    here = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
    return SPEEDS[max(0, min(len(SPEEDS) - 1, here + steps))]


def next_after(indices: Sequence[int], after: int) -> int | None:
    """The first of sorted ``indices`` greater than ``after``."""
    i = bisect_right(indices, after)
    return indices[i] if i < len(indices) else None


def last_before(indices: Sequence[int], before: int) -> int | None:
    """The last of sorted ``indices`` less than ``before``."""
    i = bisect_left(indices, before)
    return indices[i - 1] if i > 0 else None


def play_clock(ts: Sequence[float], gaps: Sequence[int], clock: float, dt: float,
               skip_idle: bool) -> float:
    """The play clock after ``dt`` seconds of play (wall seconds times speed) from ``clock``.

    ``ts`` are the (non-decreasing) event times; ``gaps`` the indices of the events that end a
    gap longer than ``IDLE_GAP``. With ``skip_idle`` such a gap plays as ``IDLE_GAP`` seconds:
    the clock jumps from ``IDLE_GAP`` into the gap to the event that ends it."""
    target = clock + dt
    if not skip_idle or dt <= 0:
        return target
    g = bisect_right(gaps, clock, key=lambda j: ts[j])
    while g < len(gaps):
        end = ts[gaps[g]]
        jump_at = max(ts[gaps[g] - 1] + IDLE_GAP, clock)
        if target < jump_at:
            break
        target, clock = end + (target - jump_at), end
        g += 1
    return target


def bucket_counts(ts: Sequence[float], width: int, indices: Sequence[int] | None = None) -> list[int]:
    """How many events (or of ``indices`` only) fall in each of ``width`` equal stretches of
    the time from the first event to the last, for a progress bar's ticks."""
    if width <= 0:
        return []
    counts = [0] * width
    if not ts:
        return counts
    start, span = ts[0], ts[-1] - ts[0]
    if indices is None:
        if span <= 0:
            counts[0] = len(ts)
            return counts
        edges = [bisect_left(ts, start + span * b / width) for b in range(width)] + [len(ts)]
        return [edges[b + 1] - edges[b] for b in range(width)]
    for i in indices:
        bucket = int((ts[i] - start) / span * width) if span > 0 else 0
        counts[min(bucket, width - 1)] += 1
    return counts


class ReplayCursor:
    """Moves over a ``ReplayIndex``; every move returns the new position."""

    def __init__(self, index: ReplayIndex) -> None:
        self.index = index
        self.position = 0
        self.clock = self.start_time
        self._state = FleetState()
        self._state_position = 0

    def __len__(self) -> int:
        return len(self.index)

    @property
    def start_time(self) -> float:
        """Time of the first event (0 for an empty session)."""
        return self.index.ts[0] if len(self.index) else 0.0

    @property
    def end_time(self) -> float:
        """Time of the last event."""
        return self.index.ts[-1] if len(self.index) else 0.0

    @property
    def current(self) -> int | None:
        """Index of the last event that happened (None before the first)."""
        return self.position - 1 if self.position else None

    @property
    def at_end(self) -> bool:
        return self.position >= len(self.index)

    @property
    def state(self) -> FleetState:
        """``fold_all(events[:position])``."""
        k = self.position
        if k != self._state_position:
            if self._state_position < k <= self._state_position + self.index.every:
                fold_all(self.index.read(self._state_position, k), self._state)
            else:
                self._state = self.index.state_at(k)
            self._state_position = k
        return self._state

    def state_at(self, k: int) -> FleetState:
        """Move to position ``k`` and return the state there."""
        self.seek(k)
        return self.state

    def time_at(self, k: int) -> float:
        """The play time at position ``k``: when its current event happened."""
        return self.index.ts[k - 1] if k > 0 else self.start_time

    # --- moves --------------------------------------------------------------------------------

    def seek(self, k: int) -> int:
        """Go to position ``k`` (clamped)."""
        self.position = max(0, min(k, len(self.index)))
        self.clock = self.time_at(self.position)
        return self.position

    def seek_time(self, t: float) -> int:
        """Go to time ``t`` (clamped to the session): every event up to ``t`` has happened."""
        self.clock = max(self.start_time, min(t, self.end_time))
        self.position = bisect_right(self.index.ts, self.clock)
        return self.position

    def seek_fraction(self, fraction: float) -> int:
        """Go to a point of the session's time span (0: start, 1: end), e.g. a progress bar click."""
        return self.seek_time(self.start_time + (self.end_time - self.start_time) * fraction)

    def seek_event(self, i: int) -> int:
        """Go to just after event ``i``, making it the current event."""
        return self.seek(i + 1)

    def seek_seq(self, seq: int) -> int:
        """Go to the event with ``seq`` (or to just before the first one after it)."""
        i = bisect_left(self.index.seqs, seq)
        if i < len(self.index) and self.index.seqs[i] == seq:
            return self.seek_event(i)
        return self.seek(i)

    def seek_target(self, target: SeekTarget) -> int:
        """Go where a parsed seek target (``replay.seek.parse_seek``) says."""
        match target:
            case Seq(seq):
                return self.seek_seq(seq)
            case Offset(seconds):
                return self.seek_time(self.start_time + seconds)
            case Relative(seconds):
                return self.jump_seconds(seconds)
        raise TypeError(target)

    def step(self, n: int = 1) -> int:
        """``n`` events on (negative: back)."""
        return self.seek(self.position + n)

    def jump_seconds(self, seconds: float) -> int:
        """``seconds`` on (negative: back) from the play clock."""
        return self.seek_time(self.clock + seconds)

    def home(self) -> int:
        return self.seek(0)

    def end(self) -> int:
        return self.seek(len(self.index))

    def advance(self, wall_seconds: float, speed: float, skip_idle: bool = False) -> int:
        """Play on for ``wall_seconds`` at ``speed``; idle gaps are cut short with ``skip_idle``."""
        dt = wall_seconds * speed
        self.clock = min(play_clock(self.index.ts, self.index.gaps, self.clock, dt, skip_idle), self.end_time)
        self.position = max(self.position, bisect_right(self.index.ts, self.clock))
        return self.position

    # --- finding events -------------------------------------------------------------------------

    def agent_event(self, agent: str, forward: bool = True) -> int | None:
        """Index of the next (or previous) event about ``agent`` after (before) the current one."""
        indices = self.index.by_agent.get(agent, ())
        here = self.position - 1
        return next_after(indices, here) if forward else last_before(indices, here)

    def trouble_event(self, forward: bool = True) -> int | None:
        """Index of the next (or previous) error, alert, exit, lost agent or stall."""
        here = self.position - 1
        return next_after(self.index.trouble, here) if forward else last_before(self.index.trouble, here)

    def ticks(self, width: int, only: Sequence[int] | None = None) -> list[int]:
        """Events (or those of sorted indices ``only``, e.g. ``index.trouble``) per stretch of
        the session's time, ``width`` stretches."""
        return bucket_counts(self.index.ts, width, only)
