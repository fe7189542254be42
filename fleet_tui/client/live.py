"""LiveFleet: a running fleet as a client sees it. The state is the fold of the daemon's log
(``LogFollower``); every command goes to the daemon over the control socket and comes back as
events in that log. Nothing here touches tmux except to find the daemon and to attach a
terminal to an agent.

``start`` finds the daemon (starting it when none runs) and reads the log; ``poll`` folds
what is new; ``check`` notices a daemon that went away (and starts it again) or a fleet that
moved on to a new session (and follows that one instead).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters import paths
from fleet_tui.adapters.hosts import host_driver
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.client.follower import LogFollower, ends_stopped
from fleet_tui.client.launch import ensure_daemon, fleet_driver, ping
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.core.state import FleetState

#: Where a UI notes the last event it showed, to tell its user what happened while away: one
#: file per kind of client, so a browser tab does not mark as seen what the terminal UI missed.
SEEN_FILE = "{client}.seen"


class LiveFleet:
    read_only = False

    def __init__(self, loaded: LoadedConfig, *, spawn: bool = True, skip_corrupt: bool = False,
                 client: str = "ui", driver: TmuxDriver | None = None) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.spawn = spawn
        self.skip_corrupt = skip_corrupt
        self.client = client
        self.driver = driver or fleet_driver(loaded)
        self.state = FleetState()
        self.session_id = ""
        self.warnings: list[str] = []
        #: The ``seq`` this UI had shown when it last left the session (0: never here).
        self.seen_before = 0
        self._follower: LogFollower | None = None

    # --- connecting ---------------------------------------------------------------------------

    def start(self, progress: Callable[[str], None] = lambda text: None) -> None:
        """Find (or start) the daemon and read its session's log. Blocking: run it off the UI."""
        info = ensure_daemon(self.loaded, self.spawn, self.skip_corrupt, progress=progress,
                             driver=self.driver)
        self._follow(info, progress)

    def _follow(self, info: dict[str, Any], progress: Callable[[str], None]) -> None:
        progress(f"reading session {info['session']}…")
        follower = LogFollower(Path(info["log"]), skip_corrupt=self.skip_corrupt)
        shown = -1

        def report(done: int, total: int) -> None:
            # Once per percent, not per block read: the UI's progress waits on its event loop.
            nonlocal shown
            percent = done * 100 // max(total, 1)
            if percent != shown:
                shown = percent
                progress(f"reading session {info['session']}: {percent}%")

        state = follower.open(report)
        old, self._follower = self._follower, follower
        if old is not None:
            old.close()
        self.session_id = info["session"]
        self.warnings = follower.warnings
        self.seen_before = self._read_seen()
        self.state = state  # last: the UI thread sees the old state or the whole new one

    def check(self) -> str:
        """Blocking: "" while the daemon answers for the session followed; else what was done
        about it (the daemon started again, a new session followed)."""
        info = ping(self.driver)
        if info is not None and info["session"] == self.session_id:
            return ""
        follower = self._follower
        if info is None and (self.state.stopped or (follower is not None
                                                    and ends_stopped(follower.path))):
            # (the log says so before this client folds it: not started again meanwhile)
            return "the fleet was stopped: run fleet-tui again to start it"
        info = info or ensure_daemon(self.loaded, self.spawn, self.skip_corrupt, driver=self.driver)
        if info["session"] != self.session_id:
            self._follow(info, lambda text: None)
            return f"following the fleet's new session {self.session_id}"
        return "the fleet daemon was restarted"

    def poll(self) -> int:
        """Fold what the daemon appended since the last poll (on the UI thread)."""
        return self._follower.poll(self.state) if self._follower is not None else 0

    def stop(self) -> None:
        """Leave the fleet running; remember what this UI has seen."""
        if self._follower is not None:
            self._write_seen()
            self._follower.close()
            self._follower = None

    # --- what this UI has seen ---------------------------------------------------------------

    def _seen_path(self) -> Path:
        return paths.session_dir(self.session_id) / SEEN_FILE.format(client=self.client)

    def _read_seen(self) -> int:
        try:
            return int(self._seen_path().read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _write_seen(self) -> None:
        with contextlib.suppress(OSError):
            paths.replace_private(self._seen_path(), f"{self.state.last_seq}\n".encode())

    # --- commands (each a request to the daemon) ---------------------------------------------

    def call(self, op: str, **args: Any) -> Any:
        if not self.session_id:
            raise cs.ControlError("not connected to the fleet yet")
        return cs.call(cs.control_path(self.session_id),
                       cs.Request(op=op, args=args, client=self.client))

    def spawn_from_template(self, template: str, name: str = "", prompt: str = "") -> str:
        return self.call("spawn", template=template, name=name, prompt=prompt)

    def toggle_pause(self, agent: str) -> bool:
        return self.call("toggle_pause", name=agent)

    def kill(self, agent: str) -> None:
        self.call("kill", name=agent)

    def restart(self, agent: str) -> None:
        self.call("restart", name=agent)

    def prompt(self, agent: str, text: str) -> bool:
        return self.call("prompt", name=agent, text=text)

    def reply(self, agent: str, key: str) -> None:
        self.call("reply", name=agent, key=key)

    def decide(self, task: str, approval: str, grant: bool, comment: str = "") -> None:
        self.call("approve" if grant else "deny", task=task, approval=approval, comment=comment)

    def task_add(self, title: str, role: str = "", description: str = "", column: str = "") -> str:
        return self.call("task_add", title=title, role=role, description=description, column=column)

    def task_move(self, task: str, column: str) -> None:
        self.call("task_move", task=task, column=column)

    def task_assign(self, task: str, agent: str) -> None:
        self.call("task_assign", task=task, agent=agent)

    def stop_fleet(self, kill_agents: bool = True) -> None:
        self.call("stop", kill_agents=kill_agents)

    def pane_rows(self, agent: str) -> list[str]:
        return self.call("pane_rows", name=agent)

    def attach_argv(self, agent: str) -> list[str]:
        """The terminal's way into the agent: ``tmux attach``, or ``ssh -t HOST tmux attach``
        (over the daemon's link) for an agent on another host."""
        known = self.state.agents.get(agent)
        spec = next((h for h in self.config.hosts if known and h.name == known.host), None)
        if spec is None:
            return self.driver.attach_argv(agent)
        return host_driver(spec, self.driver.socket_name).attach_argv(agent)
