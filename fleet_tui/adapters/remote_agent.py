"""The far end of a remote host: run by fleet-tui over SSH as
``python -I -m fleet_tui.adapters.remote_agent SOCKET OP``, it does one tmux driver operation on
that host's private tmux server and answers in JSON.

Lifecycle steps that need the host's own processes (``/proc``, signals to process groups,
the supervisor's path, the PATH a pane gets, waiting for a prompt to show) are carried out
there by the same ``TmuxDriver`` a local fleet uses, in one SSH round trip. The request (an
agent launch, a prompt's text...) comes on stdin as JSON, never on the command line; the
answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import msgspec

from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import TmuxError
from fleet_tui.config.resolve import AgentLaunch


def _spawn(driver: TmuxDriver, req: dict[str, Any]) -> Any:
    launch = msgspec.convert(req["launch"], AgentLaunch)
    return driver.spawn(launch, req["session_id"], req.get("extra_env") or {})


OPS: dict[str, Callable[[TmuxDriver, dict[str, Any]], Any]] = {
    "spawn": _spawn,
    "panes": lambda d, _r: d.list_agent_panes(),
    "pane": lambda d, r: d.pane(r["name"]),
    "pause": lambda d, r: d.pause(r["name"]),
    "resume": lambda d, r: d.resume(r["name"]),
    "is_paused": lambda d, r: d.is_paused(r["name"]),
    "kill": lambda d, r: d.kill(r["name"], r.get("timeout", 5.0)),
    "kill_server": lambda d, _r: d.kill_server(),
    "send_prompt": lambda d, r: d.send_prompt(r["name"], r["text"], r.get("timeout", 1.0)),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[1] not in OPS:
        sys.stderr.write(f"usage: remote_agent SOCKET {{{','.join(OPS)}}}\n")
        return 2
    socket_name, op = args
    try:
        request = msgspec.json.decode(sys.stdin.buffer.read() or b"{}")
        answer = {"ok": True, "result": OPS[op](TmuxDriver(socket_name), request)}
    except (TmuxError, msgspec.ValidationError, msgspec.DecodeError, KeyError) as exc:
        answer = {"ok": False, "error": str(exc)}
    sys.stdout.buffer.write(msgspec.json.encode(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
