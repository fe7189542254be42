"""The pane monitor's map of agent panes, and what tmux's answers mean for them.

``PaneMonitor`` (``monitor.py``) does the I/O and calls this on its worker thread only;
nothing here talks to tmux or starts a thread. One ``PaneRecord`` per pane incarnation (a
pane id on the current server connection), and the events that follow from:

- a pane listing: new, resized, vanished and dead panes (``apply_listing``); a pane found
  dead is reported unless the owner says it already knows (``exit_known``);
- output noticed: which panes may be captured now (``take_ready``: a token bucket per pane,
  and once output is sampled, one capture per ``sample_every``);
- a capture: an ``AgentOutput`` (a keyframe on the first capture, a size change and every
  ``keyframe_interval``; else the rows changed after a detected scroll) and the heuristic
  ``AgentStatus`` (``apply_capture``), the output counted against the session's cap
  (``OutputCap``: past it, the monitor samples each pane and one alert says so);
- deaths: ``AgentExited`` with the code (tmux's, or a zombie's from /proc when tmux 3.3a
  missed it) and the last lines (``deaths``, ``finish``); a gone server: ``AgentLost``.

Per-agent status patterns and stall times: ``AgentSettings``. The monitor's counters
(``MonitorStats``) and how its capture interval follows the machine's load
(``loaded_interval``, ``machine_load``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fleet_tui.adapters.procs import signal_name, zombie_exit
from fleet_tui.adapters.tmux_cli import PaneInfo
from fleet_tui.core import events as ev
from fleet_tui.core.screen import (
    DEAD_PANE_BANNER,
    fit_screen,
    keyframe_changes,
    last_lines,
    needs_keyframe,
    scroll_diff,
)
from fleet_tui.core.state import EXITED
from fleet_tui.core.status_rules import (
    NO_MATCH,
    CompiledPatterns,
    ScreenMatch,
    compile_from,
    decide_status,
    match_screen,
    prompt_seen,
)

Emit = Callable[[ev.Event], None]
PatternsArg = Mapping[str, Any] | Callable[[str], Any] | None
StallArg = Mapping[str, float | None] | Callable[[str], float | None] | float | None

#: How long to wait for tmux to learn a dead pane's exit status before giving up.
DEATH_STATUS_WAIT = 3.0
#: A pane that vanished without a seen death is reported exited after this long, unless a
#: new pane for the same agent shows up (a restart) meanwhile.
VANISH_GRACE = 1.0
#: Lines of the final screen carried by AgentExited.
EXIT_LINES = 10
#: Captures a pane may have in a burst; over time it gets one per ``pane_interval``.
PANE_BURST = 2.0


def machine_load() -> float:
    """The 1-minute load average per CPU."""
    return os.getloadavg()[0] / (os.cpu_count() or 1)


@dataclass
class MonitorStats:
    """Counters for benchmarks and debugging (read them from any thread)."""

    connects: int = 0
    batches: int = 0
    captures: int = 0
    commands: int = 0
    outputs: int = 0
    events: int = 0
    refreshes: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def loaded_interval(base: float, most: float, load: float) -> float:
    """A busy pane's capture interval: ``base`` while the machine has CPU to spare (``load``,
    runnable processes per CPU, at most 1), stretched in proportion beyond that, to ``most``."""
    return max(base, min(most, base * load))


@dataclass
class PaneRecord:
    """One agent incarnation: a pane id on the current server connection."""

    agent: str
    pane_id: str
    pid: int = 0
    width: int = 0
    height: int = 0
    window_id: str = ""
    screen: list[str] | None = None
    screen_size: tuple[int, int] = (0, 0)
    last_keyframe_at: float = 0.0
    last_change: float = 0.0
    match: ScreenMatch = NO_MATCH
    status: str = ""
    prompt_seen: bool = False  # the agent's idle pattern has matched since it started
    # Per-pane capture budget: a token bucket (1 token per ``pane_interval``, at most
    # ``PANE_BURST``). A strict minimum spacing would let a capture the batch gate delayed
    # shift every later capture of a periodic printer (the lag never recovers).
    tokens: float = 2.0
    tokens_at: float = 0.0  # monotonic
    emitted_at: float = 0.0  # monotonic, the last AgentOutput
    dead: bool = False
    dead_code: int | None = None
    dead_signal: str = ""
    dead_seen: float = 0.0  # monotonic, when the death was first seen
    poked: bool = False
    finished: bool = False  # AgentExited emitted (or the owner knew it dead)
    vanished_at: float = 0.0  # monotonic; 0 while listed
    final_rows: list[str] | None = None  # the final capture, with some history

    def capture_due(self, now: float, pane_interval: float, sample_every: float | None) -> float:
        """When this pane may be captured next (monotonic): its token bucket has a whole
        token, and with ``sample_every`` (output sampled) that long after its last output."""
        tokens = min(PANE_BURST, self.tokens + (now - self.tokens_at) / pane_interval)
        due = now if tokens >= 1.0 else now + (1.0 - tokens) * pane_interval
        if sample_every is not None and self.screen is not None:
            due = max(due, self.emitted_at + sample_every)
        return due

    def spend_capture(self, now: float, pane_interval: float) -> None:
        self.tokens = min(PANE_BURST, self.tokens + (now - self.tokens_at) / pane_interval) - 1.0
        self.tokens_at = now

    def mark_dead(self, code: int | None, sig: str, mono: float) -> None:
        if not self.dead:
            self.dead = True
            self.dead_seen = mono
        if code is not None or sig:
            self.dead_code, self.dead_signal = code, sig


class AgentSettings:
    """Each agent's status patterns (compiled once) and stall time: from the monitor's
    arguments (a mapping, a callable, or one value for all), or as ``override`` set them."""

    def __init__(self, patterns: PatternsArg, stall_after: StallArg) -> None:
        self._patterns_arg = patterns
        self._stall_arg = stall_after
        self._compiled: dict[str, CompiledPatterns] = {}
        self._overrides: dict[str, tuple[Any, float | None]] = {}

    def override(self, agent: str, patterns: Any, stall_after: float | None) -> None:
        self._overrides[agent] = (patterns, stall_after)
        self._compiled.pop(agent, None)

    @staticmethod
    def _resolve(arg: Any, agent: str) -> Any:
        if callable(arg):
            return arg(agent)
        if isinstance(arg, Mapping):
            return arg.get(agent)
        return arg

    def patterns(self, agent: str) -> CompiledPatterns:
        compiled = self._compiled.get(agent)
        if compiled is None:
            override = self._overrides.get(agent)
            spec = override[0] if override and override[0] is not None else \
                self._resolve(self._patterns_arg, agent)
            compiled = compile_from(spec)
            self._compiled[agent] = compiled
        return compiled

    def pattern_error(self, agent: str) -> ev.Error | None:
        compiled = self.patterns(agent)
        if not compiled.errors:
            return None
        return ev.Error(kind="error", agent=agent, message=f"bad status pattern(s) for {agent}: "
                        + "; ".join(compiled.errors))

    def stall_after(self, agent: str) -> float | None:
        override = self._overrides.get(agent)
        if override is not None and override[1] is not None:
            return override[1]
        value = self._resolve(self._stall_arg, agent)
        return float(value) if value is not None else None


class OutputCap:
    """The session's budget of logged pane text: ``cap`` characters (None: no cap), ``used``
    so far (the fold's ``output_chars`` of the log at start). Past it, ``sampling``."""

    def __init__(self, cap: int | None, used: int, sample_every: float) -> None:
        self.cap = cap
        self.used = used
        self.sample_every = sample_every
        #: Output is sampled (the cap was reached, in this run or an earlier one).
        self.sampling = cap is not None and used >= cap

    def count(self, output: ev.AgentOutput) -> ev.Alert | None:
        """Count what ``output`` logs (as the fold counts it); the alert when it crosses the
        cap (once)."""
        self.used += sum(len(text) for _, text in output.changes)
        if self.sampling or self.cap is None or self.used < self.cap:
            return None
        self.sampling = True
        return ev.Alert(
            kind=ev.ALERT_OUTPUT, key="sampled",
            message=f"pane output logged this session passed {self.cap / 1e6:g} MB: "
                    f"each agent's screen is now logged every {self.sample_every:g}s",
        )


class PaneMap:
    """The panes the monitor knows, and the events their changes make (through ``emit``)."""

    def __init__(self, emit: Emit, clock: Callable[[], float], settings: AgentSettings,
                 cap: OutputCap, *, holds_task: Callable[[str], bool],
                 exit_known: Callable[[str, str], bool], working_for: float,
                 keyframe_interval: float) -> None:
        self.emit = emit
        self.clock = clock
        self.settings = settings
        self.cap = cap
        self.holds_task = holds_task
        self.exit_known = exit_known
        self.working_for = working_for
        self.keyframe_interval = keyframe_interval
        self.panes: dict[str, PaneRecord] = {}  # pane id -> pane
        self.by_agent: dict[str, str] = {}  # agent -> current pane id
        #: Panes that had output before the map knew them (captured once they are listed).
        self.unknown_dirty: set[str] = set()
        self._unlinked_seen: set[str] = set()

    # listings --------------------------------------------------------------------------------

    def apply_listing(self, rows: list[PaneInfo], monitor_windows: set[str], *, link: bool,
                      link_now: bool, mono: float) -> tuple[list[str], set[str]]:
        """Take a ``list-panes -a`` listing; returns the windows to link into the monitor
        session and the panes to capture. With ``link``, windows missing from the monitor
        session: at once with ``link_now`` (on connect), otherwise only windows seen unlinked
        by two sweeps in a row, so a window the driver is about to link is never linked
        twice."""
        listed: set[str] = set()
        to_link: list[str] = []
        unlinked: set[str] = set()
        dirty: set[str] = set()
        for row in rows:
            agent, pane_id, window_id = row.agent, row.pane_id, row.window_id
            if pane_id in listed or (agent in self.by_agent and self.by_agent[agent] in listed):
                continue  # one pane per agent: the first listed
            listed.add(pane_id)
            if window_id not in monitor_windows:
                unlinked.add(window_id)
                if link and (link_now or window_id in self._unlinked_seen):
                    to_link.append(window_id)
            pane = self.panes.get(pane_id)
            if pane is not None and (pane.agent != agent or pane.pid not in (0, row.pid)):
                self._forget(pane)  # the id given again by a new server: another pane
                pane = None
            if pane is None:
                pane = self._new_pane(row)
                if pane_id in self.unknown_dirty or not pane.finished:
                    dirty.add(pane_id)
                self.unknown_dirty.discard(pane_id)
            pane.pid = row.pid
            pane.window_id = window_id
            pane.vanished_at = 0.0
            if (row.width, row.height) != (pane.width, pane.height):
                pane.width, pane.height = row.width, row.height
                if pane.screen is not None and not pane.finished:
                    dirty.add(pane_id)
            if row.dead and not pane.finished:
                pane.mark_dead(row.dead_status, row.dead_signal or "", mono)
        if link:
            self._unlinked_seen = unlinked
        for pane_id, pane in self.panes.items():
            if pane_id not in listed and not pane.finished and not pane.vanished_at:
                pane.vanished_at = mono
        # Forget finished panes that are gone from tmux.
        for pane_id in [p for p, st in self.panes.items() if st.finished and p not in listed]:
            self._forget(self.panes[pane_id])
        return to_link, dirty

    def _forget(self, pane: PaneRecord) -> None:
        del self.panes[pane.pane_id]
        if self.by_agent.get(pane.agent) == pane.pane_id:
            del self.by_agent[pane.agent]

    def _new_pane(self, row: PaneInfo) -> PaneRecord:
        pane = PaneRecord(agent=row.agent, pane_id=row.pane_id)
        self.panes[row.pane_id] = pane
        old = self.by_agent.get(row.agent)
        if old is not None and old != row.pane_id and old in self.panes:
            # A new incarnation (restart): the old pane is history, reported or not.
            self.panes[old].finished = True
        self.by_agent[row.agent] = row.pane_id
        if row.dead and self.exit_known(row.agent, row.pane_id):
            pane.finished = True  # exited before we looked, and the owner knows
        if (error := self.settings.pattern_error(row.agent)) is not None:
            self.emit(error)
        return pane

    # capture budgets -------------------------------------------------------------------------

    def due(self, pane_id: str, now: float, pane_interval: float) -> float:
        """When the pane may be captured next (``now`` for a pane the map does not know)."""
        pane = self.panes.get(pane_id)
        if pane is None:
            return now
        sampled = self.cap.sample_every if self.cap.sampling else None
        return pane.capture_due(now, pane_interval, sampled)

    def take_ready(self, dirty: set[str], now: float,
                   pane_interval: float) -> tuple[list[PaneRecord], bool]:
        """Take out of ``dirty`` the panes to capture now (their budget spent) and those never
        to capture (finished, dead, vanished; unknown ones are noted for the next listing).
        Returns the panes to capture, and whether an unknown one was among them."""
        ready: list[PaneRecord] = []
        unknown = False
        for pane_id in list(dirty):
            pane = self.panes.get(pane_id)
            if pane is None:
                dirty.discard(pane_id)
                self.unknown_dirty.add(pane_id)
                unknown = True
            elif pane.finished or pane.dead or pane.vanished_at:
                dirty.discard(pane_id)
            elif self.due(pane_id, now, pane_interval) <= now:
                dirty.discard(pane_id)
                pane.spend_capture(now, pane_interval)
                ready.append(pane)
        return ready, unknown

    # captures --------------------------------------------------------------------------------

    def apply_capture(self, pane: PaneRecord, rows: list[str], mono: float) -> tuple[bool, bool]:
        """Take a capture of ``pane``: (whether an AgentOutput went out, whether the rows
        show a size the last listing did not: the map is stale)."""
        height = pane.height or len(rows)
        stale = bool(rows) and len(rows) != height
        if stale:
            height = len(rows)
        screen = fit_screen(rows, height)
        if screen == pane.screen:
            return False, stale
        now = self.clock()
        size = (pane.width, height)
        if needs_keyframe(has_previous=pane.screen is not None,
                          last_keyframe_at=pane.last_keyframe_at, now=now,
                          old_size=pane.screen_size, new_size=size,
                          interval=self.keyframe_interval):
            pane.last_keyframe_at = now
            output = ev.AgentOutput(agent=pane.agent, changes=keyframe_changes(screen),
                                    keyframe=True, width=pane.width, height=height, ts=now,
                                    pane=pane.pane_id)
        else:
            scroll, changes = scroll_diff(pane.screen or [], screen)
            output = ev.AgentOutput(agent=pane.agent, changes=changes, scroll=scroll, ts=now,
                                    pane=pane.pane_id)
        self.emit(output)
        pane.emitted_at = mono
        if (alert := self.cap.count(output)) is not None:
            self.emit(alert)
        pane.screen = screen
        pane.screen_size = size
        pane.last_change = now
        patterns = self.settings.patterns(pane.agent)
        pane.match = match_screen(screen, patterns)
        pane.prompt_seen = prompt_seen(pane.prompt_seen, pane.match, patterns)
        self._update_status(pane, now)
        return True, stale

    # statuses --------------------------------------------------------------------------------

    def _update_status(self, pane: PaneRecord, now: float) -> None:
        if pane.finished or pane.dead or pane.screen is None:
            return
        status, reason = decide_status(
            pane.match, now=now, last_change=pane.last_change, alive=True,
            holds_task=bool(self.holds_task(pane.agent)),
            stall_after=self.settings.stall_after(pane.agent), working_for=self.working_for,
            prompt_seen=pane.prompt_seen,
        )
        if status != pane.status:
            pane.status = status
            self.emit(ev.AgentStatus(agent=pane.agent, status=status, explicit=False,
                                     reason=reason, ts=now, source=ev.SOURCE_SCREEN))

    def status_tick(self) -> None:
        now = self.clock()
        for pane in list(self.panes.values()):
            self._update_status(pane, now)

    # deaths ----------------------------------------------------------------------------------

    def on_dead_report(self, pane_id: str, value: str, mono: float) -> str:
        """A ``#{pane_dead} #{pane_dead_status} #{pane_dead_signal}`` report: ``"refresh"``
        (a pane the map does not know died), ``"deaths"`` (check deaths now) or ``""``."""
        parts = [*value.split(" "), "", "", ""][:3]
        pane = self.panes.get(pane_id)
        if pane is None or pane.finished:
            return "refresh" if pane is None and parts[0] == "1" else ""
        if parts[0] != "1":
            return ""
        code = int(parts[1]) if parts[1].strip().lstrip("-").isdigit() else None
        pane.mark_dead(code, signal_name(parts[2]) or "", mono)
        return "deaths"

    def has_deaths(self) -> bool:
        return any(p.dead and not p.finished for p in self.panes.values())

    def deaths(self, mono: float) -> tuple[list[PaneRecord], bool]:
        """Panes whose exit can be reported now (capture their final screen, then ``finish``
        them), and whether to poke tmux's reaper: tmux 3.3a can miss a pane's SIGCHLD, and
        any other child exiting makes it reap (and record) the lost one. A vanished pane is
        finished here after ``VANISH_GRACE``, unless a restart replaced it."""
        finals: list[PaneRecord] = []
        poke = False
        for pane in list(self.panes.values()):
            if pane.finished:
                continue
            current = self.by_agent.get(pane.agent) == pane.pane_id
            if pane.vanished_at:
                if not current:
                    pane.finished = True
                elif mono - pane.vanished_at >= VANISH_GRACE:
                    self.finish(pane)
                continue
            if not pane.dead:
                continue
            if pane.dead_code is None and not pane.dead_signal:
                code, sig = zombie_exit(pane.pid) if pane.pid else (None, None)
                if code is not None or sig:
                    pane.dead_code, pane.dead_signal = code, sig or ""
                elif mono - pane.dead_seen < DEATH_STATUS_WAIT:
                    poke = poke or not pane.poked
                    pane.poked = True
                    continue
            finals.append(pane)
        return finals, poke

    def finish(self, pane: PaneRecord) -> None:
        pane.finished = True
        pane.status = EXITED
        self.emit(ev.AgentExited(
            agent=pane.agent, pane=pane.pane_id, code=pane.dead_code, signal=pane.dead_signal,
            last_lines=last_lines(pane.final_rows or pane.screen or [], EXIT_LINES,
                                  skip=(DEAD_PANE_BANNER,)),
        ))

    def server_gone(self, lost: bool) -> None:
        """The server is gone: with ``lost``, each live agent is ``AgentLost``; the map is
        emptied either way (pane ids mean nothing on the next server)."""
        if lost:
            for pane in self.panes.values():
                if not pane.finished:
                    self.emit(ev.AgentLost(agent=pane.agent, reason="the tmux server is gone"))
        self.panes.clear()
        self.by_agent.clear()
        self.unknown_dirty.clear()
        self._unlinked_seen.clear()
