"""Remote hosts as the daemon sees them: each host's link kept up, and one driver for the whole
fleet that sends each agent's operations to the server it runs on.

``Host`` owns one ``SshLink``, the ``RemoteTmuxDriver`` and the ``RemoteFiles`` (its agents'
transcripts) on it. ``connect`` makes the first attempt (a link whose far end has no fleet-tui
is not a connection: ``error`` says what to do); ``start`` runs a thread that waits on the
link's master and, when it drops, reports the host down (``on_change(host, False, reason,
0)``), then opens it again with a growing delay (``BACKOFF``) and reports it up with the
length of the gap.

``HostRouter`` looks like a ``TmuxDriver`` to the daemon: the fleet's own server (the
daemon's, the session option, local agents) answers server-level questions (``kill_server``
too: the hosts' servers are ended by ``RemoteHosts.stop`` while their links are up); every
operation on an agent goes to the driver of the agent's host (``host_of(name)``); the pane
listing is every reachable server's, and ``unlisted`` names the hosts that could not be asked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters.remote import RemoteTmuxDriver
from fleet_tui.adapters.remote_files import RemoteFiles
from fleet_tui.adapters.ssh import SshError, SshLink, SshTarget
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import PaneInfo, TmuxError
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import HostSpec

log = logging.getLogger(__name__)

#: Seconds between attempts to open a dropped link again (the last one repeats).
BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

#: ``on_change(host, up, reason, gap_seconds)``.
HostChange = Callable[[str, bool, str, float], None]


def target_for(spec: HostSpec, options: tuple[str, ...] = ()) -> SshTarget:
    return SshTarget(spec.name, spec.ssh, spec.port, spec.identity, options)


def host_driver(spec: HostSpec, socket_name: str, options: tuple[str, ...] = ()) -> RemoteTmuxDriver:
    """The driver of a host's server over its link (the daemon's master, when it runs)."""
    return RemoteTmuxDriver(socket_name, SshLink(target_for(spec, options)), python=spec.python)


class Host:
    """One remote host: its link, its driver, and the thread that keeps the link up."""

    def __init__(self, spec: HostSpec, socket_name: str, on_change: HostChange,
                 options: tuple[str, ...] = (), backoff: tuple[float, ...] = BACKOFF) -> None:
        self.name = spec.name
        self.driver = host_driver(spec, socket_name, options)
        self.link = self.driver.link
        #: The host's files (its agents' transcripts), read over the same link.
        self.files = RemoteFiles(self.link, spec.python)
        self.on_change = on_change
        self.backoff = backoff
        self.up = False
        self.error = ""
        self._down_since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The first attempt, when made in the background (the keeper waits for it).
        self._first: threading.Thread | None = None
        #: Whether the host was reported down when the fleet started.
        self.reported_down = False
        #: The link is up and the fleet has been told so: the host may be watched.
        self.ready = False

    def connect(self, timeout: float = 15.0) -> bool:
        """Open the link once and check that fleet-tui answers at its far end; False (and
        ``error`` says why, and what to do) if not."""
        try:
            self.link.open(timeout)
        except SshError as exc:
            self.error = str(exc)
            return False
        self.error = self.driver.problem()
        if self.error:
            self.link.close()
            return False
        self.up = True
        return True

    def connect_in_background(self) -> threading.Thread:
        """The first attempt, on a thread of its own; the keeper (``start``) waits for it and
        reports the host up if it succeeded after the host was ``reported_down``."""
        self._first = threading.Thread(target=self.connect, name=f"fleet-connect-{self.name}",
                                       daemon=True)
        self._first.start()
        return self._first

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"fleet-host-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.link.close()  # ends the wait on the master, and a first attempt's wait
        for thread in (self._thread, self._first):
            if thread is not None and thread is not threading.current_thread():
                thread.join(10)
        self.link.close()  # (a first attempt may have opened it meanwhile)

    def _run(self) -> None:
        if self._first is not None:
            self._first.join()
            if self.up and self.reported_down and not self._stop.is_set():
                self._tell(True, "", time.monotonic() - self._down_since)
            self.ready = self.up
        attempt = 0
        while not self._stop.is_set():
            if self.up:
                self.link.wait_closed()
                if self._stop.is_set():
                    return
                self.up = self.ready = False
                attempt = 0
                self._down_since = time.monotonic()
                self._tell(False, "the SSH connection dropped")
                continue
            if self._stop.wait(self.backoff[min(attempt, len(self.backoff) - 1)]):
                return
            attempt += 1
            if self.connect():
                self._tell(True, "", time.monotonic() - self._down_since)
                self.ready = True
            else:
                log.info("host %s: still unreachable: %s", self.name, self.error)

    def _tell(self, up: bool, reason: str, gap: float = 0.0) -> None:
        try:
            self.on_change(self.name, up, reason, gap)
        except Exception:  # the link keeper must outlive a failing listener
            log.exception("host %s: on_change failed", self.name)


#: Driver operations whose first argument is an agent's name.
PER_AGENT = frozenset({"pane", "exists", "capture", "press", "resize", "pause", "resume",
                       "is_paused", "kill", "send_prompt", "attach_argv"})


class HostRouter:
    """The fleet's driver when some agents run on other hosts."""

    def __init__(self, local: TmuxDriver, hosts: dict[str, Host],
                 host_of: Callable[[str], str]) -> None:
        self.local = local
        self.hosts = hosts
        self.host_of = host_of
        self.socket_name = local.socket_name
        #: Hosts the last ``list_agent_panes`` could not ask.
        self.unlisted: set[str] = set()

    def driver_for(self, host: str) -> TmuxDriver:
        if not host:
            return self.local
        if host not in self.hosts:
            raise TmuxError(f"no host named {host!r}")
        return self.hosts[host].driver

    def __getattr__(self, attr: str) -> Any:
        if attr in PER_AGENT:
            return lambda name, *a, **kw: getattr(self.driver_for(self.host_of(name)), attr)(
                name, *a, **kw)
        return getattr(self.local, attr)  # the fleet's own server: options, monitor, run

    def spawn(self, launch: AgentLaunch, session_id: str, extra_env: dict[str, str] | None = None,
              server_options: dict[str, str] | None = None) -> PaneInfo:
        """As ``TmuxDriver.spawn``; ``server_options`` belong to the fleet's own server."""
        if not launch.host:
            return self.local.spawn(launch, session_id, extra_env, server_options)
        info = self.driver_for(launch.host).spawn(launch, session_id, extra_env)
        if server_options and self.local.is_running():
            for key, value in server_options.items():
                self.local.set_server_option(key, value)
        return info

    def list_agent_panes(self) -> list[PaneInfo]:
        panes = self.local.list_agent_panes()
        self.unlisted = set()
        for name, host in self.hosts.items():
            try:
                if host.up:
                    panes += host.driver.list_agent_panes()
                    continue
            except TmuxError as exc:
                log.info("host %s: cannot list panes: %s", name, exc)
            self.unlisted.add(name)
        return panes
