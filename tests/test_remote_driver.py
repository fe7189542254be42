"""Agents on a "remote" host: the tmux driver and the pane monitor against a private tmux
server reached over a real sshd on 127.0.0.1 (its own HOME and TMUX_TMPDIR, so it is not a
server this machine's tmux clients see). Spawn, screen, prompts, pause/resume, the monitor's
output events over the link, attach argv, kill."""

from __future__ import annotations

import os
import pwd
import shlex
import sys
import uuid
from collections.abc import Iterator

import pytest

from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.remote import RemoteTmuxDriver
from fleet_tui.adapters.ssh import SshLink
from fleet_tui.adapters.tmux_cli import run_tmux
from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.core import events as ev
from tests.helpers import retry_until
from tests.sshd import Sshd
from tests.test_monitor import Collected, screen_of

pytestmark = pytest.mark.tmux
ECHO = ["sh", "-c", 'echo "ready ✓ in $PWD"; while read l; do echo "got:$l"; done']


@pytest.fixture
def remote(sshd: Sshd) -> Iterator[RemoteTmuxDriver]:
    link = SshLink(sshd.target)
    link.open()
    driver = RemoteTmuxDriver(f"fleet-remote-{uuid.uuid4().hex[:8]}", link, python=sys.executable)
    try:
        yield driver
    finally:
        if link.alive:
            driver.kill_server()
        link.close()


def launch(name: str, cwd: str = "") -> AgentLaunch:
    return AgentLaunch(name=name, template=name, command=ECHO, cwd=cwd, width=60, height=10)


def test_an_agent_runs_on_the_remote_server_and_is_driven_over_the_link(
        remote: RemoteTmuxDriver, sshd: Sshd, tmux_socket: str) -> None:
    remote.ensure_monitor()
    pane = remote.spawn(launch("far"), "S1", extra_env={"FLEET_INBOX": "/nowhere"})
    assert pane.agent == "far" and not pane.dead
    # Another server: its socket is under the remote TMUX_TMPDIR, and local tmux has none.
    assert (sshd.tmux_tmpdir / f"tmux-{os.getuid()}" / remote.socket_name).exists()
    assert run_tmux("tmux", remote.socket_name, "has-session").returncode != 0
    login = pwd.getpwuid(os.getuid()).pw_dir  # where sshd starts a session
    retry_until(lambda: f"ready ✓ in {login}" in remote.capture("far"),
                message="the agent's first line (in its login folder)")
    assert [p.agent for p in remote.list_agent_panes()] == ["far"]

    assert remote.send_prompt("far", "hello; $(rm -rf /) 'x'")
    retry_until(lambda: "got:hello; $(rm -rf /) 'x'" in remote.capture("far"),
                message="the prompt answered")
    assert remote.pause("far") and remote.is_paused("far")
    assert remote.resume("far") and not remote.is_paused("far")

    argv = remote.attach_argv("far")
    assert argv[0] == "ssh" and "-t" in argv and argv[-2] == sshd.target.destination
    assert shlex.split(argv[-1])[-2:] == ["-t", "=fleet_far"]
    # The user's terminal (a local tmux pane here) attached over the link shows the agent's
    # screen, non-ASCII included, though the host's login shell has no UTF-8 locale.
    run_tmux("tmux", tmux_socket, "new-session", "-d", "-x", "80", "-y", "12", "-e", "LANG=C.UTF-8",
             "--", *argv, check=True)
    retry_until(lambda: "ready ✓ in" in "\n".join(
        run_tmux("tmux", tmux_socket, "capture-pane", "-p").stdout.splitlines()),
        message="the agent's screen, attached over ssh -t")
    run_tmux("tmux", tmux_socket, "kill-server")

    assert remote.kill("far", timeout=2) in ("interrupt", "term")
    assert remote.pane("far") is None


def test_the_pane_monitor_watches_a_remote_server_through_the_link(
        remote: RemoteTmuxDriver, sshd: Sshd) -> None:
    remote.ensure_monitor()
    remote.spawn(launch("watched", cwd=str(sshd.home)), "S1")
    events = Collected()
    monitor = PaneMonitor(remote.socket_name, events, wrap=remote.wrap, tick=0.1,
                          reconnect_interval=0.2)
    monitor.start()
    try:
        assert monitor.wait_connected(10)
        retry_until(lambda: any("ready ✓ in" in r for r in screen_of(events.of(ev.AgentOutput, "watched"))),
                    message="the first screen over the link")
        remote.press("watched", "x")
        remote.press("watched", "Enter")
        retry_until(lambda: "got:x" in screen_of(events.of(ev.AgentOutput, "watched")),
                    message="the answer to a key pressed over the link")
        remote.kill("watched", timeout=2)
        retry_until(lambda: events.of(ev.AgentExited, "watched"), message="the exit")
    finally:
        monitor.stop()
