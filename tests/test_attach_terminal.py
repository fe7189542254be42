"""``enter`` attaches the user's terminal to an agent and the tmux detach key comes back: the
real ``fleet-tui`` in a real terminal (a pane of a second private tmux server), typed into with
``send-keys`` and read with ``capture-pane``, since a headless app cannot suspend."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from fleet_tui.adapters.tmux import TmuxDriver, socket_name_for
from tests.helpers import retry_until

FLEET = """
fleet: attach
agents:
  - {name: solo, command: [python, -m, fleet_tui.demo_agent, --pace, '0', --fail-rate, '0'], preset: demo}
"""


def test_enter_attaches_and_detaching_returns_to_the_app(tmp_path: Path, tmux_socket: str,
                                                         fleet_home: Path) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(FLEET)
    fleet_socket = socket_name_for("attach", config)
    terminal = TmuxDriver(tmux_socket)
    fleet_tui = shutil.which("fleet-tui", path=os.path.dirname(sys.executable))
    assert fleet_tui, "fleet-tui is installed next to the interpreter"
    try:
        terminal.run("new-session", "-d", "-s", "term", "-x", "100", "-y", "30",
                     "-e", f"FLEET_HOME={fleet_home}", "-e", "TERM=xterm-256color",
                     fleet_tui, "--config", str(config), "run")

        def screen() -> str:
            return terminal.run("capture-pane", "-p", "-t", "term").stdout

        retry_until(lambda: "solo" in screen() and "demo>" in screen(), timeout=20,
                    message="the app showing the agent")
        terminal.run("send-keys", "-t", "term", "Enter")
        # attached: the agent's own screen, with tmux's status line naming it and saying how
        # to come back, and no app footer
        retry_until(lambda: "fleet-tui: solo" in screen() and "^p Commands" not in screen(),
                    timeout=10, message="the agent's session")
        assert screen().rstrip().endswith("C-b d: back to fleet-tui")
        terminal.run("send-keys", "-t", "term", "C-b", "d")
        retry_until(lambda: "^p Commands" in screen(), timeout=10, message="back in the app")
        terminal.run("send-keys", "-t", "term", "q")
        retry_until(lambda: "keep running" in screen(), timeout=5, message="the quit dialog")
        terminal.run("send-keys", "-t", "term", "Enter")
        retry_until(lambda: terminal.run("list-panes", "-a", check=False).returncode != 0
                    or "fleet-tui" not in screen(), timeout=10, message="the app to quit")
        assert [p.agent for p in TmuxDriver(fleet_socket).list_agent_panes()] == ["solo"]
    finally:
        TmuxDriver(fleet_socket).kill_server()
