"""A real OpenSSH server on 127.0.0.1 for the remote-host tests, and a fixture around it.

``Sshd`` writes a throw-away host key, a client key and an ``sshd_config`` into a private
folder, starts ``sshd -D`` on a free port (key-only auth, nothing but this user), and gives
the ``"remote"`` side its own ``HOME`` and ``TMUX_TMPDIR`` (``SetEnv``), so the tmux server an
agent runs in over SSH is really another server than any local one. ``drop`` stops the
listener and every connection it serves (a link going down, with the remote tmux server
and its agents left running), ``freeze`` makes every connection go silent instead; ``start``
brings it back on the same port. The ``sshd``
fixture skips, with the reason, only when no ``sshd`` is installed. ``Gate`` is a TCP relay in
front of it that holds every connection, silent, until it is opened (a host slow to answer).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet_tui.adapters.procs import descendants, is_alive, send_signal
from fleet_tui.adapters.ssh import SshTarget
from tests.helpers import retry_until

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.access("/usr/sbin/sshd", os.X_OK) else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-test", "-f",
                    str(path)], check=True, stdin=subprocess.DEVNULL)


class Sshd:
    """One sshd, its keys, and the ``SshTarget`` that reaches it."""

    def __init__(self, root: Path) -> None:
        assert SSHD is not None
        self.root = root
        self.port = free_port()
        self.home = root / "home"  # the remote side's HOME
        self.tmux_tmpdir = root / "tmux"  # ... and TMUX_TMPDIR
        for folder in (self.home, self.tmux_tmpdir):
            folder.mkdir(mode=0o700)
        _keygen(root / "host_key")
        _keygen(root / "id")
        (root / "authorized_keys").write_text((root / "id.pub").read_text())
        host_pub = (root / "host_key.pub").read_text().split()
        (root / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        user = getpass.getuser()
        (root / "sshd_config").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_key'}",
            f"PidFile {root / 'sshd.pid'}", f"AuthorizedKeysFile {root / 'authorized_keys'}",
            "PubkeyAuthentication yes", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "UsePAM no",
            "StrictModes no", f"AllowUsers {user}", "MaxSessions 100", "MaxStartups 100",
            f"SetEnv HOME={self.home} TMUX_TMPDIR={self.tmux_tmpdir}", "",
        ]))
        self.target = SshTarget(
            name="loopback", destination=f"{user}@127.0.0.1", port=self.port,
            identity=str(root / "id"),
            options=(f"UserKnownHostsFile={root / 'known_hosts'}", "StrictHostKeyChecking=yes",
                     "IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"),
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if os.geteuid() == 0:  # sshd as root wants its privilege-separation folder
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.root / "sshd.log", "ab"),  # noqa: SIM115 (the child keeps it)
        )
        retry_until(self._listening, 10, message=f"sshd listening on 127.0.0.1:{self.port}")

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            log = (self.root / "sshd.log").read_text(errors="replace")
            raise RuntimeError(f"sshd exited ({self.proc.returncode}): {log[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                return conn.recv(8).startswith(b"SSH-")
        except OSError:
            return False

    def drop(self) -> None:
        """Stop listening and cut every connection (the remote tmux server lives on)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        connections = [p for p in descendants(proc.pid) if p.ppid == proc.pid]
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        for conn in connections:  # each connection's own sshd: its session ends with it
            send_signal(conn.pid, signal.SIGKILL)
        retry_until(lambda: not any(is_alive(c.pid, c.start) for c in connections), 5,
                    message="sshd connections gone")

    def freeze(self) -> None:
        """A link gone silent (a laptop off the network): every connection stops answering,
        nothing is closed. ``drop`` ends them."""
        assert self.proc is not None
        for conn in descendants(self.proc.pid):
            if conn.ppid == self.proc.pid:
                send_signal(conn.pid, signal.SIGSTOP)

    def stop(self) -> None:
        self.drop()


class Gate:
    """A listener on its own loopback port that accepts connections and says nothing until
    ``open``; then each is relayed, both ways, to ``port`` (the sshd)."""

    def __init__(self, port: int) -> None:
        self.port_behind = port
        self.opened = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, name="gate", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._sockets.append(conn)
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        self.opened.wait()
        try:
            behind = socket.create_connection(("127.0.0.1", self.port_behind))
        except OSError:
            conn.close()
            return
        self._sockets.append(behind)
        for src, dst in ((conn, behind), (behind, conn)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def open(self) -> None:
        self.opened.set()

    def close(self) -> None:
        self.opened.set()
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def sshd() -> Iterator[Sshd]:
    """A running sshd on a free loopback port; stopped (and its folder removed) afterwards."""
    if SSHD is None:
        pytest.skip("sshd is not installed (apt-get install openssh-server)")
    root = Path(tempfile.mkdtemp(prefix="fl-sshd-"))  # short: ControlPath sockets live below
    server = Sshd(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
