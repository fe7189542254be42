"""Real costs of an agent on a remote host (the real sshd of ``tests/sshd.py``, its own HOME):
its ``fleet-tui emit session`` names a Claude Code transcript on the host, the daemon follows
that file over the host's link, a message streamed in several lines is counted once, a line
written while the link is down is counted once it is back, and a daemon started again on the
same log counts only what is new."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.adapters.remote_files import Ask, RemoteFiles
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.state import UNREACHABLE
from fleet_tui.daemon.service import FleetService
from tests.helpers import retry_until
from tests.sshd import Sshd
from tests.test_transcripts import SESSION, per_message

pytestmark = pytest.mark.tmux


def assistant(message: str, output: int) -> str:
    """One line of a Claude Code transcript: a reply's usage so far."""
    return json.dumps({"type": "assistant", "uuid": f"u-{message}-{output}", "message": {
        "id": message, "model": "claude-sonnet-4-5-20250929", "role": "assistant", "content": [],
        "usage": {"input_tokens": 3, "output_tokens": output, "cache_creation_input_tokens": 100,
                  "cache_read_input_tokens": 2000}}}) + "\n"


@pytest.fixture
def transcript(sshd: Sshd) -> Path:
    path = sshd.home / ".claude" / "projects" / "-work" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"type": "user", "message": {"role": "user", "content": "hi"}}\n')
    return path


@pytest.fixture
def config(tmp_path: Path, sshd: Sshd, transcript: Path) -> Path:
    emit = (f"{sys.executable} -m fleet_tui emit session --data tool=claude "
            f"--data session_id={SESSION} --data transcript={transcript}")
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "fleet": "costs",
        "hosts": [{"name": "loop", "ssh": sshd.target.destination, "port": sshd.port,
                   "identity": sshd.target.identity, "python": sys.executable}],
        "agents": [
            {"name": "near", "command": ["sh", "-c", "cat"], "preset": "none"},
            {"name": "far", "command": ["sh", "-c", f"{emit}; echo far ready; cat"],
             "preset": "none", "host": "loop"},
        ],
    }, sort_keys=False))
    return path


@pytest.fixture
def services(config: Path, tmux_socket: str, sshd: Sshd) -> Iterator[list[FleetService]]:
    """Fleet services on ``config``, made by the test; the last one kills the agents."""
    made: list[FleetService] = []
    yield made
    for orch in made[:-1]:
        orch.stop()
    if made:
        made[-1].stop(kill_agents=True)
        host = made[-1].remote.hosts["loop"]
        if host.connect():
            host.driver.kill_server()
        host.link.close()


def start(services: list[FleetService], config: Path, tmux_socket: str, sshd: Sshd) -> FleetService:
    orch = FleetService(load_config(config), driver=TmuxDriver(tmux_socket),
                        ssh_options=sshd.target.options)
    services.append(orch)
    orch.start()
    return orch


def costs(orch: FleetService) -> dict[str, tuple[int, int, int, int]]:
    return per_message([e for e in read_log(orch.log_path)[0] if isinstance(e, ev.CostReported)])


def append(path: Path, *lines: str) -> None:
    with open(path, "a") as f:
        f.writelines(lines)


def test_a_remote_agents_transcript_costs_are_counted_once_through_drops_and_restarts(
        services: list[FleetService], config: Path, tmux_socket: str, sshd: Sshd,
        transcript: Path) -> None:
    orch = start(services, config, tmux_socket, sshd)
    retry_until(lambda: orch.state.agents["far"].transcript == str(transcript), timeout=15,
                message="far's session message, over the link")
    follower = orch._transcripts._followers["far"]
    assert isinstance(follower.files, RemoteFiles) and follower.files is orch.remote.hosts["loop"].files
    append(transcript, assistant("msg_A", 2), assistant("msg_A", 40), assistant("msg_B", 7))
    expected = {"msg_A": (3, 40, 100, 2000), "msg_B": (3, 7, 100, 2000)}
    retry_until(lambda: costs(orch) == expected, timeout=15, message="msg_A and msg_B counted")
    retry_until(lambda: orch.state.agents["far"].cost.output_tokens == 47,  # (logged, then folded)
                message="far's card")
    [first] = [e for e in read_log(orch.log_path)[0] if isinstance(e, ev.CostReported)
               and e.message == "msg_A"]
    assert first.source == "hook:claude" and first.model == "claude-sonnet-4-5-20250929"

    sshd.drop()
    retry_until(lambda: orch.state.agents["far"].status == UNREACHABLE, timeout=15,
                message="far unreachable")
    append(transcript, assistant("msg_C", 11))  # written while nobody can read it
    assert orch.remote.hosts["loop"].files.read(Ask([(str(transcript), 0)])) is None
    sshd.start()
    expected["msg_C"] = (3, 11, 100, 2000)
    retry_until(lambda: costs(orch) == expected, timeout=30, message="msg_C counted once back")
    append(transcript, assistant("msg_D", 5))  # then one more: nothing before it came twice
    expected["msg_D"] = (3, 5, 100, 2000)
    retry_until(lambda: costs(orch) == expected, timeout=15, message="msg_D counted")

    orch.stop()  # the daemon goes; the agents stay
    again = start(services, config, tmux_socket, sshd)
    assert again.log_path == orch.log_path
    append(transcript, assistant("msg_D", 9), assistant("msg_E", 1))  # msg_D grew by 4
    expected["msg_D"], expected["msg_E"] = (3, 9, 100, 2000), (3, 1, 100, 2000)
    retry_until(lambda: costs(again) == expected, timeout=15, message="only what is new counted")
    retry_until(lambda: again.state.agents["far"].cost.output_tokens == 40 + 7 + 11 + 9 + 1,
                message="far's card after the restart")
