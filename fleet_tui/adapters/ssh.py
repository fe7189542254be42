"""The SSH transport to a remote host: one multiplexed OpenSSH connection per host.

``SshLink`` owns one ``ssh -M -N`` master process (``ControlMaster``), its ``ControlPath``
socket in the fleet's private state folder (``$FLEET_HOME/ssh``, 0700; a 0700 folder under
the temporary folder when that path would be too long for a socket), and the argv of every
command that rides on it:

- the argv are lists, never a shell string built from config; ssh itself joins the remote
  command into one string for the remote shell, so ``remote_argv`` quotes every piece with
  ``shlex.quote`` and passes that one string after ``--``;
- clients of the master never open a connection of their own: ``ProxyCommand=false`` makes
  one fail at once when the master is gone (so a dropped link is seen, not hidden);
- ``BatchMode=yes``: never a password or host-key prompt (keys and known hosts only);
- the user's ``~/.ssh/config`` applies (a ``Host`` alias, its ``ProxyJump``...), but a
  ``RemoteCommand`` there would refuse every command: clients set it to ``none``;
- ``ServerAliveInterval`` makes the master notice a dead link within a few seconds.

Nothing runs on a timer here; ``fleet_tui.adapters.remote`` keeps the link up.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fleet_tui.adapters import paths
from fleet_tui.adapters.ssh_advice import connect_advice

#: Seconds between keep-alive probes on the master, and probes missed before it gives up.
ALIVE_INTERVAL = 1
ALIVE_COUNT = 3
#: Unix socket paths are limited to 108 bytes; ssh adds a 17-character suffix while binding.
_MAX_SOCKET_PATH = 88


class SshError(RuntimeError):
    """The link could not be opened, or is gone; the message says what to do
    (``ssh_advice``), or carries ssh's own words."""


@dataclass(frozen=True)
class SshTarget:
    """Where a host is: ``destination`` (``user@host``), port and identity file as in
    fleet.yaml; ``options``: extra ``-o`` settings (a test's known-hosts file)."""

    name: str
    destination: str
    port: int | None = None
    identity: str = ""
    options: tuple[str, ...] = field(default=())


def control_dir() -> Path:
    """The folder for ControlPath sockets: ``$FLEET_HOME/ssh`` (0700), or when that is too
    long for a socket path, ``<tmp>/fleet-ssh-<uid>`` (0700, ours)."""
    folder = paths.fleet_home() / "ssh"
    if len(str(folder)) + 18 > _MAX_SOCKET_PATH:
        folder = Path(tempfile.gettempdir()) / f"fleet-ssh-{os.getuid()}"
        paths.ensure_private_dir(folder)
        if folder.stat().st_uid != os.getuid():
            raise SshError(f"{folder} belongs to another user")
        return folder
    paths.make_private_dirs(paths.fleet_home())
    return paths.ensure_private_dir(folder)


class SshLink:
    """One master connection to ``target`` and the commands that use it."""

    def __init__(self, target: SshTarget, ssh_bin: str = "ssh") -> None:
        self.target = target
        self.ssh_bin = ssh_bin
        key = f"{target.destination}:{target.port}:{paths.fleet_home()}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        self.control_path = control_dir() / f"{target.name[:20]}-{digest}"
        self._master: subprocess.Popen[bytes] | None = None

    # --- argv ---------------------------------------------------------------------------------

    def _options(self) -> list[str]:
        t = self.target
        argv = ["-o", f"ControlPath={self.control_path}", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR"]
        if t.port is not None:
            argv += ["-p", str(t.port)]
        if t.identity:
            argv += ["-i", os.path.expanduser(t.identity)]
        for option in t.options:
            argv += ["-o", option]
        return argv

    def client_argv(self, *flags: str) -> list[str]:
        """``ssh`` through the master only (up to the destination, before the command)."""
        return [self.ssh_bin, *self._options(), "-o", "ControlMaster=no",
                "-o", "ProxyCommand=false", "-o", "RemoteCommand=none", *flags, "--",
                self.target.destination]

    def remote_argv(self, argv: list[str], *, tty: bool = False) -> list[str]:
        """The local argv that runs ``argv`` on the host (each piece shell-quoted, since ssh
        hands the remote shell one string)."""
        if not argv:
            raise ValueError("empty remote command")
        return [*self.client_argv("-t" if tty else "-T"), shlex.join(argv)]

    # --- the master ---------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._master is not None and self._master.poll() is None

    def open(self, timeout: float = 15.0) -> None:
        """Start the master and wait until it accepts clients; SshError if it cannot."""
        self.close()
        self.control_path.unlink(missing_ok=True)  # a stale socket from a killed master
        argv = [self.ssh_bin, *self._options(), "-M", "-N", "-o", "ControlMaster=yes",
                "-o", "ControlPersist=no", "-o", f"ServerAliveInterval={ALIVE_INTERVAL}",
                "-o", f"ServerAliveCountMax={ALIVE_COUNT}", "-o", "ConnectTimeout=10",
                "--", self.target.destination]
        master = self._master = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._master is not master:  # closed meanwhile (the fleet is stopping)
                raise SshError("the connection was closed while it was being made")
            if master.poll() is not None:
                try:
                    err = master.stderr.read().decode("utf-8", "replace").strip() \
                        if master.stderr else ""
                except ValueError:  # closed meanwhile
                    err = ""
                self._master = None
                raise SshError(connect_advice(self.target.destination, err))
            if self.check():
                return
            time.sleep(0.02)
        self.close()
        raise SshError(f"no connection in {timeout:g}s: is {self.target.destination} up and reachable?")

    def check(self) -> bool:
        """Whether the master answers (``ssh -O check``)."""
        if not self.control_path.exists():
            return False
        done = subprocess.run([self.ssh_bin, *self._options(), "-O", "check", "--",
                               self.target.destination], capture_output=True,
                              stdin=subprocess.DEVNULL, check=False)
        return done.returncode == 0

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the master exits (the link dropped); False on timeout."""
        master = self._master
        if master is None:
            return True
        try:
            master.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        """End the master (and so every client riding on it)."""
        master, self._master = self._master, None
        if master is None:
            return
        if master.poll() is None:
            master.terminate()
            try:
                master.wait(5)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        if master.stderr is not None:
            master.stderr.close()
        self.control_path.unlink(missing_ok=True)

    # --- commands -----------------------------------------------------------------------------

    def run(self, argv: list[str], *, input: str | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the host over the master; a dead link gives returncode 255."""
        try:
            return subprocess.run(
                self.remote_argv(argv), input=input, capture_output=True, text=True,
                encoding="utf-8", errors="replace", check=False, timeout=timeout,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 255, "", f"ssh: no answer in {timeout:g}s")
