"""The daemon process (``fleet-tui daemon --config FILE``): runs the fleet service and its
control server until a client asks it to stop or it is signalled.

Exit codes tell the respawn loop what to do: 0 stopped on purpose, 1 a problem a restart
cannot fix (bad config), ``EXIT_OWNED`` another daemon already runs this fleet; anything
else (a crash, a signal) is worth a restart.
"""

from __future__ import annotations

import signal
import sys
import threading

from fleet_tui.adapters.control_socket import control_path
from fleet_tui.adapters.eventlog import LogLockedError
from fleet_tui.adapters.ssh_advice import unreachable
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.daemon.control import ControlServer
from fleet_tui.daemon.respawn import EXIT_OWNED
from fleet_tui.daemon.service import FleetService


class Daemon:
    """The service and its control server, started and closed together (the daemon process
    runs one; tests run one in-process on their own tmux server)."""

    def __init__(self, loaded: LoadedConfig, *, driver: TmuxDriver | None = None,
                 skip_corrupt: bool = False, ssh_options: tuple[str, ...] = ()) -> None:
        self.service = FleetService(loaded, driver=driver, skip_corrupt=skip_corrupt,
                                    ssh_options=ssh_options)
        #: Set when a client asked the fleet to stop, or a signal came.
        self.stopping = threading.Event()
        self.kill_agents = False
        #: The client that asked the fleet to stop ("" for a signal).
        self.stopped_by = ""
        self.server: ControlServer | None = None

    def start(self, spawn: bool = True) -> None:
        self.service.start(spawn=spawn, on_open=self._serve)

    def _serve(self) -> None:
        self.server = ControlServer(self.service, control_path(self.service.session_id),
                                    self._stop_requested)
        self.server.start()

    def _stop_requested(self, kill_agents: bool, client: str) -> None:
        self.kill_agents, self.stopped_by = kill_agents, client
        self.stopping.set()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.service.stop(kill_agents=self.kill_agents, stopped_by=self.stopped_by)
        if self.kill_agents:
            self.service.driver.kill_server()  # last: the daemon process lives in that server


def run_daemon(loaded: LoadedConfig, spawn: bool = True, skip_corrupt: bool = False) -> int:
    daemon = Daemon(loaded, skip_corrupt=skip_corrupt)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: daemon.stopping.set())
    try:
        daemon.start(spawn=spawn)
    except LogLockedError:
        print("fleet-tui daemon: another daemon already runs this fleet", file=sys.stderr)
        return EXIT_OWNED
    service = daemon.service
    print(f"fleet-tui daemon: fleet {loaded.config.fleet}, session {service.session_id}", flush=True)
    for warning in service.warnings:
        print(f"fleet-tui daemon: warning: {warning}", flush=True)
    with service.pipeline.lock:  # (the hosts' keepers fold events meanwhile)
        down = dict(service.state.hosts_down)
    for host, why in down.items():
        print(f"fleet-tui daemon: {unreachable(host, why)}", flush=True)
    while not daemon.stopping.wait(1.0):
        pass
    daemon.close()
    return 0
