"""The orchestrator end to end on a real tmux server: spawn, adopt after a restart, lost agents,
inbox events, routing through review with a send-back and a user's approval."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import read_log
from fleet_tui.adapters.inbox import drop_message
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage
from fleet_tui.orchestrator import Orchestrator
from tests.helpers import retry_until

FLEET = """
fleet: t
agents:
  - name: dev
    roles: [developer]
    command: [python, -m, fleet_tui.demo_agent, --role, developer, --pace, "0.05",
              --fail-rate, "0", --seed, "1"]
    preset: demo
  - name: rev
    roles: [reviewer]
    command: [python, -m, fleet_tui.demo_agent, --role, reviewer, --pace, "0.05",
              --fail-rate, "0", --seed, "3"]
    preset: demo
tasks:
  - {id: T1, title: Login form, role: developer, column: ready}
routing:
  stages:
    - {name: backlog}
    - {name: ready}
    - {name: in_progress, roles: [developer]}
    - {name: review, roles: [reviewer]}
    - {name: done}
approvals:
  - {from: review, to: done}
"""


@pytest.fixture
def make_orchestrator(tmp_path: Path, tmux_socket: str):
    config = tmp_path / "fleet.yaml"
    config.write_text(FLEET)
    made: list[Orchestrator] = []

    def make() -> Orchestrator:
        orch = Orchestrator(load_config(config))
        orch.socket_name = tmux_socket
        orch.driver = TmuxDriver(tmux_socket)
        made.append(orch)
        return orch

    yield make
    for orch in made:
        orch.stop()


def _answer_questions(orch: Orchestrator) -> bool:
    """Say yes to any agent waiting at the demo's permission question."""
    for agent in orch.state.agents.values():
        if agent.status == "waiting" and agent.alive:
            orch.driver.send_prompt(agent.name, "y")
    return False


def test_routes_a_task_through_review_with_a_send_back_and_the_users_approval(make_orchestrator) -> None:
    orch = make_orchestrator()
    orch.start()

    def approval_pending() -> bool:
        _answer_questions(orch)
        return bool(orch.state.tasks["T1"].pending_approvals)

    retry_until(approval_pending, timeout=60, interval=0.2, message="T1 waiting for approval")
    orch.decide("T1", "review->done", grant=True, comment="ship it")
    assert orch.state.tasks["T1"].column == "done"

    events, _ = read_log(orch.log_path)
    assigned = [e for e in events if isinstance(e, ev.TaskAssigned) and e.agent]
    assert assigned[0].reason == "assigned T1 to dev: role developer, idle, 0 tasks"
    assert any(e.agent == "rev" for e in assigned)
    assert any(isinstance(e, ev.TaskReported) and e.source == "agent:dev" for e in events)
    granted = [e for e in events if isinstance(e, ev.ApprovalGranted)]
    assert granted and granted[0].source == "user"
    assert all(e.reason for e in events if isinstance(e, ev.TaskMoved))


def test_a_restarted_ui_adopts_running_agents_and_marks_vanished_ones_lost(make_orchestrator) -> None:
    first = make_orchestrator()
    first.start()
    retry_until(lambda: all(a.screen for a in first.state.agents.values()), timeout=20,
                message="both agents on screen")
    pids = {n: a.pid for n, a in first.state.agents.items()}
    session = first.session_id
    first.stop()  # the UI exits; agents live on
    subprocess.run(["tmux", "-L", first.socket_name, "kill-session", "-t", "=fleet_rev"], check=False)
    TmuxDriver(first.socket_name).kill("rev")

    second = make_orchestrator()
    second.start()
    assert second.session_id == session
    panes = second.driver.list_agent_panes()
    assert [p.agent for p in panes].count("dev") == 1 and panes[0].pid == pids["dev"]
    assert second.state.agents["dev"].alive
    events, _ = read_log(second.log_path)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    lost = [i for i, e in enumerate(events) if isinstance(e, ev.AgentLost) and e.agent == "rev"]
    assert len(lost) == 1
    # the config still wants a reviewer, so a new one is started after the loss is recorded
    assert any(isinstance(e, ev.AgentSpawned) and e.agent == "rev" for e in events[lost[0]:])
    assert sum(isinstance(e, ev.AgentSpawned) and e.agent == "dev" and not e.adopted
               for e in events) == 1


def test_inbox_events_arrive_and_approvals_from_agents_are_refused(make_orchestrator) -> None:
    orch = make_orchestrator()
    orch.start()
    inbox = Path(os.environ["FLEET_HOME"]) / "sessions" / orch.session_id / "inbox"
    drop_message(inbox, InboxMessage(id="c1", type="cost", agent="dev", task="T1",
                                     data={"model": "m", "input_tokens": "100", "usd": "0.5"}))
    retry_until(lambda: orch.state.cost.usd == 0.5, message="cost folded")
    assert orch.state.agents["dev"].cost.tokens == 100
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "approval.granted",
                          "--task", "T1", "--agent", "dev", "--inbox", str(inbox)], check=False)
    assert out.returncode == 0
    retry_until(lambda: any(isinstance(e, ev.Error) and e.kind == "security"
                            for e in orch.state.timeline), message="security error")
    assert list((inbox / "rejected").iterdir())
