"""A fleet with an agent on a "remote" host (a real sshd on 127.0.0.1 with its own HOME and
TMUX_TMPDIR) next to a local one, run by the fleet service: the remote agent is spawned,
watched, prompted, paused and resumed over the link; a dropped link makes it ``unreachable``
(not lost) with an alert while the local agent goes on; when the link is back the log says how
long the gap was, the screen it printed meanwhile arrives, and it is the same agent."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.client.live import LiveFleet
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.state import UNREACHABLE, WORKING
from fleet_tui.daemon.pipeline import ServiceError
from fleet_tui.daemon.service import FleetService
from tests.helpers import retry_until
from tests.sshd import Gate, Sshd

pytestmark = pytest.mark.tmux
#: A remote agent's report: ``fleet-tui emit status ...`` on the host.
EMIT = f"{sys.executable} -m fleet_tui emit status"


def agent(name: str, script: str, **more: object) -> dict[str, object]:
    return {"name": name, "command": ["sh", "-c", script], "preset": "none", **more}


@pytest.fixture
def service(tmp_path: Path, tmux_socket: str, sshd: Sshd) -> Iterator[FleetService]:
    away = tmp_path / "away"
    python = tmp_path / "python"  # the host's python: slow to answer while "slow" exists
    python.write_text(f'#!/bin/sh\n[ -e {tmp_path / "slow"} ] && sleep 2\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    config = {
        "fleet": "spread",
        "hosts": [{"name": "loop", "ssh": sshd.target.destination, "port": sshd.port,
                   "identity": sshd.target.identity, "python": str(python)}],
        "agents": [
            agent("near", 'echo "near ready"; while read l; do echo "near:$l"; done'),
            agent("far", f'echo "far ready"; ( while [ ! -e {away} ]; do sleep 0.05; done; '
                         f'echo "printed while away"; {EMIT} waiting --note away ) & '
                         f'while read l; do echo "far:$l"; [ "$l" = report ] && {EMIT} idle; done',
                  host="loop"),
            agent("still", 'echo "still here"; while read l; do echo "still:$l"; done', host="loop"),
        ],
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    orch = FleetService(load_config(path), driver=TmuxDriver(tmux_socket),
                        ssh_options=sshd.target.options)
    try:
        yield orch
    finally:
        orch.stop(kill_agents=True)
        if sshd.proc is None:  # a test that failed with the link down: the host's server is
            sshd.start()       # reaped all the same, not left running with its agents
        host = orch.remote.hosts["loop"]
        if host.connect():
            host.driver.kill_server()
        host.link.close()


def screen(orch: FleetService, name: str) -> str:
    return "\n".join(orch.state.agents[name].screen)


def test_a_remote_agent_is_run_like_a_local_one_and_survives_a_dropped_link(
        service: FleetService, sshd: Sshd, tmp_path: Path) -> None:
    orch = service
    orch.start()
    far = orch.state.agents["far"]
    assert (far.host, orch.state.agents["near"].host) == ("loop", "")
    retry_until(lambda: "far ready" in screen(orch, "far") and "near ready" in screen(orch, "near"),
                timeout=15, message="both agents on screen")
    pid = far.pid
    live = LiveFleet(orch.loaded, driver=orch.driver.local)  # what a UI attaches with
    live.state = orch.state
    argv = live.attach_argv("far")
    assert argv[0] == "ssh" and "-t" in argv and sshd.target.destination in argv
    assert f"ControlPath={orch.remote.hosts['loop'].link.control_path}" in argv  # the daemon's link
    assert shlex.split(argv[-1])[-2:] == ["-t", "=fleet_far"]
    assert live.attach_argv("near")[0] != "ssh"
    assert orch.ops.prompt("far", "report")
    retry_until(lambda: orch.state.agents["far"].explicit_status == "idle", message="far's report")
    assert orch.state.agents["far"].explicit_source == "agent:far"
    assert orch.ops.prompt("far", "over the link; 'quoted'")
    retry_until(lambda: "far:over the link; 'quoted'" in screen(orch, "far"), message="the answer")
    assert orch.ops.pause("far", reason="test") and orch.state.agents["far"].paused
    assert orch.ops.resume("far")

    sshd.drop()
    retry_until(lambda: orch.state.agents["far"].status == UNREACHABLE, timeout=15,
                message="far unreachable")
    assert orch.state.agents["far"].alive
    for act in (orch.ops.restart, orch.ops.kill, orch.ops.pause):  # refused, not half done
        with pytest.raises(ServiceError, match="far runs on host loop, which cannot be reached now"):
            act("far")
    with pytest.raises(ServiceError, match=r"host loop cannot be reached now \(.*\): start far-2 once"):
        orch.ops.spawn_from_template("far", name="far-2")
    assert "far-2" not in orch.state.agents
    task = orch.ops.task_add("for far")
    with pytest.raises(ServiceError, match="far runs on host loop, which cannot be reached now"):
        orch.ops.task_assign(task, "far", orch.policy)
    assert orch.state.tasks[task].assignee is None
    assert orch.state.agents["far"].alive and orch.state.agents["far"].status == UNREACHABLE
    assert orch.state.agents["near"].status != UNREACHABLE
    assert orch.ops.prompt("near", "still here")
    retry_until(lambda: "near:still here" in screen(orch, "near"), message="near goes on")
    (tmp_path / "away").touch()  # far prints a line and reports, with nobody listening

    (tmp_path / "slow").touch()  # the host's check of fleet-tui, once the link is back, is slow
    sshd.start()
    retry_until(lambda: any(isinstance(e, ev.HostReachable) for e in read_log(orch.log_path)[0]),
                timeout=30, message="the host reported back")
    (tmp_path / "slow").unlink()
    retry_until(lambda: "printed while away" in screen(orch, "far"), timeout=30,
                message="far back, with its screen captured on reconnect")

    def reported_while_away() -> bool:
        return any(isinstance(e, ev.AgentStatus) and e.agent == "far" and e.explicit
                   and e.status == "waiting" for e in read_log(orch.log_path)[0])

    retry_until(reported_while_away, message="the report far made while away")
    assert orch.state.agents["far"].pid == pid and orch.state.agents["far"].alive
    assert orch.ops.prompt("far", "again")
    retry_until(lambda: "far:again" in screen(orch, "far"), message="far answers again")
    events, _ = read_log(orch.log_path)
    kinds = [type(e) for e in events]
    assert ev.AgentLost not in kinds
    down = next(e for e in events if isinstance(e, ev.HostUnreachable))
    back = next(e for e in events if isinstance(e, ev.HostReachable))
    assert down.host == back.host == "loop" and back.gap > 0
    # Its screens come once the host is reported back, not while its agents show unreachable.
    first_seen = next(e for e in events[events.index(down):]
                      if isinstance(e, ev.AgentOutput) and e.agent == "far")
    assert events.index(first_seen) > events.index(back)
    # An agent whose screen did not change through the gap: nothing new about it once back
    # (no output, no "the screen is changing"; it may still settle into idle, as it would
    # have anyway), and it is the same agent.
    after = [e for e in events[events.index(back):] if getattr(e, "agent", "") == "still"]
    assert not [e for e in after if isinstance(e, ev.AgentOutput)
                or (isinstance(e, ev.AgentStatus) and e.status == WORKING)], after
    assert orch.state.agents["still"].alive and "still here" in screen(orch, "still")
    assert any(isinstance(e, ev.Alert) and e.kind == ev.ALERT_HOST and e.key == "loop" for e in events)

    assert any("far:again" in row for row in orch.ops.pane_rows("far"))  # the zoom view
    orch.ops.kill("far")
    retry_until(lambda: not orch.state.agents["far"].alive, message="far's exit seen over the link")
    assert orch.remote.hosts["loop"].driver.pane("far") is None


def test_agents_of_a_host_down_at_start_start_when_it_comes_back(
        service: FleetService, sshd: Sshd) -> None:
    orch = service
    sshd.drop()
    orch.start()
    assert "far" not in orch.state.agents  # not started, not lost
    retry_until(lambda: "near ready" in screen(orch, "near"), message="the local agent runs")
    events, _ = read_log(orch.log_path)
    assert any(isinstance(e, ev.HostUnreachable) and e.host == "loop" for e in events)
    sshd.start()
    retry_until(lambda: "far" in orch.state.agents and "far ready" in screen(orch, "far"),
                timeout=30, message="far started once its host is back")
    assert orch.state.agents["far"].host == "loop"


def test_agents_whose_host_server_went_away_during_an_outage_are_lost_on_reconnect(
        service: FleetService, sshd: Sshd) -> None:
    orch = service
    orch.start()
    retry_until(lambda: "far ready" in screen(orch, "far"), timeout=15, message="far on screen")
    sshd.drop()
    retry_until(lambda: orch.state.agents["far"].status == UNREACHABLE, timeout=15,
                message="far unreachable")
    env = {**os.environ, "TMUX_TMPDIR": str(sshd.tmux_tmpdir)}  # the host "rebooted"
    subprocess.run(["tmux", "-L", orch.socket_name, "kill-server"], env=env, check=True)
    sshd.start()
    retry_until(lambda: orch.state.agents["far"].status == "lost", timeout=30, message="far lost")
    assert orch.state.agents["near"].alive


def behind_gate(tmp_path: Path, tmux_socket: str, sshd: Sshd, gate: Gate) -> FleetService:
    """A fleet with a local agent and one on a host whose sshd is behind ``gate``."""
    config = {"fleet": "slow", "hosts": [
        {"name": "slow", "ssh": sshd.target.destination, "port": gate.port,
         "identity": sshd.target.identity, "python": sys.executable}],
        "agents": [agent("near", 'echo "near ready"; while read l; do echo "near:$l"; done'),
                   agent("far", 'echo "far ready"; while read l; do echo "far:$l"; done',
                         host="slow")]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return FleetService(load_config(path), driver=TmuxDriver(tmux_socket),
                        ssh_options=(*sshd.target.options, f"HostKeyAlias=[127.0.0.1]:{sshd.port}"))


def test_a_host_slow_to_answer_does_not_hold_up_the_fleets_start(
        tmp_path: Path, tmux_socket: str, sshd: Sshd) -> None:
    """The host's sshd answers only once the gate opens: the fleet starts without waiting for
    it (the host reported unreachable, still trying); the connection it began then goes
    through, the host is reported back, and its agent starts."""
    gate = Gate(sshd.port)
    orch = behind_gate(tmp_path, tmux_socket, sshd, gate)
    try:
        orch.start()
        assert not gate.opened.is_set() and "far" not in orch.state.agents  # started without it
        [down] = [e for e in read_log(orch.log_path)[0] if isinstance(e, ev.HostUnreachable)]
        assert down.host == "slow" and "still trying" in down.reason
        retry_until(lambda: "near ready" in screen(orch, "near"), message="the local agent runs")
        gate.open()
        retry_until(lambda: "far" in orch.state.agents and "far ready" in screen(orch, "far"),
                    timeout=30, message="far started once its host answered")
        assert any(isinstance(e, ev.HostReachable) and e.host == "slow"
                   for e in read_log(orch.log_path)[0])
        assert orch.state.hosts_down == {}
    finally:
        orch.stop(kill_agents=True)
        gate.close()


def test_a_fleet_stopped_while_a_host_is_still_connecting_leaves_no_ssh_behind(
        tmp_path: Path, tmux_socket: str, sshd: Sshd) -> None:
    gate = Gate(sshd.port)
    orch = behind_gate(tmp_path, tmux_socket, sshd, gate)
    link = orch.remote.hosts["slow"].link
    try:
        orch.start()
        assert "far" not in orch.state.agents
    finally:
        orch.stop(kill_agents=True)
        gate.close()
    masters = subprocess.run(["pgrep", "-f", f"ControlPath={link.control_path}"],
                             capture_output=True, text=True, check=False).stdout.split()
    assert masters == [] and not link.control_path.exists()
