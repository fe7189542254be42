"""ssh's words for the failures the real sshd cannot produce here (a host that does not
answer, a name server down, anything unforeseen): still one line, saying what to do or, for
the unforeseen, ssh's own last line."""

from __future__ import annotations

import pytest

from fleet_tui.adapters.ssh_advice import connect_advice, python_advice


@pytest.mark.parametrize(("stderr", "advice"), [
    ("ssh: connect to host 10.9.9.9 port 22: Connection timed out\n",
     "10.9.9.9 port 22 does not answer (Connection timed out): is the host up and reachable?"),
    ("ssh: connect to host gpu.lan port 2222: No route to host\r\n",
     "gpu.lan port 2222 does not answer (No route to host): is the host up and reachable?"),
    ("ssh: Could not resolve hostname gpu: Temporary failure in name resolution\n",
     "cannot resolve 'gpu' (Temporary failure in name resolution): check `ssh: gpu` in "
     "fleet.yaml, or define 'Host gpu' with its HostName in ~/.ssh/config"),
    ("Connection timed out during banner exchange\r\n",
     "gpu took the connection but no SSH server answered on it (Connection timed out during "
     "banner exchange): is its sshd overloaded, or is something else listening on that port?"),
    ("Bad owner or permissions on /home/me/.ssh/config\n",
     "Bad owner or permissions on /home/me/.ssh/config"),
    ("", "ssh could not connect"),
])
def test_connect_failures_are_one_line(stderr: str, advice: str) -> None:
    assert connect_advice("gpu", stderr) == advice


def test_a_host_python_failing_otherwise_gives_its_last_line() -> None:
    assert python_advice("python3", 1, "Traceback (most recent call last):\n  ...\nOSError: x\n") \
        == "OSError: x"
    assert python_advice("python3", 255, "") == "no answer from python3 on the host"
