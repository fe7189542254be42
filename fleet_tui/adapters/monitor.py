"""The pane monitor: turns what agents' panes show into AgentOutput / AgentStatus /
AgentExited / AgentLost events, event-driven, through one tmux control-mode client.

How it watches (see ``/work/shared/TMUX_NOTES.md`` for the measurements):

- One ``tmux -C attach-session -t _fleet_monitor -f ignore-size,pause-after`` client
  (``control.py``). The tmux driver links every agent window into ``_fleet_monitor``; on
  connect the monitor creates that session if it is missing and links any ``fleet_*`` window
  it lacks (adoption after a UI restart). ``ignore-size``: this client never sizes a window.
- ``pause-after`` (0 s) makes the output notifications edge-triggered: tmux sends a pane's
  first output then pauses the pane for this client (``%pause``) instead of streaming
  everything it prints. Either notification only marks the pane dirty; the data is never
  decoded. Each capture of a pane is preceded by ``refresh-client -A %N:continue`` in the same
  write, so output after the capture notifies again and nothing is missed. A pane flooding
  output (``yes``) costs the monitor almost nothing and cannot hold up other panes' replies
  (``bench/monitor.py``: 5 agents next to ``yes`` keep p95 ~60 ms with the monitor at ~4 %
  CPU; streaming all output instead cost this process 65-100 % CPU and ~230 ms p95).
- Dirty panes are captured (``capture-pane -p -e``) all in one write, one command per line (a
  failing command in a ``;`` list silently drops the rest), at most every ``batch_interval``
  (50 ms) and any one pane at most once per ``pane_interval`` (100 ms) on average (a token
  bucket allowing a burst of two). Nothing captures panes on a timer. A capture that changes
  the screen is an AgentOutput with the changed rows; a keyframe (every row, width, height)
  on an agent's first capture, on a size change and at least every 30 s; an identical
  capture emits nothing.
- Deaths: a subscription (``refresh-client -B``) to ``#{pane_dead} #{pane_dead_status}
  #{pane_dead_signal}`` for all panes, reported by tmux at most once a second. tmux 3.3a
  sometimes misses the SIGCHLD of a pane's process, leaving the status empty: the monitor
  then reads it from the zombie (``/proc``), or pokes tmux's reaper with a ``run-shell -b``
  and waits for the next report (up to 3 s) before giving up with ``code=None``.
- A slow sweep (``list-panes -a``, every 5 s) re-checks the pane map and deaths.
- The tmux server dying ends the client: every live agent gets ``AgentLost`` plus one
  ``Error(kind="tmux")``; the monitor then retries every second and resumes (keyframes for
  everything) once a server with ``_fleet_monitor`` or ``fleet_*`` sessions is back, and
  calls ``on_reconnect`` so its owner can adopt the agents found there again. It never
  starts a server itself.
- AgentOutput and AgentExited name the pane they come from, so a late report about a pane a
  restart replaced can be told apart from one about the new pane.

Threads: ``start()`` runs a worker thread ``fleet-monitor``; **every ``emit`` call is made on
that thread** (never two at once, never on the caller's thread). ``holds_task`` and
``on_reconnect`` are also called there. The control client has its own reader thread that only
marks panes dirty. ``watch`` and ``stop`` may be called from any thread.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fleet_tui.adapters.control import ControlClient, ControlError, Reply
from fleet_tui.adapters.tmux import (
    MONITOR_COMMAND,
    MONITOR_SESSION,
    SESSION_PREFIX,
    clean_env,
    signal_name,
    zombie_exit,
)
from fleet_tui.core import events as ev
from fleet_tui.core.screen import (
    DEAD_PANE_BANNER,
    KEYFRAME_INTERVAL,
    diff_screens,
    fit_screen,
    keyframe_changes,
    last_lines,
    needs_keyframe,
)
from fleet_tui.core.state import EXITED
from fleet_tui.core.status_rules import (
    NO_MATCH,
    WORKING_FOR,
    CompiledPatterns,
    ScreenMatch,
    compile_from,
    decide_status,
    match_screen,
    prompt_seen,
)

log = logging.getLogger(__name__)

Emit = Callable[[ev.Event], None]
PatternsArg = Mapping[str, Any] | Callable[[str], Any] | None
StallArg = Mapping[str, float | None] | Callable[[str], float | None] | float | None

#: Subscription used for deaths.
DEAD_SUB = "fleet-dead"
_DEAD_FORMAT = "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}"
_PANE_FIELDS = ("pane_id", "pane_pid", "pane_dead", "pane_dead_status", "pane_dead_signal",
                "pane_width", "pane_height", "window_id", "session_name")
_PANE_FORMAT = "\t".join(f"#{{{f}}}" for f in _PANE_FIELDS)
#: How long to wait for tmux to learn a dead pane's exit status before giving up.
DEATH_STATUS_WAIT = 3.0
#: A pane that vanished without a seen death is reported exited after this long, unless a
#: new pane for the same agent shows up (a restart) meanwhile.
VANISH_GRACE = 1.0
#: Lines of the final screen carried by AgentExited.
EXIT_LINES = 10
#: Captures a pane may have in a burst; over time it gets one per ``pane_interval``.
PANE_BURST = 2.0


@dataclass
class _Pane:
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
    dead: bool = False
    dead_code: int | None = None
    dead_signal: str = ""
    dead_seen: float = 0.0  # monotonic, when the death was first seen
    poked: bool = False
    finished: bool = False  # AgentExited emitted (or dead when first seen)
    vanished_at: float = 0.0  # monotonic; 0 while listed
    final_rows: list[str] | None = None  # the final capture, with some history


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


class PaneMonitor:
    """Watches every ``fleet_*`` agent pane on the tmux server ``socket_name``.

    ``patterns``: agent -> ``StatusPatterns`` (or any object/dict with ``waiting``,
    ``working``, ``idle``, ``done`` regex lists), as a mapping or a callable.
    ``stall_after``: agent -> seconds (mapping, callable, or one number for all; None = never).
    ``holds_task(agent)``: whether the agent holds a task (stall detection needs one).
    ``on_reconnect()``: called after connecting again to a server once reported gone.
    ``clock``: the time put on events and used for status timing.
    """

    def __init__(
        self,
        socket_name: str,
        emit: Emit,
        *,
        clock: Callable[[], float] = time.time,
        patterns: PatternsArg = None,
        stall_after: StallArg = None,
        holds_task: Callable[[str], bool] | None = None,
        on_reconnect: Callable[[], None] | None = None,
        working_for: float = WORKING_FOR,
        tick: float = 1.0,
        sweep: float = 5.0,
        batch_interval: float = 0.05,
        pane_interval: float = 0.1,
        keyframe_interval: float = KEYFRAME_INTERVAL,
        reconnect_interval: float = 1.0,
        tmux: str = "tmux",
    ) -> None:
        self.socket_name = socket_name
        self._emit_cb = emit
        self.clock = clock
        self._patterns_arg = patterns
        self._stall_arg = stall_after
        self._holds_task = holds_task or (lambda _agent: False)
        self._on_reconnect = on_reconnect
        self.working_for = working_for
        self.tick = tick
        self.sweep = sweep
        self.batch_interval = batch_interval
        self.pane_interval = pane_interval
        self.keyframe_interval = keyframe_interval
        self.reconnect_interval = reconnect_interval
        self.tmux = tmux
        self.stats = MonitorStats()

        self._cond = threading.Condition()
        self._dirty: set[str] = set()
        self._notes: list[bytes] = []
        self._closed_reason: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: ControlClient | None = None
        self._connected = threading.Event()
        self._ever_connected = False
        self._lost_reported = False

        # Worker-thread state.
        self._panes: dict[str, _Pane] = {}  # pane id -> pane
        self._by_agent: dict[str, str] = {}  # agent -> current pane id
        self._compiled: dict[str, CompiledPatterns] = {}
        self._overrides: dict[str, tuple[Any, float | None]] = {}
        self._unknown_dirty: set[str] = set()
        self._unlinked_seen: set[str] = set()
        self._need_refresh = False
        self._last_refresh = -1e9
        self._last_batch = -1e9
        self._next_tick = 0.0
        self._next_sweep = 0.0

    # --- public API -------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching (returns at once; connecting happens on the worker thread)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fleet-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and detach; agents keep running. No events are emitted after this."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        client, self._client = self._client, None
        if client is not None:
            client.close()
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return self._connected.wait(timeout)

    def watch(self, agent: str, patterns: Any = None, stall_after: float | None = None) -> None:
        """Set (or change) an agent's status patterns and stall time, and look for its pane
        now rather than at the next tmux notification. Safe from any thread."""
        with self._cond:
            self._overrides[agent] = (patterns, stall_after)
            self._compiled.pop(agent, None)
            self._need_refresh = True
            self._cond.notify()

    def monitor_pids(self) -> list[int]:
        """Pids of the control client process (for benchmarks)."""
        client = self._client
        return [client.pid] if client is not None and client.pid else []

    # --- callbacks from the control client's reader thread ----------------------------------

    def _on_output(self, pane: str) -> None:
        # Hot path: note the pane, nothing else.
        if pane not in self._dirty:
            with self._cond:
                self._dirty.add(pane)
                self._cond.notify()

    def _on_notification(self, line: bytes) -> None:
        with self._cond:
            self._notes.append(line)
            self._cond.notify()

    def _on_close(self, reason: str) -> None:
        with self._cond:
            self._closed_reason = reason or "closed"
            self._cond.notify()

    # --- worker thread ----------------------------------------------------------------------

    def _emit(self, event: ev.Event) -> None:
        if self._stopping.is_set():
            return
        if not event.ts:
            event.ts = self.clock()
        self.stats.events += 1
        try:
            self._emit_cb(event)
        except Exception:  # the monitor must outlive a failing listener
            log.exception("pane monitor: emit failed for %s", event.type_name)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._client is None:
                    if not self._connect():
                        self._stopping.wait(self.reconnect_interval)
                    continue
                self._step()
            except Exception as exc:  # keep watching whatever happens
                log.exception("pane monitor: unexpected error")
                self._emit(ev.Error(kind="tmux", message=f"pane monitor error: {exc}"))
                self._drop_client()
                self._stopping.wait(self.reconnect_interval)
        self._drop_client()

    # connection ------------------------------------------------------------------------------

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-L", self.socket_name, *args], capture_output=True, text=True,
            encoding="utf-8", errors="replace", env=clean_env(), stdin=subprocess.DEVNULL,
            check=False,
        )

    def _server_sessions(self) -> list[str] | None:
        """Session names on the server; None when no server answers."""
        proc = self._tmux("list-sessions", "-F", "#{session_name}")
        if proc.returncode != 0:
            return None
        return proc.stdout.splitlines()

    def _connect(self) -> bool:
        sessions = self._server_sessions()
        if sessions is None:
            return False
        if MONITOR_SESSION not in sessions:
            if not any(s.startswith(SESSION_PREFIX) for s in sessions):
                return False
            made = self._tmux("new-session", "-d", "-s", MONITOR_SESSION, "-x", "80", "-y", "24",
                              "--", *MONITOR_COMMAND)
            if made.returncode != 0 and "duplicate session" not in made.stderr:
                return False
        client = ControlClient(
            self.socket_name, MONITOR_SESSION, on_output=self._on_output,
            on_notification=self._on_notification, on_close=self._on_close,
            flags=("ignore-size", "pause-after"), tmux=self.tmux,
        )
        with self._cond:
            self._closed_reason = None
            self._notes.clear()
            self._dirty.clear()
        try:
            client.start()
        except (ControlError, OSError) as exc:
            log.debug("pane monitor: connect failed: %s", exc)
            return False
        self._client = client
        self.stats.connects += 1
        client.send([f"refresh-client -B '{DEAD_SUB}:%*:{_DEAD_FORMAT}'"])
        first = not self._ever_connected
        self._refresh(link=True, link_now=True, first=first)
        self._ever_connected = True
        came_back, self._lost_reported = self._lost_reported, False
        now = time.monotonic()
        self._next_tick = now + self.tick
        self._next_sweep = now + self.sweep
        with self._cond:
            self._dirty.update(p for p, st in self._panes.items() if not st.finished)
        self._connected.set()
        if came_back and self._on_reconnect is not None:
            try:
                self._on_reconnect()
            except Exception:  # the monitor must outlive a failing owner
                log.exception("pane monitor: on_reconnect failed")
        return True

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._connected.clear()
        if client is not None:
            client.close()

    def _disconnected(self, reason: str) -> None:
        """The control client ended: reconnect at once if the server lives, else report."""
        self._drop_client()
        sessions = self._server_sessions()
        if sessions is not None and (MONITOR_SESSION in sessions
                                     or any(s.startswith(SESSION_PREFIX) for s in sessions)):
            log.info("pane monitor: control client ended (%s); reconnecting", reason)
            return  # the run loop reconnects; pane ids are still valid
        live = [p for p in self._panes.values() if not p.finished]
        if not self._lost_reported:
            for pane in live:
                self._emit(ev.AgentLost(agent=pane.agent, reason="the tmux server is gone"))
            self._emit(ev.Error(
                kind="tmux", message=f"tmux server {self.socket_name!r} is gone ({reason}); "
                                     "retrying every second",
            ))
            self._lost_reported = True
        self._panes.clear()
        self._by_agent.clear()
        self._unknown_dirty.clear()
        self._unlinked_seen.clear()

    # one round of the loop -------------------------------------------------------------------

    def _step(self) -> None:
        with self._cond:
            while True:
                if self._stopping.is_set():
                    return
                now = time.monotonic()
                if self._notes or self._closed_reason is not None:
                    break
                due = min(self._next_tick, self._next_sweep)
                if self._need_refresh:
                    due = min(due, self._last_refresh + 0.05)
                if self._dirty:
                    due = min(due, self._capture_due(now))
                if due <= now:
                    break
                self._cond.wait(due - now)
            notes, self._notes = self._notes, []
            closed = self._closed_reason
        if closed is not None:
            self._disconnected(closed)
            return
        for line in notes:
            self._handle_note(line)
        now = time.monotonic()
        if self._need_refresh and now - self._last_refresh >= 0.05:
            self._refresh()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep
            self._refresh(link=True)
        self._capture_dirty()
        now = time.monotonic()
        if now >= self._next_tick:
            self._next_tick = now + self.tick
            self._status_tick()
            self._check_deaths()

    def _pane_due(self, pane: _Pane | None, now: float) -> float:
        """When ``pane`` may be captured next (its token bucket has a whole token)."""
        if pane is None:
            return now
        tokens = min(PANE_BURST, pane.tokens + (now - pane.tokens_at) / self.pane_interval)
        return now if tokens >= 1.0 else now + (1.0 - tokens) * self.pane_interval

    def _capture_due(self, now: float) -> float:
        """When the next capture batch may run (called with the lock held)."""
        earliest = min(self._pane_due(self._panes.get(p), now) for p in self._dirty)
        return max(earliest, self._last_batch + self.batch_interval)

    # notifications ---------------------------------------------------------------------------

    def _handle_note(self, line: bytes) -> None:
        self.stats.extra["notes"] = self.stats.extra.get("notes", 0) + 1
        if line.startswith(b"%subscription-changed "):
            head, sep, value = line.partition(b" : ")
            fields = head.split()
            if sep and len(fields) >= 6 and fields[1] == DEAD_SUB.encode():
                self._on_dead_report(fields[5].decode(), value.decode("utf-8", "replace"))
        elif line.startswith((b"%pause ", b"%pane-mode-changed ")):
            pane = line.split()[1].decode()
            with self._cond:
                self._dirty.add(pane)
        elif line.startswith((b"%sessions-changed", b"%window-add", b"%window-close",
                              b"%unlinked-window-close", b"%layout-change",
                              b"%unlinked-window-add")):
            self._need_refresh = True
        elif line.startswith(b"%exit"):
            pass  # the reader reports the close when the stream ends

    def _on_dead_report(self, pane_id: str, value: str) -> None:
        parts = [*value.split(" "), "", "", ""][:3]
        pane = self._panes.get(pane_id)
        if pane is None or pane.finished:
            if pane is None and parts[0] == "1":
                self._need_refresh = True
            return
        if parts[0] != "1":
            return
        code = int(parts[1]) if parts[1].strip().lstrip("-").isdigit() else None
        sig = signal_name(parts[2]) or ""
        self._mark_dead(pane, code, sig)
        self._check_deaths()

    def _mark_dead(self, pane: _Pane, code: int | None, sig: str) -> None:
        if not pane.dead:
            pane.dead = True
            pane.dead_seen = time.monotonic()
        if code is not None or sig:
            pane.dead_code, pane.dead_signal = code, sig

    # the pane map ----------------------------------------------------------------------------

    def _command(self, command: str, timeout: float = 5.0) -> Reply | None:
        client = self._client
        if client is None:
            return None
        self.stats.commands += 1
        reply = client.run(command, timeout)
        return reply if reply.done else None

    def _refresh(self, link: bool = False, link_now: bool = False, first: bool = False) -> None:
        """Re-read the pane map (``list-panes -a`` on the control connection). With ``link``,
        link agent windows missing from the monitor session: at once with ``link_now`` (on
        connect), otherwise only windows seen unlinked by two sweeps in a row, so a window the
        driver is about to link is never linked twice. ``first``: the first connection, when
        panes already dead were reported by whoever adopted them (no AgentExited)."""
        self._need_refresh = False
        self._last_refresh = time.monotonic()
        self.stats.refreshes += 1
        reply = self._command(f"list-panes -a -F '{_PANE_FORMAT}'")
        if reply is None or not reply.ok:
            return
        rows = []
        monitor_windows: set[str] = set()
        for line in reply.text():
            parts = line.split("\t", len(_PANE_FIELDS) - 1)
            if len(parts) != len(_PANE_FIELDS):
                continue
            if parts[8] == MONITOR_SESSION:
                monitor_windows.add(parts[7])
            elif parts[8].startswith(SESSION_PREFIX):
                rows.append(parts)
        now = time.monotonic()
        listed: set[str] = set()
        to_link: list[str] = []
        unlinked: set[str] = set()
        for pane_id, pid, dead, status, sig, width, height, window_id, session in rows:
            agent = session[len(SESSION_PREFIX):]
            if pane_id in listed or (agent in self._by_agent
                                     and self._by_agent[agent] in listed):
                continue  # one pane per agent: the first listed
            listed.add(pane_id)
            if window_id not in monitor_windows:
                unlinked.add(window_id)
                if link and (link_now or window_id in self._unlinked_seen):
                    to_link.append(window_id)
            pane = self._panes.get(pane_id)
            if pane is None:
                pane = _Pane(agent=agent, pane_id=pane_id)
                self._panes[pane_id] = pane
                old = self._by_agent.get(agent)
                if old is not None and old != pane_id and old in self._panes:
                    # A new incarnation (restart): the old pane is history, reported or not.
                    self._panes[old].finished = True
                self._by_agent[agent] = pane_id
                if dead == "1" and first:
                    pane.finished = True  # already exited before we looked: the owner knows
                with self._cond:
                    if pane_id in self._unknown_dirty or not pane.finished:
                        self._dirty.add(pane_id)
                self._unknown_dirty.discard(pane_id)
                self._pattern_errors(agent)
            pane.pid = int(pid or 0)
            pane.window_id = window_id
            pane.vanished_at = 0.0
            new_w, new_h = int(width or 0), int(height or 0)
            if (new_w, new_h) != (pane.width, pane.height):
                pane.width, pane.height = new_w, new_h
                if pane.screen is not None and not pane.finished:
                    with self._cond:
                        self._dirty.add(pane_id)
            if dead == "1" and not pane.finished:
                code = int(status) if status.strip().lstrip("-").isdigit() else None
                self._mark_dead(pane, code, signal_name(sig) or "")
        if link:
            self._unlinked_seen = unlinked
        for pane_id, pane in self._panes.items():
            if pane_id not in listed and not pane.finished and not pane.vanished_at:
                pane.vanished_at = now
        # Forget finished panes that are gone from tmux.
        for pane_id in [p for p, st in self._panes.items() if st.finished and p not in listed]:
            pane = self._panes.pop(pane_id)
            if self._by_agent.get(pane.agent) == pane_id:
                del self._by_agent[pane.agent]
        if to_link and self._client is not None:
            cmds = [f"link-window -d -s {w} -t '={MONITOR_SESSION}:'" for w in to_link]
            self.stats.commands += len(cmds)
            self._client.send(cmds)
        if any(p.dead and not p.finished for p in self._panes.values()):
            self._check_deaths()

    # per-agent settings ----------------------------------------------------------------------

    def _resolve(self, arg: Any, agent: str) -> Any:
        if callable(arg):
            return arg(agent)
        if isinstance(arg, Mapping):
            return arg.get(agent)
        return arg

    def _patterns(self, agent: str) -> CompiledPatterns:
        compiled = self._compiled.get(agent)
        if compiled is None:
            override = self._overrides.get(agent)
            spec = override[0] if override and override[0] is not None else \
                self._resolve(self._patterns_arg, agent)
            compiled = compile_from(spec)
            self._compiled[agent] = compiled
        return compiled

    def _pattern_errors(self, agent: str) -> None:
        compiled = self._patterns(agent)
        if compiled.errors:
            self._emit(ev.Error(kind="error", agent=agent,
                                message=f"bad status pattern(s) for {agent}: "
                                        + "; ".join(compiled.errors)))

    def _stall_after(self, agent: str) -> float | None:
        override = self._overrides.get(agent)
        if override is not None and override[1] is not None:
            return override[1]
        value = self._resolve(self._stall_arg, agent)
        return float(value) if value is not None else None

    # captures --------------------------------------------------------------------------------

    def _capture_dirty(self) -> None:
        now = time.monotonic()
        if now - self._last_batch < self.batch_interval:
            return
        ready: list[_Pane] = []
        unknown = False
        with self._cond:
            if not self._dirty:
                return
            for pane_id in list(self._dirty):
                pane = self._panes.get(pane_id)
                if pane is None:
                    self._dirty.discard(pane_id)
                    self._unknown_dirty.add(pane_id)
                    unknown = True
                elif pane.finished or pane.dead or pane.vanished_at:
                    self._dirty.discard(pane_id)
                elif self._pane_due(pane, now) <= now:
                    self._dirty.discard(pane_id)
                    ready.append(pane)
        if unknown:
            self._need_refresh = True
        if not ready:
            return
        self._last_batch = now
        for pane in ready:
            pane.tokens = min(PANE_BURST, pane.tokens + (now - pane.tokens_at) / self.pane_interval)
            pane.tokens -= 1.0
            pane.tokens_at = now
        self._capture(ready)

    def _capture(self, panes: list[_Pane], wait: float = 5.0, final: bool = False) -> None:
        """Capture ``panes`` in one write. ``final``: dead panes, with a few rows of history
        too (tmux's "Pane is dead" banner scrolls the screen up by a row)."""
        client = self._client
        if client is None:
            return
        history = f" -S -{EXIT_LINES}" if final else ""
        cmds = ["refresh-client " + " ".join(f"-A '{p.pane_id}:continue'" for p in panes)]
        cmds += [f"capture-pane -p -e{history} -t {p.pane_id}" for p in panes]
        self.stats.batches += 1
        self.stats.captures += len(panes)
        self.stats.commands += len(cmds)
        replies = client.send(cmds)
        if not replies[-1].wait(wait):
            log.warning("pane monitor: no reply to a capture batch in %ss", wait)
            return
        for pane, reply in zip(panes, replies[1:], strict=True):
            if not reply.ok:
                self._need_refresh = True  # the pane is gone: the map is stale
                continue
            rows = reply.text()
            if final:
                pane.final_rows = rows
                rows = rows[-pane.height:] if pane.height else rows
            self._apply_capture(pane, rows)

    def _apply_capture(self, pane: _Pane, rows: list[str]) -> None:
        height = pane.height or len(rows)
        if rows and len(rows) != height:
            self._need_refresh = True  # resized since the last list-panes
            height = len(rows)
        screen = fit_screen(rows, height)
        if screen == pane.screen:
            return
        now = self.clock()
        size = (pane.width, height)
        if needs_keyframe(has_previous=pane.screen is not None,
                          last_keyframe_at=pane.last_keyframe_at, now=now,
                          old_size=pane.screen_size, new_size=size,
                          interval=self.keyframe_interval):
            pane.last_keyframe_at = now
            self._emit(ev.AgentOutput(agent=pane.agent, changes=keyframe_changes(screen),
                                      keyframe=True, width=pane.width, height=height, ts=now,
                                      pane=pane.pane_id))
        else:
            self._emit(ev.AgentOutput(agent=pane.agent, changes=diff_screens(pane.screen or [],
                                                                              screen),
                                      ts=now, pane=pane.pane_id))
        self.stats.outputs += 1
        pane.screen = screen
        pane.screen_size = size
        pane.last_change = now
        patterns = self._patterns(pane.agent)
        pane.match = match_screen(screen, patterns)
        pane.prompt_seen = prompt_seen(pane.prompt_seen, pane.match, patterns)
        self._update_status(pane, now)

    # statuses and deaths ---------------------------------------------------------------------

    def _update_status(self, pane: _Pane, now: float) -> None:
        if pane.finished or pane.dead or pane.screen is None:
            return
        status, reason = decide_status(
            pane.match, now=now, last_change=pane.last_change, alive=True,
            holds_task=bool(self._holds_task(pane.agent)),
            stall_after=self._stall_after(pane.agent), working_for=self.working_for,
            prompt_seen=pane.prompt_seen,
        )
        if status != pane.status:
            pane.status = status
            self._emit(ev.AgentStatus(agent=pane.agent, status=status, explicit=False,
                                      reason=reason, ts=now, source=ev.SOURCE_SCREEN))

    def _status_tick(self) -> None:
        now = self.clock()
        for pane in list(self._panes.values()):
            self._update_status(pane, now)

    def _check_deaths(self) -> None:
        mono = time.monotonic()
        finals: list[_Pane] = []
        for pane in list(self._panes.values()):
            if pane.finished:
                continue
            if pane.vanished_at:
                if mono - pane.vanished_at >= VANISH_GRACE and \
                        self._by_agent.get(pane.agent) == pane.pane_id:
                    self._finish(pane)
                elif self._by_agent.get(pane.agent) != pane.pane_id:
                    pane.finished = True
                continue
            if not pane.dead:
                continue
            if pane.dead_code is None and not pane.dead_signal:
                code, sig = zombie_exit(pane.pid) if pane.pid else (None, None)
                if code is not None or sig:
                    pane.dead_code, pane.dead_signal = code, sig or ""
                elif mono - pane.dead_seen < DEATH_STATUS_WAIT:
                    if not pane.poked and self._client is not None:
                        # tmux 3.3a can miss a pane's SIGCHLD; any other child exiting makes
                        # it reap (and record) the lost one.
                        pane.poked = True
                        self.stats.commands += 1
                        self._client.send(["run-shell -b true"])
                    continue
            finals.append(pane)
        if finals:
            self._capture(finals, final=True)  # the final screen (continuing them is harmless)
            for pane in finals:
                self._finish(pane)

    def _finish(self, pane: _Pane) -> None:
        pane.finished = True
        pane.status = EXITED
        self._emit(ev.AgentExited(
            agent=pane.agent, pane=pane.pane_id, code=pane.dead_code, signal=pane.dead_signal,
            last_lines=last_lines(pane.final_rows or pane.screen or [], EXIT_LINES,
                                  skip=(DEAD_PANE_BANNER,)),
        ))
