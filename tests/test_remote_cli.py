"""A fleet with an agent on a remote host, started and driven with the ``fleet-tui`` command
as a user does it: the UI in a terminal starts the daemon, which reaches the host with
nothing but the user's own ``~/.ssh/config`` and ``~/.ssh/known_hosts`` (fleet.yaml says only
``ssh: <alias>``), and the headless commands look and act. Then the mistakes a new user makes
(the host key not yet accepted or changed, a key the host refuses, a name that does not
resolve, nothing listening, fleet-tui not installed for the host's python) each give one line
saying what to do, in the alert every client shows.

OpenSSH reads ``~/.ssh`` from the passwd entry, not ``$HOME``: ``nss_wrapper`` gives this
user a passwd entry whose home is a temporary folder, so the real ``~/.ssh`` is never read
nor written. The tests skip, saying why, only when sshd or libnss_wrapper is missing.
"""

from __future__ import annotations

import glob
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from tests.helpers import retry_until
from tests.sshd import Sshd

pytestmark = pytest.mark.tmux

NSS_WRAPPER = next(iter(sorted(glob.glob("/usr/lib/*/libnss_wrapper.so")
                               + glob.glob("/usr/lib*/libnss_wrapper.so"))), None)
#: The command as installed (the console script next to this python), else the module.
_SCRIPT = Path(sys.executable).with_name("fleet-tui")
FLEET = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "fleet_tui"]
ALIAS = "fleetbox"
#: The agent on the host: says it is ready, then echoes every line it is sent.
ECHO = ["sh", "-c", 'echo "far ready"; while read l; do echo "far:$l"; done']


class User:
    """A person's machine: a home of their own (``~/.ssh`` included, through nss_wrapper),
    their FLEET_HOME and tmux folder, a fleet.yaml, and a terminal to run fleet-tui in."""

    def __init__(self, root: Path, sshd: Sshd) -> None:
        assert NSS_WRAPPER is not None
        self.root = root
        self.sshd = sshd
        self.home = root / "home"
        self.ssh_dir = self.home / ".ssh"
        self.ssh_dir.mkdir(mode=0o700, parents=True)
        self.fleet_home = root / "fleet"
        (root / "tmux").mkdir(mode=0o700)
        shutil.copy(sshd.root / "id", self.ssh_dir / "id_fleet")
        os.chmod(self.ssh_dir / "id_fleet", 0o600)
        me = pwd.getpwuid(os.getuid())
        (root / "passwd").write_text(f"{me.pw_name}:x:{me.pw_uid}:{me.pw_gid}:{me.pw_gecos}:"
                                     f"{self.home}:/bin/sh\n")
        (root / "group").write_text(f"{grp.getgrgid(me.pw_gid).gr_name}:x:{me.pw_gid}:\n")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("FLEET_TMUX_SOCKET", "FLEET_CONFIG", "TMUX", "TMUX_PANE")}
        self.env.update(LD_PRELOAD=NSS_WRAPPER, NSS_WRAPPER_PASSWD=str(root / "passwd"),
                        NSS_WRAPPER_GROUP=str(root / "group"), HOME=str(self.home),
                        FLEET_HOME=str(self.fleet_home), TMUX_TMPDIR=str(root / "tmux"),
                        XDG_CONFIG_HOME=str(root / "xdg"))
        self.ssh_config()
        self.known_hosts()
        self.config = root / "fleet.yaml"
        self.terminal = f"fl-term-{uuid.uuid4().hex[:8]}"

    # --- ~/.ssh --------------------------------------------------------------------------------

    def ssh_config(self, port: int | None = None) -> None:
        (self.ssh_dir / "config").write_text(
            f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {port or self.sshd.port}\n"
            f"  User {pwd.getpwuid(os.getuid()).pw_name}\n  IdentityFile ~/.ssh/id_fleet\n"
            "  IdentitiesOnly yes\n")

    def known_hosts(self, key: Path | None = None) -> None:
        """The host's key (or ``key``'s, a wrong one) as accepted before; no file for None."""
        pub = (key or self.sshd.root / "host_key.pub").read_text().split()
        (self.ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{self.sshd.port} {pub[0]} {pub[1]}\n")

    def ssh_g(self) -> str:
        return subprocess.run(["ssh", "-G", ALIAS], env=self.env, capture_output=True, text=True,
                              check=True, stdin=subprocess.DEVNULL).stdout

    # --- fleet-tui -----------------------------------------------------------------------------

    def write_fleet(self, ssh: str = ALIAS, python: str = sys.executable) -> None:
        self.config.write_text(yaml.safe_dump({
            "fleet": "rcli",
            "hosts": [{"name": "box", "ssh": ssh, "python": python}],
            "agents": [{"name": "far", "host": "box", "command": ECHO, "preset": "none"}],
        }, sort_keys=False))

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*FLEET, "--config", str(self.config), *args], env=self.env,
                              capture_output=True, text=True, timeout=60, input=stdin)

    def json(self, *args: str) -> Any:
        out = self.cli(*args, "--json")
        assert out.returncode == 0, out.stderr
        return [msgspec.json.decode(line) for line in out.stdout.splitlines()] \
            if args[0] == "tail" else msgspec.json.decode(out.stdout)

    def open_ui(self) -> None:
        """``fleet-tui --config fleet.yaml`` in a terminal (a pane of a tmux server of its own)."""
        subprocess.run(["tmux", "-L", self.terminal, "new-session", "-d", "-x", "160", "-y", "48",
                        "--", *FLEET, "--config", str(self.config)], env=self.env, check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.terminal, "capture-pane", "-p"], env=self.env,
                              capture_output=True, text=True, check=False).stdout

    def started(self) -> bool:
        return self.cli("ls").returncode == 0

    def control_sockets(self) -> list[Path]:
        folder = self.fleet_home / "ssh"
        return list(folder.iterdir()) if folder.exists() else []

    def close(self) -> None:
        """Whatever a failing test left: the fleet's and the terminal's tmux servers, the
        host's tmux server, and every process still using the home's ssh sockets."""
        self.cli("stop")
        for socket_dir, name in ((self.root / "tmux", self.terminal),
                                 (self.sshd.tmux_tmpdir, fleet_socket(self))):
            subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False,
                           env={**self.env, "TMUX_TMPDIR": str(socket_dir)})
        for pid in ssh_processes(self):
            os.kill(pid, 9)


