"""The pane monitor's control-mode connection: a part of ``PaneMonitor`` (``monitor.py``).

Owns connecting the one ``tmux -C`` client (``control.py``) to the ``_fleet_monitor`` session
(made first if missing, when the server has ``fleet_*`` sessions: it never starts a server),
subscribing to deaths (``DEAD_SUB``) and re-reading the pane map on connect; the callbacks the
client's reader thread makes (they only note dirty panes, notifications and the close); and,
when the client ends, telling a server still there (the run loop connects again, pane ids
still valid) from one gone (every live agent ``AgentLost`` plus one ``Error(kind="tmux")``,
once). A monitor connecting again after a loss calls ``on_reconnect``.
"""

from __future__ import annotations

import logging
import subprocess
import time
from typing import TYPE_CHECKING

from fleet_tui.adapters.control import ControlClient, ControlError
from fleet_tui.adapters.tmux_cli import (
    MONITOR_COMMAND,
    MONITOR_SESSION,
    SESSION_PREFIX,
    run_tmux,
    server_sessions,
)
from fleet_tui.core import events as ev

if TYPE_CHECKING:
    from fleet_tui.adapters.monitor import PaneMonitor

    _Base = PaneMonitor
else:
    _Base = object

log = logging.getLogger(__name__)

#: Subscription used for deaths.
DEAD_SUB = "fleet-dead"
_DEAD_FORMAT = "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}"


class MonitorConnection(_Base):
    """The control client's connection; a base of ``PaneMonitor`` (its state and pane map)."""

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

    # connection ------------------------------------------------------------------------------

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_tmux(self.tmux, self.socket_name, *args, wrap=self.wrap)

    def _connect(self) -> bool:
        sessions = server_sessions(self.tmux, self.socket_name, self.wrap)
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
            flags=("ignore-size", "pause-after"), tmux=self.tmux, wrap=self.wrap,
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
        self._refresh(link=True, link_now=True)
        came_back, self._lost_reported = self._lost_reported, False
        now = time.monotonic()
        self._next_tick = now + self.tick
        self._next_sweep = now + self.sweep
        self._follow_load()
        with self._cond:
            self._dirty.update(p for p, st in self._map.panes.items() if not st.finished)
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
        sessions = server_sessions(self.tmux, self.socket_name, self.wrap)
        if sessions is not None and (MONITOR_SESSION in sessions
                                     or any(s.startswith(SESSION_PREFIX) for s in sessions)):
            log.info("pane monitor: control client ended (%s); reconnecting", reason)
            return  # the run loop reconnects; pane ids are still valid
        if not self._lost_reported:
            self._map.server_gone(lost=True)
            self._emit(ev.Error(
                kind="tmux", message=f"tmux server {self.socket_name!r} is gone ({reason}); "
                                     "retrying every second",
            ))
            self._lost_reported = True
        self._map.server_gone(lost=False)
