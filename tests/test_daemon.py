"""The real daemon process in its fleet's tmux server, and its clients: the headless commands,
a daemon SIGKILLed again and again while agents work, gates an agent cannot pass, two clients
at once, and a UI whose terminal goes away."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.adapters.procs import read_proc
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.client.follower import ends_stopped
from fleet_tui.client.launch import ensure_daemon, ping
from fleet_tui.client.live import LiveFleet
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from tests.fleets import demo_agent
from tests.helpers import retry_until

ROOT = Path(__file__).resolve().parent.parent
STAGES = [{"name": "backlog"}, {"name": "ready"}, {"name": "in_progress", "roles": ["developer"]},
          {"name": "review"}, {"name": "done"}]
#: Demo agents that keep working on their own, never failing.
WORKER = ["--auto", "0.3", "--steps", "2"]


def busy_fleet(developers: int = 1, **more: Any) -> dict[str, Any]:
    return {"fleet": "d", "agents": [{**demo_agent("dev", "developer", *WORKER), "replicas": developers}],
            "tasks": [{"id": "T1", "title": "Login form", "column": "backlog"}],
            "routing": {"stages": STAGES, "auto_route": False}, **more}


@pytest.fixture
def config(tmp_path: Path, tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fleet.yaml whose daemon runs on the test's private tmux server."""
    monkeypatch.setenv("FLEET_TMUX_SOCKET", tmux_socket)
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(busy_fleet(), sort_keys=False))
    return path


def cli(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet_tui", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60, input=stdin)


def start(config: Path) -> dict[str, Any]:
    info = ensure_daemon(load_config(config))
    retry_until(lambda: len(_json(cli(config, "ls", "--json"))) >= 1, timeout=20, message="agents listed")
    return info


def _json(out: subprocess.CompletedProcess[str]) -> Any:
    assert out.returncode == 0, out.stderr
    return msgspec.json.decode(out.stdout)


def _log(info: dict[str, Any]) -> list[ev.Event]:
    events, _ = read_log(Path(info["log"]), repair=False)
    return [e for e in events if isinstance(e, ev.Event)]


def daemon_pid(driver: TmuxDriver) -> int:
    """The daemon process itself (the child of the respawn loop in ``_fleet_daemon``)."""
    info = ping(driver)
    assert info is not None, "no daemon answers"
    return info["pid"]


def test_headless_commands_talk_to_a_real_daemon(config: Path) -> None:
    absent = cli(config, "ls")
    assert absent.returncode == 3 and absent.stderr.count("\n") == 1
    assert "no daemon is running for fleet 'd'" in absent.stderr
    info = start(config)
    assert Path(info["log"]).parent / cs.SOCKET_FILE == cs.control_path(info["session"])
    assert oct(cs.control_path(info["session"]).stat().st_mode & 0o777) == "0o600"
    retry_until(lambda: _json(cli(config, "ls", "--json"))[0]["status"] in ("idle", "working"),
                timeout=20, message="dev running")

    assert cli(config, "send", "dev", "-", stdin="hello from a script").returncode == 0
    assert cli(config, "pause", "dev").returncode == 0
    assert _json(cli(config, "ls", "--json"))[0]["status"] == "paused"
    assert cli(config, "resume", "dev").returncode == 0
    added = cli(config, "task", "add", "Write the docs", "--role", "developer")
    assert added.returncode == 0 and added.stdout.strip() == "T2"
    assert cli(config, "task", "move", "T2", "ready").returncode == 0
    assert {t["task"]: t["column"] for t in _json(cli(config, "tasks", "--json"))} == \
        {"T1": "backlog", "T2": "ready"}
    refused = cli(config, "kill", "nobody")
    assert refused.returncode == 1 and refused.stderr.strip() == "fleet-tui: no agent named 'nobody'"
    assert cli(config, "frobnicate").returncode == 2
    emitted = cli(config, "emit", "task.note", "--task", "T1", "--agent", "dev", "--note", "from a person")
    assert emitted.returncode == 0, emitted.stderr  # outside any agent: through the daemon
    tail = cli(config, "tail", "-n", "3", "--type", "task")
    assert tail.returncode == 0 and "task.moved" in tail.stdout and "agent.status" not in tail.stdout

    events = _log(info)
    [prompted] = [e for e in events if isinstance(e, ev.AgentPrompted)]
    assert (prompted.text, prompted.source) == ("hello from a script", ev.SOURCE_USER)
    assert prompted.client.startswith("cli pid ")
    assert [type(e) for e in events if isinstance(e, ev.AgentPaused | ev.AgentResumed)] == \
        [ev.AgentPaused, ev.AgentResumed]
    assert [e.text for e in events if isinstance(e, ev.TaskNote)] == ["from a person"]

    assert cli(config, "stop").returncode == 0
    retry_until(lambda: not TmuxDriver(os.environ["FLEET_TMUX_SOCKET"]).is_running(), timeout=20,
                message="the fleet's tmux server gone")
    assert cli(config, "ls").returncode == 3
    last = _log(info)[-1]
    assert isinstance(last, ev.DaemonStopped) and last.agents_killed and last.client.startswith("cli pid ")


def test_a_daemon_killed_20_times_loses_nothing_and_restarts_no_agent(config: Path) -> None:
    config.write_text(yaml.safe_dump(busy_fleet(developers=10), sort_keys=False))
    info = start(config)
    driver = TmuxDriver(os.environ["FLEET_TMUX_SOCKET"])
    retry_until(lambda: len(driver.list_agent_panes()) == 10, timeout=30, message="10 agents")
    panes = {p.agent: p.pid for p in driver.list_agent_panes()}
    client = LiveFleet(load_config(config), driver=driver, client="test")
    client.start()
    rng = random.Random(20)
    acknowledged: list[str] = []
    columns = ["ready", "backlog"]
    for round_ in range(20):
        call = cs.Request(op="task_move", args={"task": "T1", "column": columns[round_ % 2]})
        cs.call(cs.control_path(info["session"]), call)
        acknowledged.append(columns[round_ % 2])
        time.sleep(rng.uniform(0.0, 0.4))  # a random moment: monitor, inbox and rules all busy
        victim = daemon_pid(driver)
        os.kill(victim, 9)
        answer = retry_until(lambda v=victim: (found := ping(driver, timeout=0.5)) and found["pid"] != v
                             and found, timeout=15, interval=0.02, message="the daemon back")
        assert answer["session"] == info["session"]
    # (how fast it comes back is measured in bench/client.py, not timed here)
    assert {p.agent: p.pid for p in driver.list_agent_panes()} == panes  # no agent restarted

    events = _log(info)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)), "seq strictly increasing, no duplicates"
    assert [e.column for e in events if isinstance(e, ev.TaskMoved)] == acknowledged
    assert not [e for e in events if isinstance(e, ev.AgentLost | ev.AgentRestarting)]
    assert len([e for e in events if isinstance(e, ev.AgentSpawned) and not e.adopted]) == 10
    assert len([e for e in events if isinstance(e, ev.ConfigLoaded)]) == 21  # one per daemon

    retry_until(lambda: client.poll() or client.state.last_seq >= _log(info)[-1].seq, timeout=10,
                message="the client caught up")
    cs.call(cs.control_path(info["session"]), cs.Request(op="stop", args={"kill_agents": True}))
    retry_until(lambda: not driver.is_running(), timeout=30, message="the fleet stopped")
    while client.poll():
        pass
    events, _ = read_log(Path(info["log"]))
    assert client.state == fold_all(events)
    client.stop()