def fleet_socket(user: User) -> str:
    from fleet_tui.adapters.tmux import socket_name_for

    return socket_name_for("rcli", user.config)


def ssh_processes(user: User) -> list[int]:
    """Processes whose command line names the user's ssh control folder."""
    found = []
    needle = str(user.fleet_home / "ssh").encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def user(sshd: Sshd) -> Iterator[User]:
    if NSS_WRAPPER is None:
        pytest.skip("libnss_wrapper is not installed (apt-get install libnss-wrapper): without "
                    "it ssh would read the real ~/.ssh")
    root = Path(tempfile.mkdtemp(prefix="fl-u-"))  # short: the ControlPath socket lives below
    person = User(root, sshd)
    try:
        settings = person.ssh_g()
        assert f"port {sshd.port}\n" in settings and f"{person.ssh_dir}/known_hosts" in settings, \
            "nss_wrapper did not give ssh the test's home"
        yield person
    finally:
        person.close()
        shutil.rmtree(root, ignore_errors=True)


def remote_server(user: User) -> bool:
    """Whether the fleet's tmux server runs on the host."""
    env = {**os.environ, "TMUX_TMPDIR": str(user.sshd.tmux_tmpdir)}
    return subprocess.run(["tmux", "-L", fleet_socket(user), "list-sessions"], env=env,
                          capture_output=True, check=False).returncode == 0


def test_a_remote_agent_runs_from_the_users_own_ssh_config(user: User) -> None:
    user.write_fleet()
    user.open_ui()
    retry_until(user.started, timeout=30, message=f"the daemon started by the UI; screen:\n{user.screen()}")
    agents = retry_until(lambda: [a for a in user.json("ls") if a["status"] not in ("starting",)],
                         timeout=30, message="far running")
    assert [(a["agent"], a["host"]) for a in agents] == [("far", "box")]
    assert len(user.control_sockets()) == 1
    assert user.cli("send", "far", "over ssh; 'quoted'").returncode == 0
    prompted = [e for e in user.json("tail", "--agent", "far") if e["type"] == "agent.prompted"]
    assert [p["text"] for p in prompted] == ["over ssh; 'quoted'"]
    [session] = [line.split()[0] for line in user.cli("sessions").stdout.splitlines()[1:]]

    def echoed() -> bool:
        cast = user.cli("export", session, "--format", "asciicast", "--agent", "far").stdout
        return "far:over ssh; 'quoted'" in cast

    retry_until(echoed, timeout=15, message="the echo in far's output events")
    assert remote_server(user)

    stopped = user.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    retry_until(lambda: user.cli("ls").returncode == 3, timeout=20, message="the daemon gone")
    retry_until(lambda: not remote_server(user), timeout=20, message="the host's tmux server gone")
    retry_until(lambda: not ssh_processes(user), timeout=10, message="no ssh process left")
    assert user.control_sockets() == []
