"""The fleet service (the daemon's core, run in-process) end to end on a real tmux server with
demo agents: spawn, adopt after a restart, lost agents and their re-adoption when tmux comes
back, inbox events, routing through review with a send-back and a user's approval, budgets,
restarts and subscriptions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import TOKEN_ENV
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage
from fleet_tui.daemon.service import FleetService
from tests.fleets import (
    DEV,
    REV,
    Daemons,
    agent_token,
    answer_questions,
    demo_agent,
    drop_from_agent,
    fleet,
)
from tests.helpers import retry_until

#: A pipeline with developers only, and a seed task that stays in the backlog.
SOLO = {"stages": [{"name": "backlog"}, {"name": "ready"}, {"name": "in_progress", "roles": ["developer"]},
                   {"name": "done"}], "approvals": []}
IDLE_TASK = {"id": "T1", "title": "Login form", "column": "backlog"}


@pytest.fixture
def make_service(tmp_path: Path, tmux_socket: str) -> Iterator[Callable[..., FleetService]]:
    """Fleet services on the test's tmux server (in-process daemons, without their socket)."""
    made = Daemons(tmp_path, tmux_socket)
    yield lambda config=None: made(config).service
    made.stop_all()


def test_routes_a_task_through_review_with_a_send_back_and_the_users_approval(make_service) -> None:
    orch = make_service()
    orch.start()

    def approval_pending() -> bool:
        answer_questions(orch)
        return bool(orch.state.tasks["T1"].pending_approvals)

    retry_until(approval_pending, timeout=60, interval=0.2, message="T1 waiting for approval")
    orch.ops.decide("T1", "review->done", grant=True, comment="ship it")
    assert orch.state.tasks["T1"].column == "done"

    events, _ = read_log(orch.log_path)
    assigned = [e for e in events if isinstance(e, ev.TaskAssigned) and e.agent]
    assert assigned[0].reason == "assigned T1 to dev: role developer, idle, 0 tasks"
    assert any(e.agent == "rev" for e in assigned)
    assert any(isinstance(e, ev.TaskMoved) and e.reason == "blocked by rev; back to in_progress"
               for e in events)
    assert [e.reason for e in events if isinstance(e, ev.AgentPrompted) and e.agent == "dev"] == \
        ["routing: T1 assigned", "routing: T1 sent back"]
    assert any(isinstance(e, ev.TaskReported) and e.source == "agent:dev" for e in events)
    granted = [e for e in events if isinstance(e, ev.ApprovalGranted)]
    assert granted and granted[0].source == "user"
    assert all(e.reason for e in events if isinstance(e, ev.TaskMoved))


def test_a_restarted_ui_adopts_running_agents_and_marks_vanished_ones_lost(make_service) -> None:
    first = make_service()
    first.start()
    retry_until(lambda: all(a.screen for a in first.state.agents.values()), timeout=20,
                message="both agents on screen")
    pids = {n: a.pid for n, a in first.state.agents.items()}
    session = first.session_id
    first.stop()  # the UI exits; agents live on
    subprocess.run(["tmux", "-L", first.socket_name, "kill-session", "-t", "=fleet_rev"], check=False)
    TmuxDriver(first.socket_name).kill("rev")

    second = make_service()
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


def test_inbox_events_arrive_and_approvals_from_agents_are_refused(make_service) -> None:
    orch = make_service()
    orch.start()
    inbox = paths.inbox_dir(orch.session_id)
    drop_from_agent(orch, InboxMessage(id="c1", type="cost", agent="dev", task="T1",
                                       data={"model": "m", "input_tokens": "100", "usd": "0.5"}))
    retry_until(lambda: orch.state.cost.usd == 0.5, message="cost folded")
    assert orch.state.agents["dev"].cost.tokens == 100
    out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", "approval.granted",
                          "--task", "T1", "--agent", "dev", "--inbox", str(inbox)], check=False,
                         env={**os.environ, TOKEN_ENV: agent_token(orch, "dev")})
    assert out.returncode == 0
    retry_until(lambda: any(isinstance(e, ev.Error) and e.kind == "security"
                            for e in orch.state.timeline), message="security error")
    assert list((inbox / "rejected").iterdir())


