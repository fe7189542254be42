"""The tmux driver: agent lifecycle on a fleet's private tmux server.

Owns everything fleet-tui does to tmux outside the pane monitor's control-mode client:
create the server and the hidden monitor session, spawn agents (one session ``fleet_<agent>``
each, its window linked into ``_fleet_monitor`` for the monitor), send them prompts and keys,
list their panes, capture their screens, and tell a UI how to attach a terminal. Pausing,
resuming and killing them (signals to their process groups) are ``tmux_signals.py``'s, a base
class of ``TmuxDriver``. Lifecycle only: nothing here runs on a timer or a hot path.

Rules kept here (see ``/work/shared/TMUX_NOTES.md`` for the measurements behind them;
running tmux, names and the pane listing are ``tmux_cli.py``, processes ``procs.py``):

- One private server per fleet, always addressed with ``-L <socket>``, never the user's
  default server. An agent's command runs after ``--`` as separate arguments, under the
  supervisor (``fleet_tui.supervisor``).
- ``remain-on-exit on``: an exited agent keeps its screen and its ``#{pane_dead_status}`` /
  ``#{pane_dead_signal}``. ``history-limit`` 50000. ``window-size latest``: the monitor's
  control client has no size and never shrinks a window; a human who attaches resizes it.
- Sessions are targeted as ``=fleet_<agent>`` (exact match; tmux otherwise matches prefixes).

libtmux (``self.server``) answers server-level questions (alive, kill). Commands that need argv
after ``--``, stdin, a clean environment or chaining go through ``TmuxDriver.run`` (2-4 ms each).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import libtmux

from fleet_tui.adapters.procs import read_proc, wait_for
from fleet_tui.adapters.tmux_cli import (
    MONITOR_COMMAND,
    MONITOR_SESSION,
    PANE_FORMAT,
    SESSION_PREFIX,
    PaneInfo,
    TmuxError,
    Wrap,
    escape_arg,
    parse_panes,
    run_tmux,
    session_name,
    with_exit_status,
)
from fleet_tui.adapters.tmux_signals import AgentSignals
from fleet_tui.config.programs import spawn_path
from fleet_tui.config.resolve import AgentLaunch

HISTORY_LIMIT = 50000
#: The supervisor, run by file path with ``python -I -S``: no cwd, no PYTHON* env, no site.
SUPERVISOR_PATH = Path(__file__).resolve().parent.parent / "supervisor.py"
#: The right of an attached agent's status line: how to get back (``#{prefix}``: the prefix key).
ATTACH_HINT = " #{prefix} d: back to fleet-tui "
_GLOBAL_OPTIONS = [
    "set-option", "-g", "history-limit", str(HISTORY_LIMIT), ";",
    "set-option", "-gw", "remain-on-exit", "on", ";",
    "set-option", "-gw", "window-size", "latest", ";",
]
#: Named keys ``press`` sends (answering an agent's menu or question from its card).
REPLY_KEYS = ("Enter", "Escape", "Up", "Down")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def socket_name_for(fleet_name: str, config_path: str | os.PathLike[str]) -> str:
    """``fleet-<name>-<8 hex of the absolute config path>``: one private server per fleet file
    (``$FLEET_TMUX_SOCKET`` names another, e.g. a test's own server)."""
    if os.environ.get("FLEET_TMUX_SOCKET"):
        return os.environ["FLEET_TMUX_SOCKET"]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", fleet_name).strip("-")[:40] or "fleet"
    digest = hashlib.sha256(str(Path(config_path).expanduser().absolute()).encode()).hexdigest()
    return f"fleet-{slug}-{digest[:8]}"


def _squash(text: str) -> str:
    return "".join(text.split())


# --- the driver ----------------------------------------------------------------------------


class TmuxDriver(AgentSignals):
    """Lifecycle of the agents on one private tmux server (``tmux -L socket_name``)."""

    #: Runs tmux elsewhere (``fleet_tui.adapters.remote``); None: here.
    wrap: Wrap | None = None

    def __init__(self, socket_name: str, tmux_bin: str | None = None) -> None:
        self.socket_name = socket_name
        self.tmux_bin = tmux_bin or shutil.which("tmux") or "tmux"
        self.server = libtmux.Server(socket_name=socket_name, tmux_bin=self.tmux_bin)

    # --- plumbing ---------------------------------------------------------------------------

    def run(self, *args: str, input: str | None = None, check: bool = True,
            path: str | None = None) -> subprocess.CompletedProcess[str]:
        """One ``tmux -L <socket> ARGS...`` (see ``tmux_cli.run_tmux``)."""
        return run_tmux(self.tmux_bin, self.socket_name, *args, input=input, check=check,
                        path=path, wrap=self.wrap)

    @staticmethod
    def target(name: str) -> str:
        """The agent's session (exact match), as a window or pane target."""
        return f"={session_name(name)}:"

    def is_running(self) -> bool:
        return self.server.is_alive()

    def ensure_monitor(self, link_existing: bool = True) -> None:
        """Start the server if needed with fleet-tui's global options and the monitor session;
        with ``link_existing``, link any agent window the monitor session lacks (adoption)."""
        if self.run("has-session", "-t", f"={MONITOR_SESSION}", check=False).returncode != 0:
            done = self.run(
                "new-session", "-d", "-s", MONITOR_SESSION, "-x", "80", "-y", "24",
                "--", *MONITOR_COMMAND, ";", *_GLOBAL_OPTIONS[:-1], check=False,
            )
            if done.returncode != 0 and "duplicate session" not in done.stderr:
                raise TmuxError(f"tmux new-session {MONITOR_SESSION}: {done.stderr.strip()}")
        if link_existing:
            out = self.run("list-windows", "-a", "-F", "#{window_id}\t#{session_name}").stdout
            rows = [line.split("\t", 1) for line in out.splitlines() if "\t" in line]
            linked = {w for w, s in rows if s == MONITOR_SESSION}
            for window_id, session in rows:
                if session.startswith(SESSION_PREFIX) and window_id not in linked:
                    self.run("link-window", "-d", "-s", window_id, "-t", f"={MONITOR_SESSION}:",
                             check=False)
                    linked.add(window_id)

    def get_server_option(self, option: str) -> str:
        """A server-scope user option such as ``@fleet_session``; "" if unset or no server."""
        proc = self.run("show-options", "-sqv", option, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def set_server_option(self, option: str, value: str) -> None:
        self.run("set-option", "-s", option, escape_arg(value))

    # --- spawn ------------------------------------------------------------------------------

    def agent_env(self, launch: AgentLaunch, session_id: str,
                  extra_env: dict[str, str] | None = None) -> dict[str, str]:
        """The variables an agent gets on top of the server's environment."""
        env = {"COLORTERM": "truecolor", **launch.env, "FLEET_AGENT": launch.name,
               "FLEET_SESSION": session_id}
        if launch.model:
            env.setdefault("FLEET_MODEL", launch.model)
        env.update(extra_env or {})
        env["PATH"] = spawn_path(env)
        return env

    @staticmethod
    def pane_command(argv: list[str]) -> list[str]:
        """What tmux runs in the pane: the supervisor wrapping the agent's argv."""
        return [sys.executable, "-I", "-S", str(SUPERVISOR_PATH), "--", *argv]

    def spawn(self, launch: AgentLaunch, session_id: str,
              extra_env: dict[str, str] | None = None,
              server_options: dict[str, str] | None = None) -> PaneInfo:
        """Start one agent in a new detached session ``fleet_<name>`` and link its window into
        the monitor session; ``server_options`` (server-scope user options such as
        ``@fleet_session``) are set in the same call. A leftover session of that name whose
        agent has exited is removed first; a live one is an error. One tmux call in the
        common case (one tmux process per agent is most of what spawning costs). A command
        that cannot run is not an error here: the supervisor prints why and exits 127 (not
        found) or 126, so the agent exits like any other and the monitor reports it."""
        name = launch.name
        if not name or any(c in name for c in ".:") or name != name.strip():
            raise TmuxError(f"agent name {name!r} cannot name a tmux session (no '.', ':', spaces)")
        if not launch.command:
            raise TmuxError(f"agent {name}: empty command")
        if launch.cwd and not os.path.isdir(launch.cwd):
            raise TmuxError(f"agent {name}: working directory {launch.cwd} does not exist")
        env = self.agent_env(launch, session_id, extra_env)
        new = ["new-session", "-d", "-s", session_name(name), "-x", str(max(2, launch.width)),
               "-y", str(max(2, launch.height)), "-P", "-F", PANE_FORMAT]
        if launch.cwd:  # "": a remote agent in its login folder
            new += ["-c", launch.cwd]
        for key, value in env.items():
            new += ["-e", f"{key}={value}"]
        new += ["--", *self.pane_command(launch.command)]
        # One command queue: the options are in place before the pane exists (history-limit
        # is read at creation; remain-on-exit must be on before the agent can exit).
        options = [a for key, value in (server_options or {}).items()
                   for a in ("set-option", "-s", key, escape_arg(value), ";")]
        args = [*_GLOBAL_OPTIONS, *options, *(escape_arg(a) for a in new), ";",
                "link-window", "-d", "-s", self.target(name), "-t", f"={MONITOR_SESSION}:"]
        for attempt in range(2):
            proc = self.run(*args, check=False, path=env["PATH"])
            panes = parse_panes(proc.stdout)
            if panes:
                if proc.returncode != 0:  # created, but no monitor session to link into yet
                    self.ensure_monitor(link_existing=True)
                return panes[0]
            old = self.pane(name) if "duplicate session" in proc.stderr else None
            if attempt or old is None or not old.dead:
                why = "already running" if old is not None else proc.stderr.strip()
                raise TmuxError(f"cannot start agent {name}: {why}")
            self._kill_window(old)
        raise AssertionError("unreachable")

    # --- queries ----------------------------------------------------------------------------

    def list_agent_panes(self, _retry: bool = True) -> list[PaneInfo]:
        """Every agent pane on the server (one ``list-panes -a``); [] when no server runs."""
        proc = self.run("list-panes", "-a", "-F", PANE_FORMAT, check=False)
        panes = parse_panes(proc.stdout) if proc.returncode == 0 else []
        if _retry and self._settle(panes):
            return self.list_agent_panes(_retry=False)
        return [with_exit_status(p) for p in panes]

    @staticmethod
    def _settle(panes: list[PaneInfo], timeout: float = 0.2) -> bool:
        """A pane reads dead as soon as its process closes the terminal, a moment before that
        process has exited. Wait (briefly) until every dead pane without a status has a zombie
        or none; True if one was reaped meanwhile (ask tmux again: it has the status now)."""
        waiting = [p.pid for p in panes if p.dead and p.dead_status is None
                   and p.dead_signal is None]
        if not waiting:
            return False

        def settled() -> bool:
            return all((proc := read_proc(pid)) is None or proc.state in ("Z", "X")
                       for pid in waiting)

        wait_for(settled, timeout, 0.005)
        return any(read_proc(pid) is None for pid in waiting)

    def pane(self, name: str, _retry: bool = True) -> PaneInfo | None:
        """The agent's pane, or None if its session does not exist."""
        proc = self.run("display-message", "-p", "-t", self.target(name), PANE_FORMAT, check=False)
        if proc.returncode != 0:
            return None
        panes = parse_panes(proc.stdout)
        if _retry and self._settle(panes):
            return self.pane(name, _retry=False)
        return with_exit_status(panes[0]) if panes else None

    def exists(self, name: str) -> bool:
        return self.run("has-session", "-t", f"={session_name(name)}", check=False).returncode == 0

    def capture(self, name: str, lines: int = 0, *, ansi: bool = False) -> list[str]:
        """The agent's screen, exactly pane-height rows (padded, should tmux give fewer; unlike
        libtmux nothing is trimmed), preceded by up to ``lines`` rows of scrollback. ``ansi``
        keeps colours (``capture-pane -e``). A dead pane's top row is in the scrollback: tmux
        3.3 scrolls the screen by one to print "Pane is dead ..." on the last row."""
        target = self.target(name)
        args = ["display-message", "-p", "-t", target, "#{pane_height}", ";",
                "capture-pane", "-p", "-t", target]
        if ansi:
            args.append("-e")
        if lines > 0:
            args += ["-S", str(-lines)]
        out = self.run(*args).stdout.split("\n")
        height = int(out[0])
        rows = out[1:]
        if rows and rows[-1] == "":
            rows.pop()  # the final newline
        visible_from = max(0, len(rows) - height) if lines > 0 else 0
        history, screen = rows[:visible_from], rows[visible_from:]
        screen = (screen + [""] * height)[:height]
        return history + screen

    def attach_argv(self, name: str) -> list[str]:
        """The argv a UI runs (inside ``App.suspend()``) to attach the user's terminal to the
        agent. Run it with ``env=clean_env()``: tmux refuses to attach while ``TMUX`` is set.
        The session's status line first gets the agent's whole name and how to come back."""
        target = f"={session_name(name)}"
        label = " fleet-tui: " + name.replace("#", "##") + " "  # ## is a literal # in a format
        status = {"status-left": escape_arg(label), "status-left-length": str(len(label) + 1),
                  "status-right": ATTACH_HINT, "status-right-length": str(len(ATTACH_HINT))}
        options = [arg for option, value in status.items()  # -t is a pane here: "=s:" exact
                   for arg in ("set-option", "-t", f"{target}:", option, value, ";")]
        return [self.tmux_bin, "-L", self.socket_name, *options, "attach-session", "-t", target]

    # --- prompts ----------------------------------------------------------------------------

    def send_prompt(self, name: str, text: str, timeout: float = 1.0) -> bool:
        """Type ``text`` into the agent and press Enter; True once the text (its first line,
        whitespace ignored, at most 32 characters) is seen on the screen at or after the row
        where the cursor was. Single line: ``send-keys -l``; multi-line: ``load-buffer`` +
        ``paste-buffer -p`` (bracketed paste when the agent asks for it). If nothing at all
        changed on screen it is sent once more; Enter is sent either way, and False means the
        text was not seen (the caller raises an alert). Control characters are dropped, so a
        prompt cannot end a bracketed paste or send escape sequences."""
        pane = self.pane(name)
        if pane is None or pane.dead:
            return False
        target = pane.pane_id
        clean = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip("\n")
        clean = clean.rstrip()
        if not clean:
            self.run("send-keys", "-t", target, "Enter")
            return True
        state = self.run("display-message", "-p", "-t", target,
                         "#{pane_in_mode} #{cursor_y} #{history_size}").stdout.split()
        if state[0] == "1":
            self.run("copy-mode", "-q", "-t", target, check=False)  # a scrolled pane eats keys
        row = int(state[1]) + int(state[2])  # absolute row of the cursor in history + screen
        first = next(line for line in clean.split("\n") if line.strip())
        needle = _squash(first)[:32]

        def seen() -> bool:
            out = self.run("display-message", "-p", "-t", target, "#{history_size}", ";",
                           "capture-pane", "-p", "-t", target, "-S", "0", check=False).stdout
            hist, _, screen = out.partition("\n")
            start = row - int(hist or 0)
            if start < 0:
                out = self.run("capture-pane", "-p", "-t", target, "-S", str(start),
                               check=False).stdout
                return needle in _squash(out)
            return needle in _squash("\n".join(screen.split("\n")[start:]))

        delivered = False
        for attempt in range(2):
            before = self.capture(name)
            self._type(target, clean)
            if wait_for(seen, timeout, 0.03):
                delivered = True
                break
            if attempt or self.capture(name) != before:
                break  # something arrived: typing it again would double it
        self.run("send-keys", "-t", target, "Enter")
        return delivered

    def _type(self, target: str, text: str) -> None:
        if "\n" not in text:
            self.run("send-keys", "-t", target, "-l", "--", escape_arg(text))
            return
        buffer = f"fleet-{uuid.uuid4().hex[:12]}"
        self.run("load-buffer", "-b", buffer, "-", ";",
                 "paste-buffer", "-p", "-d", "-b", buffer, "-t", target, input=text)

    def press(self, name: str, key: str) -> None:
        """One key to the agent, as a person would press it: ``Enter``/``Escape``/``Up``/``Down``
        by name, anything else one printable character typed literally."""
        if key in REPLY_KEYS:
            self.run("send-keys", "-t", self.target(name), key)
        elif len(key) == 1 and key.isprintable():
            self.run("send-keys", "-t", self.target(name), "-l", "--", escape_arg(key))
        else:
            raise TmuxError(f"not a key to send: {key!r}")

    def resize(self, name: str, width: int, height: int) -> None:
        """Set the agent window's size (tmux then keeps it: window-size becomes manual)."""
        self.run("resize-window", "-t", self.target(name), "-x", str(width), "-y", str(height))

