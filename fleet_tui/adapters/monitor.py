"""The pane monitor: turns what agents' panes show into AgentOutput / AgentStatus /
AgentExited / AgentLost events, event-driven, through one tmux control-mode client.

Owns the worker loop: what a notification means, when dirty panes are captured, the sweep and
the deaths. Connecting the client, its reader thread's callbacks and what its end means (a
server gone or not) are ``monitor_connection.py``'s, a base class of ``PaneMonitor``.

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
  bucket allowing a burst of two); once the session's output passed its cap, at most once
  per ``sample_every``. Nothing captures panes on a timer. A loaded machine (``load``: the
  1-minute load average per CPU, read once a tick) stretches the interval up to
  ``busy_interval`` (125 ms): panes that keep printing are captured less often, a quiet pane's
  first output still at once. What a capture, a listing or a death means is ``pane_map.py``'s.
- Deaths: a subscription (``refresh-client -B``) to ``#{pane_dead} #{pane_dead_status}
  #{pane_dead_signal}`` for all panes, reported by tmux at most once a second. When tmux
  3.3a missed the exit status and no zombie holds it, the monitor pokes tmux's reaper with a
  ``run-shell -b`` and waits for the next report (up to 3 s).
- A slow sweep (``list-panes -a``, every 5 s) re-checks the pane map and deaths.
- The tmux server dying ends the client: every live agent gets ``AgentLost`` plus one
  ``Error(kind="tmux")`` (``monitor_connection.py``); the monitor then retries every second and
  resumes (keyframes for everything) once a server with ``_fleet_monitor`` or ``fleet_*``
  sessions is back, and calls ``on_reconnect`` so its owner can adopt the agents there. It
  never starts a server.
- AgentOutput and AgentExited name the pane they come from, so a late report about a pane a
  restart replaced can be told apart from one about the new pane.

Threads: ``start()`` runs a worker thread ``fleet-monitor``; **every ``emit`` call is made on
that thread** (never two at once, never on the caller's thread). ``holds_task`` and
``on_reconnect`` are also called there. The control client has its own reader thread that only
marks panes dirty. ``watch`` and ``stop`` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters.control import ControlClient, Reply
from fleet_tui.adapters.monitor_connection import DEAD_SUB, MonitorConnection
from fleet_tui.adapters.pane_map import (
    EXIT_LINES,
    AgentSettings,
    Emit,
    MonitorStats,
    OutputCap,
    PaneMap,
    PaneRecord,
    PatternsArg,
    StallArg,
    loaded_interval,
    machine_load,
)
from fleet_tui.adapters.tmux_cli import MONITOR_SESSION, PANE_FORMAT, parse_listing
from fleet_tui.core import events as ev
from fleet_tui.core.screen import KEYFRAME_INTERVAL
from fleet_tui.core.status_rules import WORKING_FOR

log = logging.getLogger(__name__)

class PaneMonitor(MonitorConnection):
    """Watches every ``fleet_*`` agent pane on the tmux server ``socket_name``.

    ``patterns``: agent -> ``StatusPatterns`` (or any object/dict with ``waiting``,
    ``working``, ``idle``, ``done`` regex lists), as a mapping or a callable.
    ``stall_after``: agent -> seconds (mapping, callable, or one number for all; None = never).
    ``holds_task(agent)``: whether the agent holds a task (stall detection needs one).
    ``on_reconnect()``: called after connecting again to a server once reported gone.
    ``exit_known(agent, pane_id)``: whether the owner already knows that a pane the monitor
    finds dead was dead (it adopted it so); those get no AgentExited. Every other death is
    reported, also of a pane that died before the monitor first looked.
    ``clock``: the time put on events and used for status timing. ``load()``: how loaded the
    machine is (runnable processes per CPU; default ``machine_load``).
    ``output_cap``: characters of pane text this session may log before output is sampled
    (None: never), ``output_used`` already logged, ``sample_every`` seconds between a sampled
    pane's captures.
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
        exit_known: Callable[[str, str], bool] | None = None,
        working_for: float = WORKING_FOR,
        tick: float = 1.0,
        sweep: float = 5.0,
        batch_interval: float = 0.05,
        pane_interval: float = 0.1,
        busy_interval: float = 0.125,
        load: Callable[[], float] | None = None,
        keyframe_interval: float = KEYFRAME_INTERVAL,
        reconnect_interval: float = 1.0,
        output_cap: int | None = None,
        output_used: int = 0,
        sample_every: float = 5.0,
        tmux: str = "tmux",
        wrap: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self.socket_name = socket_name
        self.wrap = wrap
        self._emit_cb = emit
        self.clock = clock
        self._on_reconnect = on_reconnect
        self.tick = tick
        self.sweep = sweep
        self.batch_interval = batch_interval
        self.pane_interval = pane_interval
        self.busy_interval = busy_interval
        self._load = load or machine_load
        self._interval = pane_interval  # pane_interval stretched by the load, once a tick
        self.reconnect_interval = reconnect_interval
        self.tmux = tmux
        self.stats = MonitorStats()
        self.output = OutputCap(output_cap, output_used, sample_every)

        self._cond = threading.Condition()
        self._dirty: set[str] = set()
        self._notes: list[bytes] = []
        self._closed_reason: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: ControlClient | None = None
        self._connected = threading.Event()
        self._lost_reported = False

        # Worker-thread state.
        self._map = PaneMap(
            self._emit, clock, AgentSettings(patterns, stall_after), self.output,
            holds_task=holds_task or (lambda _agent: False),
            exit_known=exit_known or (lambda _agent, _pane: False),
            working_for=working_for, keyframe_interval=keyframe_interval,
        )
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
            self._map.settings.override(agent, patterns, stall_after)
            self._need_refresh = True
            self._cond.notify()

    def monitor_pids(self) -> list[int]:
        """Pids of the control client process (for benchmarks)."""
        client = self._client
        return [client.pid] if client is not None and client.pid else []

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
            self._follow_load()
            self._map.status_tick()
            self._check_deaths()

    def _follow_load(self) -> None:
        self._interval = loaded_interval(self.pane_interval, self.busy_interval, self._load())
        self.stats.extra["pane_interval_ms"] = round(self._interval * 1000)

    def _capture_due(self, now: float) -> float:
        """When the next capture batch may run (called with the lock held)."""
        earliest = min(self._map.due(p, now, self._interval) for p in self._dirty)
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
        what = self._map.on_dead_report(pane_id, value, time.monotonic())
        if what == "refresh":
            self._need_refresh = True
        elif what == "deaths":
            self._check_deaths()

    # the pane map ----------------------------------------------------------------------------

    def _command(self, command: str, timeout: float = 5.0) -> Reply | None:
        client = self._client
        if client is None:
            return None
        self.stats.commands += 1
        reply = client.run(command, timeout)
        return reply if reply.done else None

    def _refresh(self, link: bool = False, link_now: bool = False) -> None:
        """Re-read the pane map (``list-panes -a`` on the control connection). With ``link``,
        link agent windows missing from the monitor session: at once with ``link_now`` (on
        connect), otherwise only windows seen unlinked by two sweeps in a row, so a window the
        driver is about to link is never linked twice."""
        self._need_refresh = False
        self._last_refresh = time.monotonic()
        self.stats.refreshes += 1
        reply = self._command(f"list-panes -a -F '{PANE_FORMAT}'")
        if reply is None or not reply.ok:
            return
        rows, monitor_windows = parse_listing("\n".join(reply.text()))
        to_link, dirty = self._map.apply_listing(rows, monitor_windows, link=link,
                                                 link_now=link_now, mono=time.monotonic())
        if dirty:
            with self._cond:
                self._dirty |= dirty
        if to_link and self._client is not None:
            cmds = [f"link-window -d -s {w} -t '={MONITOR_SESSION}:'" for w in to_link]
            self.stats.commands += len(cmds)
            self._client.send(cmds)
        if self._map.has_deaths():
            self._check_deaths()

    # captures --------------------------------------------------------------------------------

    def _capture_dirty(self) -> None:
        now = time.monotonic()
        if now - self._last_batch < self.batch_interval:
            return
        with self._cond:
            ready, unknown = self._map.take_ready(self._dirty, now, self._interval)
        if unknown:
            self._need_refresh = True
        if not ready:
            return
        self._last_batch = now
        self._capture(ready)

    def _capture(self, panes: list[PaneRecord], wait: float = 5.0, final: bool = False) -> None:
        """Capture ``panes`` in one write. ``final``: dead panes, with a few rows of history
        too (tmux's "Pane is dead" banner scrolls the screen up by a row)."""
        if (client := self._client) is None:
            return
        history = f" -S -{EXIT_LINES}" if final else ""
        cmds = ["refresh-client " + " ".join(f"-A '{p.pane_id}:continue'" for p in panes)]
        cmds += [f"capture-pane -p -e{history} -t {p.pane_id}" for p in panes]
        self.stats.batches += 1
        self.stats.captures += len(panes)
        self.stats.commands += len(cmds)
        replies = client.send(cmds)
        if not replies[-1].wait(wait):  # seen on a machine loaded 25+ deep: try them again
            log.warning("pane monitor: no reply to a capture batch in %ss", wait)
            for pane in panes:  # their late replies are dropped, and they may print no more
                self._on_output(pane.pane_id)
            return
        for pane, reply in zip(panes, replies[1:], strict=True):
            if not reply.ok:
                self._need_refresh = True  # the pane is gone: the map is stale
                continue
            rows = reply.text()
            if final:
                pane.final_rows = rows
                rows = rows[-pane.height:] if pane.height else rows
            emitted, stale = self._map.apply_capture(pane, rows, time.monotonic())
            self.stats.outputs += emitted
            self._need_refresh = self._need_refresh or stale  # resized since the listing

    # deaths ----------------------------------------------------------------------------------

    def _check_deaths(self) -> None:
        finals, poke = self._map.deaths(time.monotonic())
        if poke and self._client is not None:
            self.stats.commands += 1
            self._client.send(["run-shell -b true"])  # makes tmux reap a pane it missed
        if finals:
            self._capture(finals, final=True)  # the final screen (continuing them is harmless)
            for pane in finals:
                self._map.finish(pane)
