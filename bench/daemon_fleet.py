"""A fleet for the bench scripts, run the way a user runs one: a private ``FLEET_HOME`` and tmux
server (``FLEET_TMUX_SOCKET``, so every fleet-tui process of the run uses it), the real daemon
process started in that server by ``ensure_daemon`` (under its respawn loop), the UI as a
``LiveFleet`` client in the bench's own process; and the CPU of each process of the design,
read from ``/proc``.

Imported as ``daemon_fleet`` (the scripts run as ``python bench/<name>.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters.procs import cpu_seconds
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.client.launch import ensure_daemon
from fleet_tui.client.live import LiveFleet
from fleet_tui.config.loader import LoadedConfig, load_config


def children_of(pid: int | str) -> list[int]:
    """The live child processes of ``pid`` (``self`` or a number)."""
    pids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for tid in tids:
        with contextlib.suppress(OSError):
            pids += map(int, Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
    return pids


class BenchFleet:
    """One fleet on its own tmux server and state folder; ``close`` stops the daemon, kills the
    server and deletes the folder."""

    def __init__(self, prefix: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"fleet-bench-{prefix}-"))
        self.socket = f"fleet-bench-{prefix}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        os.environ.pop("TMUX", None)
        os.environ["FLEET_HOME"] = str(self.folder / "home")
        os.environ["FLEET_TMUX_SOCKET"] = self.socket  # the daemon inherits both
        self.driver = TmuxDriver(self.socket)
        self.info: dict[str, Any] = {}
        self._loaded: LoadedConfig | None = None

    def write_config(self, data: dict[str, Any]) -> Path:
        path = self.folder / "fleet.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        self._loaded = load_config(path)
        return path

    @property
    def loaded(self) -> LoadedConfig:
        assert self._loaded is not None, "write_config first"
        return self._loaded

    def start_daemon(self) -> dict[str, Any]:
        """Start the real daemon (as the first ``fleet-tui`` would) and wait until it answers;
        its ``ping`` answer (session, pid, log)."""
        self.info = ensure_daemon(self.loaded, driver=self.driver)
        return self.info

    def client(self) -> LiveFleet:
        return LiveFleet(self.loaded, driver=self.driver, client="bench")

    @property
    def daemon_pid(self) -> int:
        return int(self.info["pid"])

    def server_pid(self) -> int:
        return int(self.driver.run("display-message", "-p", "#{pid}").stdout)

    def close(self) -> None:
        try:
            if self.info:
                with contextlib.suppress(cs.ControlError):
                    cs.call(cs.control_path(self.info["session"]),
                            cs.Request(op="stop", args={"kill_agents": True}, client="bench"))
                deadline = time.monotonic() + 10
                while os.path.exists(f"/proc/{self.daemon_pid}") and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            try:
                self.driver.kill_server()
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)


class CpuMeter:
    """CPU of the processes of a running fleet over a window, in % of one core: this process
    (the UI), the daemon, the daemon's live children (the monitor's tmux control-mode client),
    the tmux commands the UI and the daemon ran and waited for, and the tmux server."""

    def __init__(self, fleet: BenchFleet) -> None:
        self.ui = "self"
        self.daemon = fleet.daemon_pid
        self.server = fleet.server_pid()
        self.daemon_children = children_of(self.daemon)
        self._start: dict[str, float] = {}
        self._wall = 0.0

    def _sample(self) -> dict[str, float]:
        ui, ui_all = cpu_seconds(self.ui), cpu_seconds(self.ui, children=True)
        daemon, daemon_all = cpu_seconds(self.daemon), cpu_seconds(self.daemon, children=True)
        return {
            "ui": ui,
            "daemon": daemon,
            "daemon_tmux_client": sum(map(cpu_seconds, self.daemon_children)),
            "tmux_commands": ui_all - ui + daemon_all - daemon,
            "tmux_server": cpu_seconds(self.server),
        }

    def start(self) -> None:
        self._start, self._wall = self._sample(), time.perf_counter()

    def stop(self) -> dict[str, float]:
        """% of one core per part since ``start``, and ``ui_plus_daemon`` (the target's sum)."""
        wall = time.perf_counter() - self._wall
        end = self._sample()
        pct = {name: round((end[name] - self._start[name]) / wall * 100, 1) for name in end}
        pct["ui_plus_daemon"] = round(pct["ui"] + pct["daemon"], 1)
        return pct
