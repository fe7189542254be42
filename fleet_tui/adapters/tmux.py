"""The tmux driver: agent lifecycle on a fleet's private tmux server.

Owns everything fleet-tui does to tmux outside the pane monitor's control-mode client:
create the server and the hidden monitor session, spawn agents (one session ``fleet_<agent>``
each, its window linked into ``_fleet_monitor`` for the monitor), pause and resume them,
kill them gracefully, send them prompts, list their panes, capture their screens, and tell a
UI how to attach a terminal. Lifecycle only: nothing here runs on a timer or a hot path.

Rules kept here (see ``/work/shared/TMUX_NOTES.md`` for the measurements behind them):

- One private server per fleet, always addressed with ``-L <socket>`` (a socket in tmux's own
  0700 directory), never the user's default server; ``TMUX``/``TMUX_PANE`` are removed from the
  environment of every tmux command so nothing resolves against the user's own tmux.
- argv lists only, never a shell string. An agent's command runs after ``--`` as separate
  arguments, under the supervisor (``fleet_tui.supervisor``). tmux reads an argument ending
  in ``;`` as a command separator, so every such argument is escaped (``\\;``).
- ``remain-on-exit on``: an exited agent keeps its screen and its ``#{pane_dead_status}`` /
  ``#{pane_dead_signal}``. ``history-limit`` 50000. ``window-size latest``: the monitor's
  control client has no size and never shrinks a window; a human who attaches resizes it.
- Pause/resume signal the agent's process group(s), never the pane's own process (tmux
  SIGCONTs that), plus any descendants that left the group with ``setsid()``.
- Sessions are targeted as ``=fleet_<agent>`` (exact match; tmux otherwise matches prefixes).

libtmux (``self.server``) answers server-level questions (alive, kill). Commands that need
argv after ``--``, stdin, a clean environment or chaining go through ``TmuxDriver.run``
(one ``tmux`` subprocess per call, 2-4 ms).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libtmux

from fleet_tui.config.resolve import AgentLaunch

#: The hidden session every agent window is linked into, for the control-mode monitor.
MONITOR_SESSION = "_fleet_monitor"
#: Agent sessions are ``fleet_<agent name>``.
SESSION_PREFIX = "fleet_"
HISTORY_LIMIT = 50000
#: The supervisor, run by file path with ``python -I -S``: no cwd, no PYTHON* env, no site.
SUPERVISOR_PATH = Path(__file__).resolve().parent.parent / "supervisor.py"
SUPERVISOR_MODULE = "fleet_tui.supervisor"
MONITOR_COMMAND = ["sleep", "2147483647"]

_FIELDS = ("pane_id", "pane_pid", "pane_dead", "pane_dead_status", "pane_dead_signal",
           "pane_width", "pane_height", "window_id", "session_name")
#: session_name last: it is the only field that could hold arbitrary text.
PANE_FORMAT = "\t".join(f"#{{{f}}}" for f in _FIELDS)
_GLOBAL_OPTIONS = [
    "set-option", "-g", "history-limit", str(HISTORY_LIMIT), ";",
    "set-option", "-gw", "remain-on-exit", "on", ";",
    "set-option", "-gw", "window-size", "latest", ";",
]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


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


def socket_name_for(fleet_name: str, config_path: str | os.PathLike[str]) -> str:
    """``fleet-<name>-<8 hex of the absolute config path>``: one private server per fleet file
    (``$FLEET_TMUX_SOCKET`` names another, e.g. a test's own server)."""
    if os.environ.get("FLEET_TMUX_SOCKET"):
        return os.environ["FLEET_TMUX_SOCKET"]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", fleet_name).strip("-")[:40] or "fleet"
    digest = hashlib.sha256(str(Path(config_path).expanduser().absolute()).encode()).hexdigest()
    return f"fleet-{slug}-{digest[:8]}"


def session_name(agent: str) -> str:
    return SESSION_PREFIX + agent


def signal_name(raw: str) -> str | None:
    """tmux's ``#{pane_dead_signal}`` (a number) as ``SIGTERM``; None when empty."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return signal.Signals(int(raw)).name
    except ValueError:
        return raw if raw.startswith("SIG") else f"SIG{raw}"


def escape_arg(arg: str) -> str:
    """Protect an argument from tmux's command parser: a trailing ``;`` separates commands."""
    return arg[:-1] + "\\;" if arg.endswith(";") else arg


def clean_env() -> dict[str, str]:
    """This process's environment without ``TMUX``/``TMUX_PANE``: for tmux clients, and for
    the terminal a UI attaches (tmux refuses a nested attach)."""
    return {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}


def parse_panes(output: str) -> list[PaneInfo]:
    """Rows of ``PANE_FORMAT`` to PaneInfo, agent sessions only (the monitor's links skipped)."""
    panes = []
    for line in output.splitlines():
        parts = line.split("\t", len(_FIELDS) - 1)
        if len(parts) != len(_FIELDS):
            continue
        pane_id, pid, dead, status, sig, width, height, window_id, session = parts
        if not session.startswith(SESSION_PREFIX):
            continue
        panes.append(PaneInfo(
            agent=session[len(SESSION_PREFIX):], session=session, pane_id=pane_id,
            pid=int(pid or 0), dead=dead == "1",
            dead_status=int(status) if status.strip().lstrip("-").isdigit() else None,
            dead_signal=signal_name(sig), width=int(width or 0), height=int(height or 0),
            window_id=window_id,
        ))
    return panes


# --- /proc ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    sid: int
    tpgid: int
    state: str
    start: int  # start time in clock ticks since boot: tells a reused pid apart


def read_proc(pid: int) -> Proc | None:
    """``/proc/<pid>/stat`` parsed; None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode(errors="replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    # after "pid (comm) ": state ppid pgrp session tty_nr tpgid ... starttime is field 22
    return Proc(pid=pid, ppid=int(rest[1]), pgrp=int(rest[2]), sid=int(rest[3]),
                tpgid=int(rest[5]), state=rest[0], start=int(rest[19]))


def zombie_exit(pid: int) -> tuple[int | None, str | None]:
    """(exit code, signal name) of an unreaped ``pid``, from field 52 of ``/proc/<pid>/stat``.

    tmux 3.3a sometimes misses the SIGCHLD of a pane's process: the pane shows dead with an
    empty ``#{pane_dead_status}``/``#{pane_dead_signal}`` (and no ``pane-died`` hook) until
    another child of the server exits. The process is still a zombie then, and the kernel
    keeps its wait status here. (None, None) if it is not a zombie.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode(errors="replace")
    except OSError:
        return None, None
    rest = data[data.rfind(")") + 2:].split()
    if not rest or rest[0] != "Z" or len(rest) < 50:
        return None, None
    status = int(rest[49])
    if os.WIFSIGNALED(status):
        return None, signal_name(str(os.WTERMSIG(status)))
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    return None, None


def with_exit_status(pane: PaneInfo) -> PaneInfo:
    """``pane`` with its exit status filled from /proc when tmux has not got it (see
    ``zombie_exit``)."""
    if not pane.dead or pane.dead_status is not None or pane.dead_signal is not None:
        return pane
    code, sig = zombie_exit(pane.pid)
    if code is None and sig is None:
        return pane
    return dataclasses.replace(pane, dead_status=code, dead_signal=sig)


def all_procs() -> dict[int, Proc]:
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            proc = read_proc(int(entry))
            if proc is not None:
                procs[proc.pid] = proc
    return procs


def descendants(root: int, procs: dict[int, Proc] | None = None) -> list[Proc]:
    """Every live process below ``root`` (not ``root`` itself), parents before children."""
    procs = all_procs() if procs is None else procs
    children: dict[int, list[Proc]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(0), []):
            if child.pid != root:
                found.append(child)
                todo.append(child.pid)
    return found


def is_alive(pid: int, start: int) -> bool:
    """Running (not a zombie) and still the same process (start time unchanged)."""
    proc = read_proc(pid)
    return proc is not None and proc.start == start and proc.state not in ("Z", "X")


def _signal(pid: int, sig: int, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        (os.killpg if group else os.kill)(pid, sig)


def _wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _squash(text: str) -> str:
    return "".join(text.split())


# --- the driver ----------------------------------------------------------------------------


class TmuxDriver:
    """Lifecycle of the agents on one private tmux server (``tmux -L socket_name``)."""

    def __init__(self, socket_name: str, tmux_bin: str | None = None) -> None:
        self.socket_name = socket_name
        self.tmux_bin = tmux_bin or shutil.which("tmux") or "tmux"
        self.server = libtmux.Server(socket_name=socket_name, tmux_bin=self.tmux_bin)

    # --- plumbing ---------------------------------------------------------------------------

    def run(self, *args: str, input: str | None = None, check: bool = True,
            path: str | None = None) -> subprocess.CompletedProcess[str]:
        """One ``tmux -L <socket> ARGS...`` (argv, no shell, no TMUX in the environment).
        ``path``: the client's PATH (tmux gives a new pane the PATH of the client that asked
        for it, over ``-e PATH=...``)."""
        env = clean_env()
        if path is not None:
            env["PATH"] = path
        proc = subprocess.run(
            [self.tmux_bin, "-L", self.socket_name, *args], input=input, capture_output=True,
            text=True, encoding="utf-8", errors="replace", env=env, check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise TmuxError(f"tmux {args[0] if args else ''}: {proc.stderr.strip() or 'failed'}")
        return proc

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
        # `python` and `fleet-tui` in agent commands and hooks mean fleet-tui's own environment.
        base_path = env.get("PATH") or os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), base_path])
        return env

    @staticmethod
    def pane_command(argv: list[str]) -> list[str]:
        """What tmux runs in the pane: the supervisor wrapping the agent's argv."""
        return [sys.executable, "-I", "-S", str(SUPERVISOR_PATH), "--", *argv]

    def spawn(self, launch: AgentLaunch, session_id: str,
              extra_env: dict[str, str] | None = None) -> PaneInfo:
        """Start one agent in a new detached session ``fleet_<name>`` and link its window into
        the monitor session. A leftover session of that name whose agent has exited is
        removed first; a live one is an error. One tmux call in the common case."""
        name = launch.name
        if not name or any(c in name for c in ".:") or name != name.strip():
            raise TmuxError(f"agent name {name!r} cannot name a tmux session (no '.', ':', spaces)")
        if not launch.command:
            raise TmuxError(f"agent {name}: empty command")
        if not os.path.isdir(launch.cwd):
            raise TmuxError(f"agent {name}: working directory {launch.cwd} does not exist")
        env = self.agent_env(launch, session_id, extra_env)
        self._check_command(launch.command, launch.cwd, env["PATH"])
        new = ["new-session", "-d", "-s", session_name(name), "-x", str(max(2, launch.width)),
               "-y", str(max(2, launch.height)), "-c", launch.cwd, "-P", "-F", PANE_FORMAT]
        for key, value in env.items():
            new += ["-e", f"{key}={value}"]
        new += ["--", *self.pane_command(launch.command)]
        # One command queue: the options are in place before the pane exists (history-limit
        # is read at creation; remain-on-exit must be on before the agent can exit).
        args = [*_GLOBAL_OPTIONS, *(escape_arg(a) for a in new), ";",
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

    @staticmethod
    def _check_command(argv: list[str], cwd: str, path: str) -> None:
        exe = argv[0]
        if "/" in exe:
            full = exe if os.path.isabs(exe) else os.path.join(cwd, exe)
            ok = os.path.isfile(full) and os.access(full, os.X_OK)
        else:
            ok = shutil.which(exe, path=path) is not None
        if not ok:
            raise TmuxError(f"command not found: {exe}")

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

        _wait_for(settled, timeout, 0.005)
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
        agent. Run it with ``env=clean_env()``: tmux refuses to attach while ``TMUX`` is set."""
        return [self.tmux_bin, "-L", self.socket_name, "attach-session", "-t",
                f"={session_name(name)}"]

    # --- process groups ---------------------------------------------------------------------

    def _groups(self, pane: PaneInfo) -> tuple[set[int], set[int], list[Proc]]:
        """The agent's process groups and the lone pids to signal (the pane process excluded),
        and the processes seen. The foreground group (tpgid) comes from the supervisor."""
        procs = all_procs()
        sup = procs.get(pane.pid)
        if sup is None:
            return set(), set(), []
        tree = descendants(pane.pid, procs)
        groups: set[int] = set()
        if sup.tpgid > 0 and sup.tpgid != sup.pgrp:
            groups.add(sup.tpgid)
        singles: set[int] = set()
        for proc in tree:
            if proc.pgrp == sup.pgrp:
                singles.add(proc.pid)  # still in the supervisor's group: never signal that group
            else:
                groups.add(proc.pgrp)
        return groups, singles, tree

    def _signal_agent(self, pane: PaneInfo, sig: int, rounds: int = 3) -> list[Proc]:
        """Send ``sig`` to every group and process of the agent; repeat the walk so processes
        forked meanwhile are caught (a stopped process cannot fork). Returns all seen."""
        seen: dict[int, Proc] = {}
        done: set[tuple[str, int]] = set()
        for _ in range(rounds):
            groups, singles, tree = self._groups(pane)
            seen.update((p.pid, p) for p in tree)
            todo = {("g", g) for g in groups} | {("p", p) for p in singles}
            if not todo - done:
                break
            for kind, ident in sorted(todo - done):  # "g" before "p": groups first
                _signal(ident, sig, group=kind == "g")
            done |= todo
        return list(seen.values())

    def pause(self, name: str) -> bool:
        """SIGSTOP the agent's process group(s) and escaped descendants; False if not running."""
        pane = self.pane(name)
        if pane is None or pane.dead:
            return False
        self._signal_agent(pane, signal.SIGSTOP)
        return True

    def resume(self, name: str) -> bool:
        """SIGCONT everything ``pause`` stopped; False if not running."""
        pane = self.pane(name)
        if pane is None or pane.dead:
            return False
        self._signal_agent(pane, signal.SIGCONT, rounds=1)
        return True

    def is_paused(self, name: str) -> bool:
        """The agent's foreground group leader is stopped (state ``T``)."""
        pane = self.pane(name)
        sup = read_proc(pane.pid) if pane is not None and not pane.dead else None
        if sup is None or sup.tpgid <= 0 or sup.tpgid == sup.pgrp:
            return False
        leader = read_proc(sup.tpgid)
        return leader is not None and leader.state == "T"

    # --- kill -------------------------------------------------------------------------------

    def kill(self, name: str, timeout: float = 5.0) -> str:
        """End the agent gracefully and remove its session; returns the step that ended it:

        ``"interrupt"`` (Ctrl-C, sent twice: some agents ask for a second one), ``"term"``
        (SIGTERM to its groups), ``"kill"`` (the window killed, survivors SIGKILLed),
        ``"exited"`` (it had already exited) or ``"gone"`` (no such session). Each graceful
        step waits up to ``timeout / 2``. Processes the agent left behind (its own
        ``setsid()`` children included) are terminated too.
        """
        pane = self.pane(name)
        if pane is None:
            return "gone"
        sup = read_proc(pane.pid)
        tracked: dict[int, Proc] = {}
        if sup is not None and not pane.dead:
            tracked[sup.pid] = sup

        def track() -> None:
            if sup is not None:
                tracked.update((p.pid, p) for p in descendants(sup.pid))

        def agent_gone() -> bool:
            return sup is None or not is_alive(sup.pid, sup.start)

        step = timeout / 2
        if pane.dead or agent_gone():
            how = "exited"
        else:
            track()
            self._signal_agent(pane, signal.SIGCONT, rounds=1)  # a paused agent cannot react
            self.run("send-keys", "-t", pane.pane_id, "C-c", check=False)
            if _wait_for(agent_gone, min(0.5, step)):
                how = "interrupt"
            else:
                self.run("send-keys", "-t", pane.pane_id, "C-c", check=False)
                how = "interrupt" if _wait_for(agent_gone, max(0.0, step - 0.5)) else ""
            if not how:
                track()
                self._signal_agent(pane, signal.SIGTERM)
                self._signal_agent(pane, signal.SIGCONT, rounds=1)
                how = "term" if _wait_for(agent_gone, step) else "kill"
        track()
        self._kill_window(pane)
        self._reap(tracked)
        return how

    def _kill_window(self, pane: PaneInfo) -> None:
        """kill-window (the window is also linked into the monitor session, so kill-session
        alone would leave it alive), then the session if anything is left of it."""
        target = pane.window_id or self.target(pane.agent)
        self.run("kill-window", "-t", target, check=False)
        self.run("kill-session", "-t", f"={pane.session}", check=False)

    @staticmethod
    def _reap(tracked: dict[int, Proc], grace: float = 0.5) -> None:
        """Terminate what is left of an agent: every tracked process still alive, and every
        process in one of their sessions or groups (orphans keep those ids)."""
        sids = {p.sid for p in tracked.values()}
        groups = {p.pgrp for p in tracked.values()}
        me = os.getpid()

        def survivors() -> list[Proc]:
            out = []
            for proc in all_procs().values():
                if proc.pid == me or proc.state in ("Z", "X"):
                    continue
                old = tracked.get(proc.pid)
                if (old is not None and old.start == proc.start) or (
                    old is None and (proc.sid in sids or proc.pgrp in groups)
                    and proc.sid != os.getsid(0)
                ):
                    out.append(proc)
            return out

        left = survivors()
        if not left:
            return
        for proc in left:
            _signal(proc.pid, signal.SIGTERM)
            _signal(proc.pid, signal.SIGCONT)
        if _wait_for(lambda: not survivors(), grace):
            return
        for proc in survivors():
            _signal(proc.pid, signal.SIGKILL)
        _wait_for(lambda: not survivors(), grace)

    def kill_server(self) -> None:
        """Kill the whole private server (every agent and the monitor session), then whatever
        the agents leave behind (tmux only hangs up their terminals)."""
        tracked: dict[int, Proc] = {}
        procs = all_procs()
        for pane in self.list_agent_panes():
            sup = procs.get(pane.pid)
            if not pane.dead and sup is not None:
                tracked[sup.pid] = sup
                tracked.update((p.pid, p) for p in descendants(sup.pid, procs))
        if self.server.is_alive():
            socket_path = self.run("display-message", "-p", "#{socket_path}",
                                   check=False).stdout.strip()
            self.server.kill()
            if socket_path:  # tmux 3.3a leaves its socket file behind
                with contextlib.suppress(OSError):
                    os.unlink(socket_path)
        if tracked:
            self._reap(tracked)

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
            if _wait_for(seen, timeout, 0.03):
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

    def resize(self, name: str, width: int, height: int) -> None:
        """Set the agent window's size (tmux then keeps it: window-size becomes manual)."""
        self.run("resize-window", "-t", self.target(name), "-x", str(width), "-y", str(height))

