"""The SSH transport against a real sshd on 127.0.0.1: one master, argv passed intact, a
dropped link seen by the commands (no connection of their own), and opened again."""

from __future__ import annotations

import stat
from pathlib import Path

from fleet_tui.adapters.ssh import SshLink
from tests.hostile import HOSTILE
from tests.sshd import Sshd


def test_commands_ride_one_master_and_arguments_arrive_intact(sshd: Sshd, fleet_home: Path) -> None:
    link = SshLink(sshd.target)
    link.open()
    try:
        assert link.control_path.parent == fleet_home / "ssh" or "fleet-ssh-" in str(link.control_path)
        assert stat.S_IMODE(link.control_path.parent.stat().st_mode) == 0o700
        shell = ["$(touch pwned)", "`id`", "'", '"', "; exit 3", "*", "-oProxyCommand=x", "~", ""]
        words = shell + [w for w in HOSTILE if "\x00" not in w and "\ud800" not in w]
        done = link.run(["python3", "-c", "import sys; print(repr(sys.argv[1:]))", *words])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == repr(words)
        env = link.run(["sh", "-c", 'echo "$HOME $TMUX_TMPDIR"']).stdout.split()
        assert env == [str(sshd.home), str(sshd.tmux_tmpdir)]  # the "remote" side's own
        assert link.run(["cat"], input="via stdin\n").stdout == "via stdin\n"
    finally:
        link.close()


def test_a_dropped_link_fails_commands_until_opened_again(sshd: Sshd) -> None:
    link = SshLink(sshd.target)
    link.open()
    try:
        sshd.drop()
        assert link.wait_closed(10)
        assert not link.alive
        assert link.run(["true"]).returncode == 255  # no connection of its own
        sshd.start()
        link.open()
        assert link.run(["echo", "back"]).stdout == "back\n"
    finally:
        link.close()
    assert not link.control_path.exists()
