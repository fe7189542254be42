"""Processes, read from ``/proc``: the one parser of ``/proc/<pid>/stat`` and what is built on
it (process trees, liveness that survives pid reuse, a zombie's exit status, CPU time), plus
quiet signalling, signal names, and reaping what is left of a set of processes.

Linux only, standard library only. Nothing here knows about tmux or agents.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    sid: int
    tpgid: int
    state: str
    start: int  # start time in clock ticks since boot: tells a reused pid apart


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after ``pid (comm)``, from ``state`` (field 3) on,
    so field N of proc(5) is ``[N - 3]``; None if the process is gone. ``pid`` may also be
    ``"self"`` or ``"self/task/<tid>"``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode(errors="replace")
    except OSError:
        return None
    return data[data.rfind(")") + 2:].split()


def read_proc(pid: int) -> Proc | None:
    """``/proc/<pid>/stat`` parsed; None if the process is gone."""
    rest = stat_fields(pid)
    if not rest or len(rest) < 20:
        return None
    return Proc(pid=pid, ppid=int(rest[1]), pgrp=int(rest[2]), sid=int(rest[3]),
                tpgid=int(rest[5]), state=rest[0], start=int(rest[19]))


def signal_name(raw: str) -> str | None:
    """A signal number as text (tmux's ``#{pane_dead_signal}``) as ``SIGTERM``; None when
    empty."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return signal.Signals(int(raw)).name
    except ValueError:
        return raw if raw.startswith("SIG") else f"SIG{raw}"


def zombie_exit(pid: int) -> tuple[int | None, str | None]:
    """(exit code, signal name) of an unreaped ``pid``, from field 52 of ``/proc/<pid>/stat``.

    tmux 3.3a sometimes misses the SIGCHLD of a pane's process: the pane shows dead with an
    empty ``#{pane_dead_status}``/``#{pane_dead_signal}`` (and no ``pane-died`` hook) until
    another child of the server exits. The process is still a zombie then, and the kernel
    keeps its wait status here. (None, None) if it is not a zombie.
    """
    rest = stat_fields(pid)
    if not rest or rest[0] != "Z" or len(rest) < 50:
        return None, None
    status = int(rest[49])
    if os.WIFSIGNALED(status):
        return None, signal_name(str(os.WTERMSIG(status)))
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    return None, None


def cpu_seconds(pid: int | str, children: bool = False) -> float:
    """User + system CPU seconds of ``pid`` (``self``, a pid, or ``self/task/<tid>`` for one
    thread), with its waited-for children's if ``children``; 0 if it is gone."""
    rest = stat_fields(pid)
    if not rest:
        return 0.0
    ticks = int(rest[11]) + int(rest[12])
    if children:
        ticks += int(rest[13]) + int(rest[14])
    return ticks / TICK


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


def send_signal(pid: int, sig: int, group: bool = False) -> None:
    """``kill`` (or ``killpg`` with ``group``), silent when the target is gone or not ours."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        (os.killpg if group else os.kill)(pid, sig)


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``check`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def reap(tracked: dict[int, Proc], grace: float = 0.5) -> None:
    """Terminate what is left of ``tracked`` (e.g. an agent): every tracked process still
    alive, and every process in one of their sessions or groups (orphans keep those ids).
    SIGTERM (and SIGCONT), then SIGKILL after ``grace`` seconds."""
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
        send_signal(proc.pid, signal.SIGTERM)
        send_signal(proc.pid, signal.SIGCONT)
    if wait_for(lambda: not survivors(), grace):
        return
    for proc in survivors():
        send_signal(proc.pid, signal.SIGKILL)
    wait_for(lambda: not survivors(), grace)
