"""What a failure to reach a remote host means to a person: ssh's own words (a master that
could not connect), or those of the host's python (fleet-tui not installed for it), made into
one line that says what to do.

A new user's usual mistakes each get their advice: the host key not yet in
``~/.ssh/known_hosts`` (or changed since), a key the host refuses, a name that does not
resolve, nothing listening, a host that does not answer (or whose port answers, but not
with SSH), and a ``python:`` that is missing or lacks fleet-tui. Anything else is ssh's
last line as it is.
"""

from __future__ import annotations

import re

_KNOWN_HOSTS_NAME = re.compile(r'-R "?([^"\s]+)"?')
_UNRESOLVED = re.compile(r"Could not resolve hostname (\S+?): (.+)")
_CONNECT = re.compile(r"connect to host (\S+) port (\d+): (.+)")
_NO_MODULE = re.compile(r"No module named '?[\w.]+'?")
_NO_ANSWER = ("Connection timed out", "Operation timed out", "No route to host",
              "Network is unreachable")


def unreachable(host: str, why: str) -> str:
    """The line every client shows for a host it cannot use (the daemon keeps trying)."""
    return f"host {host} unreachable (retrying): {why}"


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def connect_advice(destination: str, stderr: str) -> str:
    """One line for a master connection to ``destination`` that ssh could not open."""
    line = last_line(stderr)
    if "has changed and you have requested strict checking" in stderr:
        found = _KNOWN_HOSTS_NAME.search(stderr)
        name = found.group(1) if found else destination
        return (f"its host key differs from the one in ~/.ssh/known_hosts (changed, or someone "
                f"in between): if the change is expected, run `ssh-keygen -R '{name}'`, then "
                f"`ssh {destination}` once to accept the new key")
    if "Host key verification failed" in stderr:
        return (f"its host key is not in ~/.ssh/known_hosts yet: connect once with "
                f"`ssh {destination}` to check and accept it")
    if "Permission denied" in stderr:
        return (f"it refused the key ({line.rstrip('.')}): add your public key to the host's "
                f"~/.ssh/authorized_keys (`ssh-copy-id {destination}`), or name the right "
                "IdentityFile in ~/.ssh/config")
    if found := _UNRESOLVED.search(stderr):
        name, why = found.groups()
        return (f"cannot resolve '{name}' ({why.strip()}): check `ssh: {destination}` in "
                f"fleet.yaml, or define 'Host {name}' with its HostName in ~/.ssh/config")
    if (found := _CONNECT.search(stderr)) and "refused" in found.group(3):
        host, port, _ = found.groups()
        return (f"nothing accepts SSH connections at {host} port {port} (connection refused): "
                "is sshd running there, and is the port right?")
    if found and any(why in found.group(3) for why in _NO_ANSWER):
        host, port, why = found.groups()
        return f"{host} port {port} does not answer ({why.strip()}): is the host up and reachable?"
    if "during banner exchange" in stderr:
        return (f"{destination} took the connection but no SSH server answered on it ({line}): "
                "is its sshd overloaded, or is something else listening on that port?")
    return line or "ssh could not connect"


def python_advice(python: str, returncode: int, stderr: str) -> str:
    """One line for fleet-tui's far end failing to start with ``python`` on the host."""
    line = last_line(stderr)
    if found := _NO_MODULE.search(stderr):
        return (f"fleet-tui is not installed for {python} on the host ({found.group()}): install it "
                "there for that python, or set `python:` of this host in fleet.yaml to a "
                "python that has it")
    if returncode == 127:
        return (f"there is no {python} on the host ({line}): set `python:` of this host in "
                "fleet.yaml to the host's python that has fleet-tui")
    return line or f"no answer from {python} on the host"
