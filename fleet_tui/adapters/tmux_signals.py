"""Pausing, resuming and ending agents: a part of ``TmuxDriver`` (``tmux.py``), the steps that
signal an agent's processes (read from ``/proc``: ``procs.py``).

- Pause/resume signal the agent's process group(s), never the pane's own process (tmux
  SIGCONTs that), plus any descendants that left the group with ``setsid()``; the walk is
  repeated so processes forked meanwhile are caught (a stopped process cannot fork).
- ``kill`` ends an agent gracefully, step by step (Ctrl-C twice, SIGTERM, then the window
  killed), ``kill_server`` the whole private server; both then end what the agents left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING

from fleet_tui.adapters.procs import (
    Proc,
    all_procs,
    descendants,
    is_alive,
    read_proc,
    reap,
    send_signal,
    wait_for,
)
from fleet_tui.adapters.tmux_cli import PaneInfo

if TYPE_CHECKING:
    from fleet_tui.adapters.tmux import TmuxDriver

    _Base = TmuxDriver
else:
    _Base = object


class AgentSignals(_Base):
    """Pause, resume and kill; a base of ``TmuxDriver`` (its ``pane``, ``run``, ``server``)."""

    # --- process groups ---------------------------------------------------------------------

    def _groups(self, pane: PaneInfo) -> tuple[set[int], set[int], list[Proc]]:
        """The agent's process groups and the lone pids to signal (the pane process excluded),
        and the processes seen. The foreground group (tpgid) comes from the supervisor."""
        procs = all_procs()
        sup = procs.get(pane.pid)
        if sup is None:
            return set(), set(), []
        tree = descendants(pane.pid, procs)
        groups: set[int] = set()
        if sup.tpgid > 0 and sup.tpgid != sup.pgrp:
            groups.add(sup.tpgid)
        singles: set[int] = set()
        for proc in tree:
            if proc.pgrp == sup.pgrp:
                singles.add(proc.pid)  # still in the supervisor's group: never signal that group
            else:
                groups.add(proc.pgrp)
        return groups, singles, tree

    def _signal_agent(self, pane: PaneInfo, sig: int, rounds: int = 3) -> list[Proc]:
        """Send ``sig`` to every group and process of the agent; repeat the walk so processes
        forked meanwhile are caught (a stopped process cannot fork). Returns all seen."""
        seen: dict[int, Proc] = {}
        done: set[tuple[str, int]] = set()
        for _ in range(rounds):
            groups, singles, tree = self._groups(pane)
            seen.update((p.pid, p) for p in tree)
            todo = {("g", g) for g in groups} | {("p", p) for p in singles}
            if not todo - done:
                break
            for kind, ident in sorted(todo - done):  # "g" before "p": groups first
                send_signal(ident, sig, group=kind == "g")
            done |= todo
        return list(seen.values())

    def pause(self, name: str) -> bool:
        """SIGSTOP the agent's process group(s) and escaped descendants; False if not running."""
        pane = self.pane(name)
        if pane is None or pane.dead:
            return False
        self._signal_agent(pane, signal.SIGSTOP)
        return True

    def resume(self, name: str) -> bool:
        """SIGCONT everything ``pause`` stopped; False if not running."""
        pane = self.pane(name)
        if pane is None or pane.dead:
            return False
        self._signal_agent(pane, signal.SIGCONT, rounds=1)
        return True

    def is_paused(self, name: str) -> bool:
        """The agent's foreground group leader is stopped (state ``T``)."""
        pane = self.pane(name)
        sup = read_proc(pane.pid) if pane is not None and not pane.dead else None
        if sup is None or sup.tpgid <= 0 or sup.tpgid == sup.pgrp:
            return False
        leader = read_proc(sup.tpgid)
        return leader is not None and leader.state == "T"

    # --- kill -------------------------------------------------------------------------------

    def kill(self, name: str, timeout: float = 5.0) -> str:
        """End the agent gracefully and remove its session; returns the step that ended it:

        ``"interrupt"`` (Ctrl-C, sent twice: some agents ask for a second one), ``"term"``
        (SIGTERM to its groups), ``"kill"`` (the window killed, survivors SIGKILLed),
        ``"exited"`` (it had already exited) or ``"gone"`` (no such session). Each graceful
        step waits up to ``timeout / 2``. Processes the agent left behind (its own
        ``setsid()`` children included) are terminated too.
        """
        pane = self.pane(name)
        if pane is None:
            return "gone"
        sup = read_proc(pane.pid)
        tracked: dict[int, Proc] = {}
        if sup is not None and not pane.dead:
            tracked[sup.pid] = sup

        def track() -> None:
            if sup is not None:
                tracked.update((p.pid, p) for p in descendants(sup.pid))

        def agent_gone() -> bool:
            return sup is None or not is_alive(sup.pid, sup.start)

        step = timeout / 2
        if pane.dead or agent_gone():
            how = "exited"
        else:
            track()
            self._signal_agent(pane, signal.SIGCONT, rounds=1)  # a paused agent cannot react
            self.run("send-keys", "-t", pane.pane_id, "C-c", check=False)
            if wait_for(agent_gone, min(0.5, step)):
                how = "interrupt"
            else:
                self.run("send-keys", "-t", pane.pane_id, "C-c", check=False)
                how = "interrupt" if wait_for(agent_gone, max(0.0, step - 0.5)) else ""
            if not how:
                track()
                self._signal_agent(pane, signal.SIGTERM)
                self._signal_agent(pane, signal.SIGCONT, rounds=1)
                how = "term" if wait_for(agent_gone, step) else "kill"
        track()
        self._kill_window(pane)
        reap(tracked)
        return how

    def _kill_window(self, pane: PaneInfo) -> None:
        """kill-window (the window is also linked into the monitor session, so kill-session
        alone would leave it alive), then the session if anything is left of it."""
        target = pane.window_id or self.target(pane.agent)
        self.run("kill-window", "-t", target, check=False)
        self.run("kill-session", "-t", f"={pane.session}", check=False)

    def kill_server(self) -> None:
        """Kill the whole private server (every agent and the monitor session), then whatever
        the agents leave behind (tmux only hangs up their terminals)."""
        tracked: dict[int, Proc] = {}
        procs = all_procs()
        for pane in self.list_agent_panes():
            sup = procs.get(pane.pid)
            if not pane.dead and sup is not None:
                tracked[sup.pid] = sup
                tracked.update((p.pid, p) for p in descendants(sup.pid, procs))
        if self.server.is_alive():
            socket_path = self.run("display-message", "-p", "#{socket_path}",
                                   check=False).stdout.strip()
            self.server.kill()
            if socket_path:  # tmux 3.3a leaves its socket file behind
                with contextlib.suppress(OSError):
                    os.unlink(socket_path)
        if tracked:
            reap(tracked)
