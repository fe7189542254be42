"""The tmux command line as fleet-tui uses it: one runner for ``tmux -L <socket> ...``, the
names fleet-tui gives sessions, argument escaping, and the one pane-listing format and its
parser (used by the driver and by the pane monitor's control-mode client alike).

- Every command goes to a private server (``-L <socket>``) as an argv list, never a shell
  string, with ``TMUX``/``TMUX_PANE`` removed from its environment so nothing resolves
  against the user's own tmux.
- tmux reads an argument ending in ``;`` as a command separator: ``escape_arg`` protects it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from fleet_tui.adapters.procs import signal_name, zombie_exit

#: The hidden session every agent window is linked into, for the control-mode monitor.
MONITOR_SESSION = "_fleet_monitor"
#: What the monitor session's own pane runs.
MONITOR_COMMAND = ["sleep", "2147483647"]
#: Agent sessions are ``fleet_<agent name>``.
SESSION_PREFIX = "fleet_"
#: Seconds one tmux command may take (a server that stops answering must not hang a thread).
TMUX_TIMEOUT = 30.0

_FIELDS = ("pane_id", "pane_pid", "pane_dead", "pane_dead_status", "pane_dead_signal",
           "pane_width", "pane_height", "window_id", "session_name")
#: The pane listing (``list-panes -F``, ``new-session -P -F``, ``display-message -p``).
#: session_name last: it is the only field that could hold arbitrary text.
PANE_FORMAT = "\t".join(f"#{{{f}}}" for f in _FIELDS)


#: Turns a tmux argv into the argv to run (``SshLink.remote_argv``: the same on another host).
Wrap = Callable[[list[str]], list[str]]


class TmuxError(RuntimeError):
    """A tmux command failed; the message carries tmux's own words."""


@dataclass(frozen=True, slots=True)
class PaneInfo:
    """One agent pane, as ``list-panes`` reports it."""

    agent: str
    session: str
    pane_id: str
    pid: int
    dead: bool
    dead_status: int | None
    #: ``"SIGTERM"`` style name (tmux reports a number; see ``signal_name``).
    dead_signal: str | None
    width: int
    height: int
    window_id: str = ""


def session_name(agent: str) -> str:
    return SESSION_PREFIX + agent


def escape_arg(arg: str) -> str:
    """Protect an argument from tmux's command parser: a trailing ``;`` separates commands."""
    return arg[:-1] + "\\;" if arg.endswith(";") else arg


def clean_env() -> dict[str, str]:
    """This process's environment without ``TMUX``/``TMUX_PANE``: for tmux clients, and for
    the terminal a UI attaches (tmux refuses a nested attach)."""
    return {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}


def run_tmux(tmux_bin: str, socket_name: str, *args: str, input: str | None = None,
             check: bool = False, path: str | None = None,
             wrap: Wrap | None = None) -> subprocess.CompletedProcess[str]:
    """One ``tmux -L <socket> ARGS...`` (argv, no shell, no TMUX in the environment); raises
    TmuxError when ``check`` and it fails, and when tmux gives no answer in ``TMUX_TIMEOUT``
    seconds. ``path``: the client's PATH (tmux gives a new pane
    the PATH of the client that asked for it, over ``-e PATH=...``). ``wrap``: run it
    elsewhere (over SSH)."""
    env = clean_env()
    if path is not None:
        env["PATH"] = path
    argv = [tmux_bin, "-L", socket_name, *args]
    try:
        proc = subprocess.run(
            wrap(argv) if wrap is not None else argv, input=input, capture_output=True, text=True,
            encoding="utf-8", errors="replace", env=env, check=False, timeout=TMUX_TIMEOUT,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise TmuxError(f"tmux {args[0] if args else ''}: no answer in {TMUX_TIMEOUT:g}s") from exc
    if check and proc.returncode != 0:
        raise TmuxError(f"tmux {args[0] if args else ''}: {proc.stderr.strip() or 'failed'}")
    return proc


def server_sessions(tmux_bin: str, socket_name: str, wrap: Wrap | None = None) -> list[str] | None:
    """Session names on the server; None when no server answers."""
    proc = run_tmux(tmux_bin, socket_name, "list-sessions", "-F", "#{session_name}", wrap=wrap)
    return proc.stdout.splitlines() if proc.returncode == 0 else None


def parse_listing(output: str) -> tuple[list[PaneInfo], set[str]]:
    """Rows of ``PANE_FORMAT``: the agent panes (in listing order), and the ids of the windows
    linked into the monitor session."""
    panes: list[PaneInfo] = []
    monitor_windows: set[str] = set()
    for line in output.splitlines():
        parts = line.split("\t", len(_FIELDS) - 1)
        if len(parts) != len(_FIELDS):
            continue
        pane_id, pid, dead, status, sig, width, height, window_id, session = parts
        if session == MONITOR_SESSION:
            monitor_windows.add(window_id)
        if not session.startswith(SESSION_PREFIX):
            continue
        panes.append(PaneInfo(
            agent=session[len(SESSION_PREFIX):], session=session, pane_id=pane_id,
            pid=int(pid or 0), dead=dead == "1",
            dead_status=int(status) if status.strip().lstrip("-").isdigit() else None,
            dead_signal=signal_name(sig), width=int(width or 0), height=int(height or 0),
            window_id=window_id,
        ))
    return panes, monitor_windows


def parse_panes(output: str) -> list[PaneInfo]:
    """Rows of ``PANE_FORMAT`` to PaneInfo, agent sessions only (the monitor's links skipped)."""
    return parse_listing(output)[0]


def with_exit_status(pane: PaneInfo) -> PaneInfo:
    """``pane`` with its exit status filled from /proc when tmux has not got it (see
    ``zombie_exit``)."""
    if not pane.dead or pane.dead_status is not None or pane.dead_signal is not None:
        return pane
    code, sig = zombie_exit(pane.pid)
    if code is None and sig is None:
        return pane
    return dataclasses.replace(pane, dead_status=code, dead_signal=sig)
