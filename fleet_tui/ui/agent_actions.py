"""The agent keys: spawn, pause or resume, kill, restart, prompt, attach, go to the next agent
needing you, reply from its card, zoom (where prompt and pause act on the zoomed agent). A part
of ``FleetApp``: each action takes the focused agent (``FleetApp.focused_agent``) and sends the
daemon a request through the app's ``run_command``, or opens the screen that shows or asks for
something first. Attach is the one that runs a program itself: ``tmux attach`` (``ssh -t HOST
tmux attach`` for an agent on another host) in the suspended app's terminal; refused at once
while that host cannot be reached, and a failure (its exit code) is a notice once the app is
back."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from textual.widgets import ContentSwitcher

from fleet_tui.core.attention import needing_you
from fleet_tui.core.sanitize import strip_ansi
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.attention import ReplyScreen
from fleet_tui.ui.dialogs import ConfirmScreen, PromptScreen
from fleet_tui.ui.spawn_dialog import SpawnRequest, SpawnScreen
from fleet_tui.ui.zoom import ZoomScreen

if TYPE_CHECKING:
    from fleet_tui.ui.app import FleetApp

    _Base = FleetApp
else:
    _Base = object


class AgentActions(_Base):
    def action_spawn(self) -> None:
        if not self._writable("spawn agents"):
            return
        templates = [a.name for a in self.fleet.config.agents]

        def spawn(request: SpawnRequest | None) -> None:
            if request:
                self.run_command("spawn", "spawn_from_template", *request)

        self.push_screen(SpawnScreen(templates), spawn)

    def action_pause(self, agent: str = "") -> None:
        """Pause or resume ``agent`` (the zoomed one), else the focused one."""
        if self._writable("pause agents") and (agent := agent or self.focused_agent()):
            self.run_command("pause", "toggle_pause", agent)

    def action_kill(self) -> None:
        if not self._writable("kill agents") or not (agent := self.focused_agent()):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_command("kill", "kill", agent)

        self.push_screen(ConfirmScreen(f"Kill {agent}? Its process tree is stopped.", "Kill"),
                         confirmed)

    def action_restart(self) -> None:
        if self._writable("restart agents") and (agent := self.focused_agent()):
            self.run_command("restart", "restart", agent)

    def action_prompt(self, agent: str = "") -> None:
        """Ask for a prompt for ``agent`` (the zoomed one), else the focused one."""
        if not self._writable("prompt agents") or not (agent := agent or self.focused_agent()):
            return

        def send(text: str | None) -> None:
            if text:
                self.run_command("prompt", "prompt", agent, text)

        self.push_screen(PromptScreen(agent), send)

    def action_attach(self) -> None:
        if self.main.query_one(ContentSwitcher).current != "grid":
            return
        if not self._writable("attach to agents") or not (agent := self.focused_agent()):
            return
        if self.is_web:
            self.notify("attach needs a terminal: run fleet-tui in one (z shows the pane here)",
                        severity="warning")
            return
        if away := self.fleet.state.agents[agent].out_of_reach:
            self.notify(away, severity="warning")
            return
        argv = self.fleet.attach_argv(agent)
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}  # tmux refuses nested attach
        with self.suspend():
            code = subprocess.run(argv, env=env, check=False).returncode
        if code:  # what it said was on the terminal, gone now that the app is back
            self.notify(f"attach {agent}: {os.path.basename(argv[0])} ended with code {code}",
                        severity="warning")

    def action_next_needing(self) -> None:
        """Go to the next agent that needs you: waiting, then stalled, then failed; oldest first."""
        names = needing_you(self.fleet.state)
        if not names:
            self.notify("no agent needs you right now")
            return
        current = self.main.query_one(AgentGrid).focused_agent()
        after = names.index(current) + 1 if current in names else 0
        self.focus_agent(names[after % len(names)])

    def action_reply(self) -> None:
        if not self._writable("reply to agents") or not (agent := self.focused_agent()):
            return
        lines = [line for line in self.fleet.state.agents[agent].screen if line.strip()]
        self.push_screen(ReplyScreen(agent, [strip_ansi(line) for line in lines],
                                     lambda key: self.run_command("reply", "reply", agent, key)))

    def action_zoom(self) -> None:
        if not (agent := self.focused_agent()):
            return
        live = not (self.read_only and self.fleet.read_only)  # a replay: no agent keys there

        def act(action: str) -> None:  # one of the zoom's AGENT_KEYS, on this agent
            getattr(self, f"action_{action}")(agent)

        self.push_screen(ZoomScreen(agent, lambda: self.fleet.pane_rows(agent),
                                    act=act if live else None))
