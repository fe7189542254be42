"""Agents' messages (``fleet-tui emit``, hooks) from a remote host, carried back over the
host's own tmux server and SSH link: nothing else is opened or installed there.

A remote agent's ``FLEET_INBOX`` is ``tmux:<socket>`` instead of a folder. ``deliver`` then
puts the message (the same JSON an inbox file holds) into a tmux buffer
``fleet-inbox-<id>`` on that server, and renames the monitor session's first window to the
buffer's name in the same command list: tmux 3.3 tells a control client about no buffer
change, but it does report ``%window-renamed`` for its session's windows at once. The
host's pane monitor (``RemotePaneMonitor``) then takes every ``fleet-inbox-*`` buffer over
its control connection (``take_messages``), also once each time it connects (messages left
while the link was down), and hands their bytes to the daemon, which drops them into the
session's local inbox: the inbox watcher checks them (size, token, content) like any file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from fleet_tui.adapters.control import Reply
from fleet_tui.adapters.inbox import MAX_MESSAGE_BYTES, drop_message
from fleet_tui.adapters.tmux_cli import MONITOR_SESSION, run_tmux
from fleet_tui.core.inbox_rules import InboxMessage

TMUX_INBOX = "tmux:"
BUFFER_PREFIX = "fleet-inbox-"
#: The control-mode notification a delivery causes.
RENAMED = b"%window-renamed "


def remote_inbox(socket_name: str) -> str:
    """The ``FLEET_INBOX`` of an agent on a remote host's server ``socket_name``."""
    return TMUX_INBOX + socket_name


def deliver(inbox: str, msg: InboxMessage) -> None:
    """Hand ``msg`` to the fleet: a file in the inbox folder, or (``tmux:<socket>``) a buffer
    on the agent's tmux server. OSError if it cannot."""
    if not inbox.startswith(TMUX_INBOX):
        drop_message(Path(inbox), msg)
        return
    if not msg.id.isalnum():
        raise OSError(f"bad message id {msg.id!r}")
    name = BUFFER_PREFIX + msg.id
    done = run_tmux("tmux", inbox[len(TMUX_INBOX):], "load-buffer", "-b", name, "-", ";",
                    "rename-window", "-t", f"={MONITOR_SESSION}:^", name,
                    input=msgspec.json.encode(msg).decode())
    if done.returncode != 0:
        raise OSError(f"cannot reach the fleet through tmux: {done.stderr.strip()}")


def take_messages(command: Callable[[str], Reply | None]) -> list[bytes]:
    """Every message buffer on the server, each removed once read (``command`` runs one
    control-mode command and returns its reply, None when the connection is gone)."""
    listing = command("list-buffers -F '#{buffer_name}'")
    if listing is None or not listing.ok:
        return []
    taken = []
    for name in listing.text():
        if not (name.startswith(BUFFER_PREFIX) and name[len(BUFFER_PREFIX):].isalnum()):
            continue
        reply = command(f"show-buffer -b {name}")
        command(f"delete-buffer -b {name}")
        if reply is not None and reply.ok:
            data = b"\n".join(reply.lines).strip()
            if len(data) <= MAX_MESSAGE_BYTES:
                taken.append(data)
    return taken
