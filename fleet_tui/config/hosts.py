"""The checks on ``hosts:`` and on agents' ``host:``: names, SSH destinations, ports, and
remote working folders.

Nothing from a host entry is ever put into a shell string unquoted (the SSH adapter passes
argv lists), but a destination that looks like an option (``-oProxyCommand=...``) or holds
spaces or control characters is refused here, so ``validate`` says so at once.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from fleet_tui.config.schema import FleetConfig

Problem = tuple[tuple[Any, ...], str, bool]

_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
#: ``[user@]host``: a user name, then a host name, IPv4 or bracket-less IPv6 address.
_DESTINATION = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*@)?[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_PATH_BAD = re.compile(r"[\x00-\x1f\x7f]")


def check_hosts(config: FleetConfig) -> Problem | None:
    """The first problem with the hosts or with an agent's host, or None."""
    seen: dict[str, int] = {}
    for i, host in enumerate(config.hosts):
        at = ("hosts", i)
        if not _HOST_NAME.match(host.name):
            return ((*at, "name"), f"'{host.name}' is not a valid host name (letters, digits, "
                    "'_', '-'; starting with a letter or digit)", False)
        if host.name in seen:
            return (*at, "name"), f"duplicate host name '{host.name}' (also hosts[{seen[host.name]}])", False
        seen[host.name] = i
        if not _DESTINATION.match(host.ssh):
            return ((*at, "ssh"), f"'{host.ssh}' is not an SSH destination (user@host or host; "
                    "no spaces, not starting with '-')", False)
        if host.port is not None and not 1 <= host.port <= 65535:
            return (*at, "port"), "port must be between 1 and 65535", False
        for field in ("identity", "python"):
            value = getattr(host, field)
            if (field == "python" and not value) or _PATH_BAD.search(value) or value.startswith("-"):
                return (*at, field), f"{field} must be a path (no control characters, not an option)", False
    for i, spec in enumerate(config.agents):
        if not spec.host:
            continue
        if spec.host not in seen:
            close = difflib.get_close_matches(spec.host, list(seen), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"hosts: {', '.join(seen) or 'none'}"
            return ("agents", i, "host"), f"unknown host '{spec.host}' ({hint})", False
        if spec.cwd not in (".", "") and not spec.cwd.startswith("/"):
            return (("agents", i, "cwd"), "a remote agent's cwd is a path on its host: absolute, "
                    "or '.' for the login folder", False)
    return None