def test_a_client_that_has_not_read_the_stop_yet_does_not_start_the_fleet_again(config: Path) -> None:
    """A UI checks on its daemon every few seconds: a check landing after the fleet was
    stopped, before the UI folded the log's ``daemon.stopped``, must not start it again."""
    info = start(config)
    driver = TmuxDriver(os.environ["FLEET_TMUX_SOCKET"])
    client = LiveFleet(load_config(config), driver=driver, client="test")
    client.start()
    assert client.check() == ""
    cs.call(cs.control_path(info["session"]), cs.Request(op="stop", args={"kill_agents": True}))
    retry_until(lambda: not driver.is_running(), timeout=30, message="the fleet stopped")
    assert not client.state.stopped  # (not polled since)
    assert client.check() == "the fleet was stopped: run fleet-tui again to start it"
    assert not driver.is_running()
    client.stop()


def test_the_logs_last_word_on_its_daemon_is_read_from_its_tail(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    started = b'{"type":"config.loaded","seq":1}\n'
    stopped = b'{"type":"daemon.stopped","seq":2,"agents_killed":true}\n'
    quoting = b'["o",3,1.0,"a",[[0,"\\"daemon.stopped\\""]]]\n'  # output quoting the words
    for content, expected in [(b"", False), (started, False), (started + stopped, True),
                              (started + stopped + quoting, True), (started + quoting, False),
                              (started + stopped + started, False)]:
        log.write_bytes(content)
        assert ends_stopped(log) is expected, content
    assert not ends_stopped(tmp_path / "missing.jsonl")


def test_an_agent_cannot_pass_a_gate_but_a_person_can(config: Path, tmp_path: Path) -> None:
    """The agent reports its task done (through the inbox, as agents do), then tries to approve
    its own gate with the command line, again and again."""
    out, go = tmp_path / "agent-tried.txt", tmp_path / "go"
    script = (f"while [ ! -e {go} ]; do sleep 0.1; done; fleet-tui emit task.done --task T1; "
              f"while true; do fleet-tui --config {config} approve T1 >> {out} 2>&1; "
              f'echo "rc=$?" >> {out}; sleep 0.3; done')
    sneaky = {"name": "sneaky", "roles": ["developer"], "command": ["sh", "-c", script]}
    config.write_text(yaml.safe_dump({
        "fleet": "d", "agents": [sneaky],
        "tasks": [{"id": "T1", "title": "Risky change", "role": "developer", "column": "ready"}],
        "routing": {"stages": STAGES, "auto_route": False},
        "approvals": [{"from": "in_progress", "to": "review"}]}, sort_keys=False))
    info = start(config)
    assert cli(config, "task", "assign", "T1", "sneaky").returncode in (0, 1)  # a prompt sh ignores
    go.touch()
    retry_until(lambda: out.exists() and "rc=1" in out.read_text(), timeout=20,
                message="the agent's attempt refused")
    assert "refused: approve must come from a person, not from an agent" in out.read_text()
    assert "rc=0" not in out.read_text()
    events = _log(info)
    assert [e.approval for e in events if isinstance(e, ev.ApprovalRequested)] == ["in_progress->review"]
    errors = [e for e in events if isinstance(e, ev.Error) and e.kind == "security"]
    assert errors and "inside an agent's pane" in errors[0].message
    assert not [e for e in events if isinstance(e, ev.ApprovalGranted)]

    person = cli(config, "approve", "T1", "--comment", "looks right")
    assert person.returncode == 0 and person.stdout.strip() == "approved in_progress->review on T1"
    [granted] = [e for e in _log(info) if isinstance(e, ev.ApprovalGranted)]
    assert granted.source == ev.SOURCE_USER and granted.comment == "looks right"
    assert _json(cli(config, "tasks", "--json"))[0]["column"] == "review"


def test_two_clients_see_the_same_fleet_and_both_act(config: Path) -> None:
    start(config)
    loaded = load_config(config)
    driver = TmuxDriver(os.environ["FLEET_TMUX_SOCKET"])
    first, second = (LiveFleet(loaded, driver=driver, client=name) for name in ("ui", "web"))
    first.start()
    second.start()
    first.toggle_pause("dev")
    retry_until(lambda: second.poll() >= 0 and second.state.agents["dev"].paused, timeout=10,
                message="the second client sees the pause")
    second.toggle_pause("dev")
    retry_until(lambda: first.poll() >= 0 and not first.state.agents["dev"].paused, timeout=10,
                message="the first client sees the resume")
    clients = [e.client for e in first.state.timeline if isinstance(e, ev.AgentPaused | ev.AgentResumed)]
    assert clients[0].startswith("ui pid ") and clients[1].startswith("web pid ")
    first.stop()
    second.stop()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_ui_whose_terminal_goes_away_exits_and_the_fleet_goes_on(config: Path, tmp_path: Path) -> None:
    info = start(config)
    terminal = TmuxDriver(f"{os.environ['FLEET_TMUX_SOCKET']}-term")
    venv = Path(sys.prefix)
    terminal.run("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", "--", "make", "-C", str(ROOT),
                 f"VENV={venv}", f"CONFIG={config}", "run", path=os.environ["PATH"])
    try:
        def ui_pid() -> int | None:
            out = subprocess.run(["pgrep", "-f", f"fleet-tui --config {config}$"],
                                 capture_output=True, text=True)
            pids = [int(p) for p in out.stdout.split()]
            return pids[0] if pids else None

        pid = retry_until(ui_pid, timeout=30, message="the UI running under make")
        def screen() -> str:
            return terminal.run("capture-pane", "-p", "-t", "=ui:").stdout

        retry_until(lambda: f"session {info['session']}" in screen(), timeout=30, message="the UI connected")
        terminal.kill_server()  # the SSH link drops: the UI's terminal is gone
        retry_until(lambda: read_proc(pid) is None or read_proc(pid).state == "Z", timeout=2.5,
                    interval=0.05, message="the UI gone within 2 s")
    finally:
        terminal.kill_server()
    assert ping(TmuxDriver(os.environ["FLEET_TMUX_SOCKET"]))["session"] == info["session"]
