"""The pane's own process: runs one agent in its own process group and passes its exit on.

``python -m fleet_tui.supervisor -- AGENT ARGV...`` (the tmux driver runs this file with
``python -I -S`` instead, so nothing from the agent's folder or environment can shadow it).

Why it exists: tmux sends SIGCONT to a pane's own process whenever that process stops, so a
pane process cannot be paused. The supervisor is that pane process; the agent runs as its
child in a new process group that owns the terminal (``tcsetpgrp``), so

- the driver pauses and resumes the agent with ``killpg(pgid, SIGSTOP / SIGCONT)``;
  the group is the pane tty's foreground group: field 8 (``tpgid``) of
  ``/proc/<pane_pid>/stat``, no files needed;
- Ctrl-C typed (or sent with ``send-keys``) in the pane reaches the agent, not the supervisor;
- SIGTERM, SIGINT and SIGHUP sent to the supervisor are forwarded to the group (followed by
  SIGCONT, so a paused agent can act on them);
- the supervisor exits with the agent's exit code, or dies of the same signal, so tmux's
  ``#{pane_dead_status}`` / ``#{pane_dead_signal}`` describe the agent.

It is also a child subreaper (Linux ``prctl``): processes the agent orphans are re-parented to
the supervisor instead of init, so they stay in the pane's process tree where the driver's
pause and kill find them. It reaps them while it waits. Standard library only; it must start
fast (one per agent).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux, or no prctl: the driver still walks /proc
        pass


def _tty_fd() -> int | None:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return fd
        except OSError:
            continue
    return None


def _give_terminal(fd: int | None, pgid: int) -> None:
    """Make ``pgid`` the terminal's foreground group (SIGTTOU ignored while we do it)."""
    if fd is None:
        return
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgid)
    except OSError:
        pass
    finally:
        signal.signal(signal.SIGTTOU, old)


def _child(argv: list[str], tty: int | None) -> None:
    """In the forked child: new group, take the terminal, default signals, exec. Never returns."""
    try:
        os.setpgid(0, 0)
        _give_terminal(tty, os.getpgrp())
        # Python ignores SIGPIPE and SIGXFSZ; ignored dispositions survive exec, so undo that.
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTTOU, signal.SIGTTIN, *FORWARDED):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.execvp(argv[0], argv)
    except OSError as exc:
        os.write(2, f"fleet supervisor: cannot run {argv[0]!r}: {exc.strerror}\r\n".encode())
        os._exit(127 if exc.errno == errno.ENOENT else 126)
    except BaseException:
        os._exit(126)


def _die_like(status: int) -> int:
    """Exit the way the agent did: same code, or killed by the same signal."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return code
    sig = -code
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # re-raising SIGSEGV must not dump us
    except (ImportError, ValueError, OSError):
        pass
    with contextlib.suppress(OSError, ValueError):  # SIGKILL/SIGSTOP: no handler to reset
        signal.signal(sig, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
    return 128 + sig


def run(argv: list[str]) -> int:
    _become_subreaper()
    tty = _tty_fd()
    # Block the forwarded signals until the child's group exists, so none is lost or misdirected.
    signal.pthread_sigmask(signal.SIG_BLOCK, set(FORWARDED))
    pid = os.fork()
    if pid == 0:
        _child(argv, tty)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also done by the child: whichever runs first wins the race
    _give_terminal(tty, pid)
    # The supervisor is now a background process: it must never be stopped by tty access.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)

    def forward(signum: int, _frame: object) -> None:
        for sig in (signum, signal.SIGCONT):
            with contextlib.suppress(OSError):
                os.killpg(pid, sig)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(FORWARDED))

    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:  # cannot happen while the agent lives; be safe anyway
            return 1
        if done == pid:
            return _die_like(status)
        # an adopted orphan: reaped, keep waiting for the agent


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sys.stderr.write("usage: python -m fleet_tui.supervisor -- COMMAND [ARG...]\n")
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
