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

import contextlib
import glob
import grp
import os
import pwd
import re
import shutil
import signal
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
from tests.sshd import Sshd, _keygen, free_port

pytestmark = pytest.mark.tmux

NSS_WRAPPER = next(iter(sorted(glob.glob("/usr/lib/*/libnss_wrapper.so")
                               + glob.glob("/usr/lib*/libnss_wrapper.so"))), None)
#: The command as installed (the console script next to this python), else the module.
_SCRIPT = Path(sys.executable).with_name("fleet-tui")
FLEET = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "fleet_tui"]
ALIAS = "fleetbox"
#: The agent on the host: says it is ready, then echoes every line it is sent.
ECHO = 'echo "far ready"; while read l; do echo "far:$l"; done'


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
        #: In its agents' command lines (to find their processes).
        self.agent_mark = f"agent of {root.name}"

    # --- ~/.ssh --------------------------------------------------------------------------------

    def ssh_config(self, *more: str) -> None:
        """``Host fleetbox`` (the sshd, with the key it accepts), then ``more`` entries."""
        (self.ssh_dir / "config").write_text("\n".join([self.host_entry(ALIAS), *more]))

    def host_entry(self, alias: str, port: int | None = None, key: str = "id_fleet",
                   key_alias: str = "") -> str:
        return (f"Host {alias}\n  HostName 127.0.0.1\n  Port {port or self.sshd.port}\n"
                f"  User {pwd.getpwuid(os.getuid()).pw_name}\n  IdentityFile ~/.ssh/{key}\n"
                "  IdentitiesOnly yes\n" + (f"  HostKeyAlias {key_alias}\n" if key_alias else ""))

    def known_hosts(self, *more: str) -> None:
        """The sshd's key as accepted before (then ``more`` lines)."""
        pub = " ".join((self.sshd.root / "host_key.pub").read_text().split()[:2])
        (self.ssh_dir / "known_hosts").write_text(
            "\n".join([f"[127.0.0.1]:{self.sshd.port} {pub}", *more, ""]))

    def ssh_g(self) -> str:
        return subprocess.run(["ssh", "-G", ALIAS], env=self.env, capture_output=True, text=True,
                              check=True, stdin=subprocess.DEVNULL).stdout

    # --- fleet-tui -----------------------------------------------------------------------------

    def write_fleet(self, hosts: dict[str, dict[str, str]] | None = None) -> None:
        """A fleet with one agent on each of ``hosts`` (name: its ``hosts:`` entry); by default
        ``box``, which is ``ssh: fleetbox`` and nothing else but the python that has fleet-tui."""
        hosts = hosts or {"box": {"ssh": ALIAS}}
        self.config.write_text(yaml.safe_dump({
            "fleet": "rcli",
            "hosts": [{"name": name, "python": sys.executable, **entry} for name, entry in hosts.items()],
            "agents": [{"name": "far" if name == "box" else f"on-{name}", "host": name,
                        "command": ["sh", "-c", f"{ECHO} # {self.agent_mark}"], "preset": "none"}
                       for name in hosts],
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

    def server_runs(self, remote: bool = False) -> bool:
        """Whether the fleet's tmux server runs here (or on the host)."""
        tmpdir = self.sshd.tmux_tmpdir if remote else self.root / "tmux"
        return subprocess.run(["tmux", "-L", fleet_socket(self), "list-sessions"],
                              env={**self.env, "TMUX_TMPDIR": str(tmpdir)}, capture_output=True,
                              check=False).returncode == 0

    def close(self) -> None:
        """Stop the fleet (the UI first, so that it cannot start it again) and wait for it,
        bounded, before the folders go; then whatever a failing test left: the tmux servers
        here and on the host, and every process still using the home's ssh sockets."""
        self._kill_server(self.root / "tmux", self.terminal)
        if self.cli("stop").returncode == 0:
            with contextlib.suppress(AssertionError):
                retry_until(lambda: not self.server_runs(), timeout=30, message="the fleet stopped")
        self._kill_server(self.root / "tmux", fleet_socket(self))
        self._kill_server(self.sshd.tmux_tmpdir, fleet_socket(self))
        for pid in ssh_processes(self):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _kill_server(self, tmpdir: Path, name: str) -> None:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False,
                       env={**self.env, "TMUX_TMPDIR": str(tmpdir)})


def fleet_socket(user: User) -> str:
    from fleet_tui.adapters.tmux import socket_name_for

    return socket_name_for("rcli", user.config)


def ssh_processes(user: User) -> list[int]:
    """Processes whose command line names the user's ssh control folder."""
    return processes(str(user.fleet_home / "ssh").encode())


def processes(needle: bytes) -> list[int]:
    """Processes whose command line holds ``needle``."""
    found = []
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


def test_a_remote_agent_runs_from_the_users_own_ssh_config(user: User) -> None:
    user.write_fleet()
    user.open_ui()
    retry_until(user.started, timeout=30, message=f"the daemon started by the UI; screen:\n{user.screen()}")
    agents = retry_until(lambda: [a for a in user.json("ls") if a["status"] not in ("starting",)],
                         timeout=30, message="far running")
    assert [(a["agent"], a["host"]) for a in agents] == [("far", "box")]
    assert user.cli("ls").stdout.splitlines()[1].startswith("far@box ")
    assert len(user.control_sockets()) == 1
    assert user.cli("send", "far", "over ssh; 'quoted'").returncode == 0
    prompted = [e for e in user.json("tail", "--agent", "far") if e["type"] == "agent.prompted"]
    assert [p["text"] for p in prompted] == ["over ssh; 'quoted'"]
    [session] = [line.split()[0] for line in user.cli("sessions").stdout.splitlines()[1:]]

    def echoed() -> bool:
        cast = user.cli("export", session, "--format", "asciicast", "--agent", "far").stdout
        return "far:over ssh; 'quoted'" in cast

    retry_until(echoed, timeout=15, message="the echo in far's output events")
    assert user.server_runs(remote=True) and processes(user.agent_mark.encode())

    stopped = user.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    retry_until(lambda: user.cli("ls").returncode == 3, timeout=20, message="the daemon gone")
    retry_until(lambda: not user.server_runs(remote=True), timeout=20,
                message="the host's tmux server gone")
    retry_until(lambda: not user.server_runs(), timeout=20, message="the fleet's tmux server gone")
    retry_until(lambda: not ssh_processes(user), timeout=10, message="no ssh process left")
    assert processes(user.agent_mark.encode()) == []  # the agent itself
    assert user.control_sockets() == []


def python_without_fleet_tui(folder: Path) -> str:
    """A python on the "host" that lacks fleet-tui: the one this venv was made from, or a bare
    venv of it when that one has fleet-tui."""
    base = str(Path(sys.base_prefix) / "bin" / "python3")
    if subprocess.run([base, "-I", "-c", "import fleet_tui"], capture_output=True).returncode:
        return base
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python3")


def test_each_mistake_a_new_user_makes_is_one_line_saying_what_to_do(user: User) -> None:
    _keygen(user.root / "other")  # a key of another host, and a key the sshd does not accept
    shutil.copy(user.root / "other", user.ssh_dir / "id_other")
    other_host_key = " ".join((user.root / "other.pub").read_text().split()[:2])
    closed = free_port()
    user.ssh_config(user.host_entry("newbox", key_alias="new-box"),
                    user.host_entry("movedbox", key_alias="moved-box"),
                    user.host_entry("lockedbox", key="id_other"),
                    user.host_entry("closedbox", port=closed))
    user.known_hosts(f"moved-box {other_host_key}")
    bare = python_without_fleet_tui(user.root / "bare")
    user.write_fleet({"new": {"ssh": "newbox"}, "moved": {"ssh": "movedbox"},
                      "locked": {"ssh": "lockedbox"}, "nowhere": {"ssh": "nowhere.invalid"},
                      "closed": {"ssh": "closedbox"}, "bare": {"ssh": ALIAS, "python": bare},
                      "nopython": {"ssh": ALIAS, "python": "/nonexistent/python3"}})
    me = pwd.getpwuid(os.getuid()).pw_name
    expected = {
        "new": "its host key is not in ~/.ssh/known_hosts yet: connect once with `ssh newbox` to "
               "check and accept it",
        "moved": "its host key differs from the one in ~/.ssh/known_hosts (changed, or someone in "
                 "between): if the change is expected, run `ssh-keygen -R 'moved-box'`, then "
                 "`ssh movedbox` once to accept the new key",
        "locked": f"it refused the key ({me}@127.0.0.1: Permission denied (publickey)): add your "
                  "public key to the host's ~/.ssh/authorized_keys (`ssh-copy-id lockedbox`), or "
                  "name the right IdentityFile in ~/.ssh/config",
        "nowhere": "cannot resolve 'nowhere.invalid' (WHY): check `ssh: nowhere.invalid` in "
                   "fleet.yaml, or define 'Host nowhere.invalid' with its HostName in ~/.ssh/config",
        "closed": f"nothing accepts SSH connections at 127.0.0.1 port {closed} (connection "
                  "refused): is sshd running there, and is the port right?",
        "bare": f"fleet-tui is not installed for {bare} on the host (No module named "
                "'fleet_tui'): install it there for that python, or set `python:` of this host in "
                "fleet.yaml to a python that has it",
        "nopython": "there is no /nonexistent/python3 on the host",
    }
    user.open_ui()
    retry_until(user.started, timeout=30, message=f"the daemon started by the UI; screen:\n{user.screen()}")

    def alerts() -> dict[str, str]:
        return {e["key"]: e["message"] for e in user.json("tail", "--type", "alert", "-n", "50")}

    said = retry_until(lambda: len(found := alerts()) == len(expected) and found, timeout=30,
                       message="an alert for each host")
    for host, advice in expected.items():
        told = re.sub(r"(resolve '[^']*') \((?:Name or service not known|Temporary failure in "
                      r"name resolution)\)", r"\1 (WHY)", said[host])  # (what the resolver says)
        assert told.startswith(f"host {host} unreachable (retrying): {advice}"), said[host]
        assert "\n" not in said[host]
    listed = user.cli("ls", "--json")  # no agent started on a host it cannot use; each host said
    assert (listed.returncode, listed.stdout) == (0, "[]\n")
    assert sorted(listed.stderr.splitlines()) == sorted(f"fleet-tui: {said[host]}" for host in expected)
    daemon_pane = subprocess.run(["tmux", "-L", fleet_socket(user), "capture-pane", "-pJ", "-t",
                                  "=_fleet_daemon:"], env=user.env, capture_output=True, text=True)
    assert "Traceback" not in daemon_pane.stdout + user.screen()
    started = [line.strip() for line in daemon_pane.stdout.splitlines() if " unreachable " in line]
    assert sorted(started) == sorted(f"fleet-tui daemon: {said[host]}" for host in expected)
    retry_until(lambda: f"⚠ {len(expected)} hosts unreachable" in user.screen(),
                message="the UI's header saying so")
    assert not (user.fleet_home / "crash.log").exists()

    # The user does as told (answering "yes" to ssh's question), and the fleet goes on by itself.
    accepted = subprocess.run(["ssh", "-o", "StrictHostKeyChecking=accept-new", "newbox", "true"],
                              env=user.env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert accepted.returncode == 0, accepted.stderr
    retry_until(lambda: [a["agent"] for a in user.json("ls")] == ["on-new"], timeout=40,
                message="host new reached on a retry, its agent started")
    assert "host new" not in user.cli("ls").stderr
    retry_until(lambda: f"⚠ {len(expected) - 1} hosts unreachable" in user.screen(),
                message="the UI's header with one host fewer")


def test_the_link_takes_a_jump_host_from_the_config_and_ignores_a_remote_command_there(
        user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Common in a user's ~/.ssh/config: a host behind a jump host, an alias that lands in a
    tmux session (``RemoteCommand``, which would refuse any other command)."""
    from fleet_tui.adapters.ssh import SshLink, SshTarget

    user.ssh_config(user.host_entry("inside") + f"  ProxyJump {ALIAS}\n"
                    "  RequestTTY yes\n  RemoteCommand tmux new -A -s main\n")
    for key, value in user.env.items():
        monkeypatch.setenv(key, value)  # the ssh processes the link starts get the user's home
    link = SshLink(SshTarget("inside", "inside"))
    try:
        link.open(15)
        done = link.run(["echo", "over the jump host"])
        assert (done.returncode, done.stdout, done.stderr) == (0, "over the jump host\n", "")
    finally:
        link.close()