def test_agents_cannot_speak_for_each_other_nor_poison_the_log(make_service) -> None:
    orch = make_service()
    orch.start()
    inbox = paths.inbox_dir(orch.session_id)

    def emit(*args: str) -> None:
        out = subprocess.run([sys.executable, "-m", "fleet_tui.cli", "emit", *args, "--inbox", str(inbox)],
                             env={**os.environ, TOKEN_ENV: agent_token(orch, "dev"), "FLEET_AGENT": "dev"},
                             capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr

    def errors() -> list[str]:
        return [f"{e.kind}: {e.message}" for e in orch.state.timeline if isinstance(e, ev.Error)]

    emit("status", "waiting", "--agent", "rev")  # dev's token, rev's name
    emit("cost", "--data", "usd=nan")
    emit("cost", "--data", "usd=-100")
    retry_until(lambda: len(errors()) == 3, message="three refusals")
    assert "its token is not agent 'rev''s" in errors()[0] and errors()[0].startswith("security: ")
    assert all("usd must be a finite number" in e for e in errors()[1:])
    assert orch.state.cost.usd == 0 and orch.state.agents["rev"].status != "waiting"
    refused = orch.submit(ev.TaskNote(task="T1", text="half a pair \ud800"))  # a bug in the service
    assert isinstance(refused, ev.Error) and "refused a task.note event" in refused.message
    emit("cost", "--data", "usd=0.25")
    retry_until(lambda: orch.state.cost.usd == 0.25, message="a good cost after all that")
    events, warnings = read_log(orch.log_path)  # no --skip-corrupt needed
    assert warnings == [] and not any(isinstance(e, ev.TaskNote) for e in events)


def _log(orch: FleetService, kind: type[ev.Event], agent: str | None = None) -> list:
    events, _ = read_log(orch.log_path)
    return [e for e in events if isinstance(e, kind) and (agent is None or e.agent == agent)]


def _started(orch: FleetService, *names: str) -> None:
    retry_until(lambda: all((a := orch.state.agents.get(n)) is not None and a.alive and a.screen
                            for n in names), timeout=20, message=f"{names} on screen")


def test_budgets_pause_once_per_limit_and_a_resumed_agent_keeps_going(make_service) -> None:
    orch = make_service(fleet({**DEV, "budget": {"usd": 1.0, "tokens": 1000}},
                                   {**REV, "budget": {"minutes": 0.02}}, tasks=[IDLE_TASK]))
    orch.start()
    _started(orch, "dev", "rev")

    def cost(msg_id: str, **data: str) -> None:
        drop_from_agent(orch, InboxMessage(id=msg_id, type="cost", agent="dev", data=data))

    cost("c1", usd="1.5")
    retry_until(lambda: orch.state.agents["dev"].paused, message="dev paused by its budget")
    assert orch.driver.is_paused("dev")
    [paused] = _log(orch, ev.AgentPaused, "dev")
    assert (paused.reason, paused.source) == ("budget: usd 1.50 > 1.00", ev.SOURCE_ORCHESTRATOR)
    assert [a.key for a in _log(orch, ev.Alert, "dev")] == ["usd"]

    orch.ops.toggle_pause("dev")  # the user lets it go on
    cost("c2", usd="0.5")
    retry_until(lambda: orch.state.agents["dev"].cost.usd == 2.0, message="more cost folded")
    assert [a.key for a in _log(orch, ev.Alert, "dev")] == ["usd"]  # no second alert for usd
    cost("c3", input_tokens="2000")
    retry_until(lambda: orch.state.agents["dev"].paused, message="dev paused for tokens")
    assert [a.key for a in _log(orch, ev.Alert, "dev")] == ["usd", "tokens"]
    assert [p.reason for p in _log(orch, ev.AgentPaused, "dev")][-1] == "budget: tokens 2000 > 1000"

    # running minutes grow with no event at all: the periodic check catches them
    retry_until(lambda: orch.state.agents["rev"].paused, timeout=10, message="rev paused for minutes")
    [alert] = _log(orch, ev.Alert, "rev")
    assert alert.key == "minutes" and alert.message.startswith("rev is over budget: minutes 0.0")


def test_on_failure_restarts_with_reasons_up_to_the_limit(make_service) -> None:
    crashing = demo_agent("dev", "developer", restart="on-failure", max_restarts=1)
    crashing["command"] = [*crashing["command"], "--role", "reviewer", "--fail-rate", "1", "--pace", "0"]
    orch = make_service(fleet(crashing, **SOLO))
    orch.start()
    retry_until(lambda: _log(orch, ev.AgentRestarting), timeout=30, message="a restart")
    first = _log(orch, ev.AgentStarted, "dev")[0].pane
    t1 = orch.state.tasks["T1"]
    assert t1.column == "blocked" and "dev exited with code 1" in t1.notes[-1].text
    assert "invalid tool call" in t1.notes[-1].text  # the last lines of its pane
    [alert] = _log(orch, ev.Alert, "dev")
    assert (alert.kind, alert.task) == (ev.ALERT_EXIT, "T1")
    [restarting] = _log(orch, ev.AgentRestarting)
    assert restarting.reason == "restart dev: on-failure, exit 1, attempt 1/1, in 1s"

    def idle_again() -> bool:
        dev = orch.state.agents["dev"]
        return dev.alive and dev.pane != first and dev.status == "idle"

    retry_until(idle_again, timeout=20, message="dev started again")
    orch.ops.prompt("dev", "Task T9: one more try")
    retry_until(lambda: any(a.kind == ev.ALERT_RESTART for a in _log(orch, ev.Alert)), timeout=30,
                message="the restart limit alert")
    assert len(_log(orch, ev.AgentRestarting)) == 1
    assert not orch.state.agents["dev"].alive


def test_exits_the_user_causes_are_never_restarted(make_service) -> None:
    orch = make_service(fleet({**DEV, "restart": "always"}, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")
    first = orch.state.agents["dev"].pane
    orch.ops.restart("dev")
    second = orch.state.agents["dev"].pane
    assert second != first
    # the monitor forgets a replaced pane; were its exit reported late, it would be ignored
    orch.submit(ev.AgentExited(agent="dev", pane=first, code=1))
    assert orch.state.agents["dev"].alive and orch.state.agents["dev"].pane == second
    _started(orch, "dev")  # the monitor has seen the new pane, so it will report its end
    orch.ops.kill("dev")
    retry_until(lambda: any(e.pane == second for e in _log(orch, ev.AgentExited, "dev")),
                timeout=15, message="the killed pane's exit")
    assert _log(orch, ev.AgentRestarting) == [] and _log(orch, ev.Alert) == []
    assert not orch.driver.exists("dev") and not orch.state.agents["dev"].alive


def test_a_subscriber_is_prompted_about_a_matching_event(make_service) -> None:
    lead = demo_agent("lead", "planner", subscribe=[
        {"event": "task.note", "where": {"task": "T1"}, "prompt": "Note on {task} from {agent}: {text}"}])
    orch = make_service(fleet(DEV, lead, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev", "lead")
    drop_from_agent(orch, InboxMessage(id="n1", type="task.note", agent="dev", task="T1",
                                       note="use argon2"))
    retry_until(lambda: _log(orch, ev.AgentPrompted, "lead"), timeout=10, message="lead prompted")
    [note] = _log(orch, ev.TaskNote)
    [prompted] = _log(orch, ev.AgentPrompted, "lead")
    assert prompted.text == "Note on T1 from dev: use argon2" and prompted.delivered
    assert prompted.reason == f"subscription: task.note task=T1 (event #{note.seq})"
    assert _log(orch, ev.AgentPrompted, "dev") == []


def test_agents_lost_with_the_tmux_server_are_adopted_when_it_comes_back(make_service) -> None:
    orch = make_service(fleet(DEV, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")
    pid = orch.state.agents["dev"].pid
    socket_path = orch.driver.run("display-message", "-p", "#{socket_path}").stdout.strip()
    clients = orch.driver.run("list-clients", "-F", "#{client_pid} #{client_control_mode}").stdout
    [monitor] = [int(line.split()[0]) for line in clients.splitlines() if line.endswith(" 1")]
    os.rename(socket_path, socket_path + ".away")  # the server cannot be reached...
    try:
        os.kill(monitor, signal.SIGTERM)  # ...and the monitor's connection to it ends
        retry_until(lambda: orch.state.agents["dev"].status == "lost", timeout=10, message="dev lost")
    finally:
        os.rename(socket_path + ".away", socket_path)
    # agent.spawned (adopted) comes before agent.started, which carries the pid
    retry_until(lambda: orch.state.agents["dev"].alive and orch.state.agents["dev"].pid is not None,
                timeout=10, message="dev adopted again")
    assert orch.state.agents["dev"].pid == pid
    events, _ = read_log(orch.log_path)
    lost = next(i for i, e in enumerate(events) if isinstance(e, ev.AgentLost))
    assert any(isinstance(e, ev.AgentSpawned) and e.adopted for e in events[lost:])


def test_a_stall_raises_one_alert_an_episode(make_service) -> None:
    quiet = {"name": "dev", "roles": ["developer"], "stall_after": "1s",
             "command": ["python", "-c", "import sys; print('ready', flush=True); sys.stdin.read()"]}
    orch = make_service(fleet(quiet, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")
    orch.submit(ev.TaskAssigned(task="T1", agent="dev", reason="assigned by the user", source=ev.SOURCE_USER))
    retry_until(lambda: _log(orch, ev.Alert, "dev"), timeout=15, message="a stall alert")
    [alert] = _log(orch, ev.Alert, "dev")
    assert (alert.kind, alert.task) == (ev.ALERT_STALL, "T1")
    assert orch.state.agents["dev"].status == "stalled"
    orch.driver.send_prompt("dev", "still there?")  # its terminal echoes: output, a new episode
    retry_until(lambda: len(_log(orch, ev.Alert, "dev")) == 2, timeout=15, message="a second stall alert")
    events, _ = read_log(orch.log_path)
    between = events[events.index(alert):]
    assert any(isinstance(e, ev.AgentStatus) and e.status == "working" for e in between)


def test_agents_that_die_at_once_or_cannot_start_are_seen_and_the_rest_runs(make_service) -> None:
    quick = {"name": "quick", "roles": ["developer"], "command": ["sh", "-c", "echo boom; exit 3"]}
    missing = {"name": "missing", "roles": ["developer"], "command": ["no-such-agent-xyz", "--go"]}
    orch = make_service(fleet(quick, missing, DEV, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")

    def exited(name: str) -> ev.AgentExited | None:
        found = _log(orch, ev.AgentExited, name)
        return found[0] if found else None

    quick_exit = retry_until(lambda: exited("quick"), timeout=15, message="quick's exit")
    missing_exit = retry_until(lambda: exited("missing"), timeout=15, message="missing's exit")
    assert quick_exit.code == 3 and "boom" in quick_exit.last_lines
    assert missing_exit.code == 127
    assert any("no-such-agent-xyz" in line for line in missing_exit.last_lines)
    retry_until(lambda: orch.state.agents["quick"].status == orch.state.agents["missing"].status
                == "exited", message="both exited in the state (folded just after the log append)")
    assert orch.state.agents["dev"].alive
    assert _log(orch, ev.AgentLost) == []


def test_a_spawn_failure_is_the_agents_exit_and_a_never_started_agent_is_not_lost(
        make_service, tmp_path: Path) -> None:
    nowhere = {"name": "nowhere", "roles": ["developer"], "command": ["sleep", "60"],
               "cwd": str(tmp_path / "gone")}
    orch = make_service(fleet(nowhere, DEV, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")
    [exited] = _log(orch, ev.AgentExited, "nowhere")
    assert "does not exist" in exited.last_lines[0]
    assert [e.kind for e in _log(orch, ev.Error, "nowhere")] == ["spawn"]
    orch.submit(ev.AgentSpawned(agent="ghost"))  # the fleet stopped before ghost started
    orch.stop()

    again = make_service()
    again.start()
    _started(again, "dev")
    assert _log(again, ev.AgentLost) == []


def test_an_agent_failing_at_once_is_restarted_with_a_growing_delay(make_service) -> None:
    failing = {"name": "flaky", "roles": ["developer"], "command": ["sh", "-c", "exit 1"],
               "restart": "always", "max_restarts": 50}
    orch = make_service(fleet(failing, DEV, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    retry_until(lambda: len(_log(orch, ev.AgentRestarting, "flaky")) >= 3, timeout=30,
                message="three restarts")
    events, _ = read_log(orch.log_path)
    flaky = [e for e in events if getattr(e, "agent", None) == "flaky"]
    restarts = [e for e in flaky if isinstance(e, ev.AgentRestarting)]
    assert [r.delay for r in restarts[:3]] == [1.0, 2.0, 4.0]
    spawns = [e.ts for e in flaky if isinstance(e, ev.AgentSpawned)]
    for restarting, next_spawn in zip(restarts, spawns[1:], strict=False):
        assert next_spawn - restarting.ts >= restarting.delay * 0.95  # it waited
    assert len([t for t in spawns if t - spawns[0] < 10.0]) <= 4  # not once a second
    _started(orch, "dev")  # the rest of the fleet runs meanwhile


def test_the_daemon_keeps_the_replay_index_cached_for_its_clients(make_service) -> None:
    from fleet_tui.replay.index import open_index

    orch = make_service(fleet(DEV, tasks=[IDLE_TASK], **SOLO))
    orch.start()
    _started(orch, "dev")
    orch.stop()  # the last extension happens as the daemon stops
    index = open_index(orch.log_path)
    try:
        assert index.origin == "cached" and len(index) == orch.state.events
    finally:
        index.close()
