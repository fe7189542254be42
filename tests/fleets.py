"""Fleets of demo agents for tests on a real tmux server: the config pieces, a factory of
in-process daemons (service + control socket) bound to the test's private tmux socket, and a
stand-in for a user answering the demo agents' permission questions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import AgentTokens
from fleet_tui.adapters.inbox import drop_message
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import TmuxError
from fleet_tui.client.live import LiveFleet
from fleet_tui.config.loader import load_config
from fleet_tui.core.inbox_rules import InboxMessage
from fleet_tui.daemon.main import Daemon
from fleet_tui.daemon.service import FleetService
from fleet_tui.ui.app import FleetApp

PIPELINE = [{"name": "backlog"}, {"name": "ready"}, {"name": "in_progress", "roles": ["developer"]},
            {"name": "review", "roles": ["reviewer"]}, {"name": "done"}]
#: The demo agent's permission question, waiting for y/n.
QUESTION = "Allow this action? (y/n)"
SEED_TASK = {"id": "T1", "title": "Login form", "role": "developer", "column": "ready"}


def demo_agent(name: str, role: str, *args: str, **settings: Any) -> dict[str, Any]:
    """An agent running the bundled demo agent fast, never failing unless ``args`` say so."""
    command = ["python", "-m", "fleet_tui.demo_agent", "--role", role, "--pace", "0.05",
               "--fail-rate", "0", *args]
    return {"name": name, "roles": [role], "command": command, "preset": "demo", **settings}


#: A developer, and a reviewer whose seed makes it send each task back once.
DEV = demo_agent("dev", "developer", "--seed", "1")
REV = demo_agent("rev", "reviewer", "--seed", "2")


def fleet(*agents: dict[str, Any], stages: list[dict[str, Any]] | None = None,
          **more: Any) -> dict[str, Any]:
    """A fleet.yaml as data: the seed task T1, the default pipeline and a review->done gate
    unless ``stages`` / ``approvals`` / ``tasks`` say otherwise."""
    return {"fleet": "t", "agents": list(agents), "tasks": [SEED_TASK],
            "routing": {"stages": stages or PIPELINE},
            "approvals": [{"from": "review", "to": "done"}], **more}


class Daemons:
    """Makes in-process daemons on the test's tmux server from a fleet (data); ``stop_all`` at
    the end of the test closes every one made (the server itself is reaped by ``tmux_socket``)."""

    def __init__(self, tmp_path: Path, socket: str, ssh_options: tuple[str, ...] = ()) -> None:
        self.config = tmp_path / "fleet.yaml"
        self.socket = socket
        #: For fleets with ``hosts:``: how the daemons' SSH links reach the test's sshd.
        self.ssh_options = ssh_options
        self.made: list[Daemon] = []

    def __call__(self, config: dict[str, Any] | None = None) -> Daemon:
        if config is not None or not self.config.exists():
            self.config.write_text(yaml.safe_dump(config or fleet(DEV, REV), sort_keys=False))
        daemon = Daemon(load_config(self.config), driver=TmuxDriver(self.socket),
                        ssh_options=self.ssh_options)
        self.made.append(daemon)
        return daemon

    def stop_all(self) -> None:
        made, self.made = self.made, []
        for daemon in made:
            daemon.close()


def answer_questions(orch: FleetService) -> None:
    """Say yes to any agent whose pane ends at the demo's permission question. The pane is read
    from tmux now (the state may lag behind), so a question is answered once: a second "y"
    would be taken as the agent's next prompt, or as the answer to its next question."""
    for name, agent in list(orch.state.agents.items()):
        if not (agent.alive and agent.pane):
            continue
        try:
            rows = [r.strip() for r in orch.driver.capture(name) if r.strip()]
        except TmuxError:
            continue  # not started yet, or gone meanwhile
        if rows and rows[-1].endswith(QUESTION):
            orch.driver.send_prompt(name, "y")


def live_app(daemon: Daemon, spawn: bool = True) -> FleetApp:
    """Start ``daemon`` and return the app as its client (over its socket and log)."""
    daemon.start(spawn=spawn)
    service = daemon.service
    return FleetApp(LiveFleet(service.loaded, driver=service.local_driver))


def agent_token(orch: FleetService, agent: str) -> str:
    """The token ``agent`` of ``orch``'s session was given (``$FLEET_AGENT_TOKEN``)."""
    return AgentTokens.for_session(paths.session_dir(orch.session_id)).token(agent)


def drop_from_agent(orch: FleetService, msg: InboxMessage) -> None:
    """Drop ``msg`` into ``orch``'s inbox as its agent would: with the agent's token."""
    msg.token = agent_token(orch, msg.agent)
    drop_message(paths.inbox_dir(orch.session_id), msg)
