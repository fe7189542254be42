"""The fleet's remote hosts inside the daemon: their links, drivers and pane monitors, and
what a link dropping or coming back means for the log.

At start every host's link is opened once, all at once (``connect``), waiting ``START_WAIT``
at most; a host that cannot be reached by then is reported ``host.unreachable`` with an
alert once the log is open (``report_down``), and its agents are neither marked lost nor
spawned (its keeper reports it up when its first attempt, still going, or a later one
succeeds). ``start`` gives each host its pane monitor (over its link) and its keeper thread:
a drop becomes ``host.unreachable`` plus an alert; a link opened again (and fleet-tui
answering there) ``host.reachable`` with the gap, then the service re-adopts that host's
agents and starts those that never started (``on_back``: a host down since the start has no
server for a monitor to attach to until its agents are started); only then is the host
``ready`` and its monitor attaches again, capturing what each screen shows now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters.hosts import Host, HostRouter
from fleet_tui.adapters.remote import RemotePaneMonitor
from fleet_tui.adapters.ssh_advice import unreachable
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import TmuxError
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev

log = logging.getLogger(__name__)

#: Seconds the fleet's start waits for its hosts' links (and their fleet-tui check).
START_WAIT = 5.0
#: How often a host's monitor looks whether its link is back (a look costs nothing while the
#: link is down: no process is started).
RECONNECT_POLL = 0.1


class RemoteHosts:
    def __init__(self, config: FleetConfig, socket_name: str,
                 submit: Callable[[ev.Event], ev.Event], ssh_options: tuple[str, ...] = ()) -> None:
        self.submit = submit
        self.hosts = {
            h.name: Host(h, socket_name, self._on_change, ssh_options)
            for h in config.hosts
        }
        self.monitors: dict[str, RemotePaneMonitor] = {}
        #: The hosts up when ``connect`` returned.
        self.up_at_start: set[str] = set()
        self._on_back: Callable[[str], None] = lambda _host: None

    def connect(self, wait: float = START_WAIT) -> None:
        """Open every host's link, all at once, waiting ``wait`` seconds at most: a host still
        connecting then (no answer yet) is down for the start, so the fleet does not wait on
        it; its keeper reports it up once that attempt, or a later one, succeeds."""
        tries = [host.connect_in_background() for host in self.hosts.values()]
        deadline = time.monotonic() + wait
        for thread in tries:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.up_at_start = {name for name, host in self.hosts.items() if host.up}
        for name in self.up_at_start:
            self.hosts[name].ready = True
        for name, host in self.hosts.items():
            if name not in self.up_at_start and not host.error:
                host.error = f"no answer within {wait:g}s (still trying)"

    def router(self, local: TmuxDriver, launches: dict[str, AgentLaunch]) -> HostRouter:
        def host_of(name: str) -> str:
            launch = launches.get(name)
            return launch.host if launch is not None else ""

        return HostRouter(local, self.hosts, host_of)

    @property
    def down(self) -> set[str]:
        """The hosts that were not up when ``connect`` returned (one may be up by now: its
        keeper says so, once the fleet has started)."""
        return set(self.hosts) - self.up_at_start

    def report_down(self) -> None:
        for name in self.down:
            host = self.hosts[name]
            host.reported_down = True
            self._on_change(name, False, host.error or "cannot connect", 0.0)

    def start(self, monitor_options: dict[str, Any], on_back: Callable[[str], None],
              on_message: Callable[[bytes], None]) -> None:
        self._on_back = on_back
        for name, host in self.hosts.items():
            options = {**monitor_options, "on_reconnect": lambda n=name: on_back(n),
                       "on_message": on_message, "reconnect_interval": RECONNECT_POLL}
            monitor = RemotePaneMonitor(host.driver, ready=lambda h=host: h.ready, **options)
            self.monitors[name] = monitor
            monitor.start()
            host.start()

    def watch(self, launch: AgentLaunch, patterns: Any, stall_after: float | None) -> None:
        monitor = self.monitors.get(launch.host)
        if monitor is not None:
            monitor.watch(launch.name, patterns, stall_after)

    def stop(self, kill_servers: bool = False) -> None:
        """Stop watching and close the links; ``kill_servers``: end each reachable host's
        tmux server first (the fleet is stopped with its agents)."""
        for monitor in self.monitors.values():
            monitor.stop()
        self.monitors.clear()
        for host in self.hosts.values():
            if kill_servers and host.up:
                try:
                    host.driver.kill_server()
                except TmuxError as exc:
                    log.info("host %s: kill-server: %s", host.name, exc)
            host.stop()

    def _on_change(self, name: str, up: bool, reason: str, gap: float) -> None:
        if up:
            self.submit(ev.HostReachable(host=name, gap=round(gap, 3)))
            self._on_back(name)  # (its monitor calls it too, once it is attached again)
            return
        self.submit(ev.HostUnreachable(host=name, reason=reason))
        self.submit(ev.Alert(kind=ev.ALERT_HOST, key=name,
                             message=unreachable(name, reason)))
