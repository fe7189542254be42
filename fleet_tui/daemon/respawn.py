"""The daemon's respawn loop: the command of the ``_fleet_daemon`` tmux session.

``python -m fleet_tui.daemon.respawn -- ARGV...`` runs the daemon (ARGV) and starts it again
when it dies for a reason a restart can fix (a crash, SIGKILL), with a short backoff that grows
while it keeps crashing and resets once it has run for a while. A daemon killed by a signal
(a person, the OOM killer) is started again at once: clients must not wait for it. It stops
when the daemon stopped on purpose (exit 0), cannot run (exit 1: a bad config) or found another
daemon (``EXIT_OWNED``).
Signals that ask it to end are passed on to the daemon.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

#: The daemon's exit code when another daemon already runs the fleet (``daemon/main.py``).
#: Defined here so this loop starts without importing the daemon (~0.2 s of CPU, more on a
#: loaded machine, before the daemon itself can start).
EXIT_OWNED = 4
FIRST_DELAY = 0.1
MAX_DELAY = 10.0
#: A daemon that ran this long before dying starts again after ``FIRST_DELAY``.
STEADY_AFTER = 60.0
FINAL = (0, 1, EXIT_OWNED)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--" or len(argv) < 2:
        print("usage: python -m fleet_tui.daemon.respawn -- ARGV...", file=sys.stderr)
        return 2
    command = argv[1:]
    child: subprocess.Popen[bytes] | None = None
    ending = False

    def pass_on(signum: int, _frame: object) -> None:
        nonlocal ending
        ending = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, pass_on)
    delay = FIRST_DELAY
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)
        code = child.wait()
        if ending or code in FINAL:
            return code if code >= 0 else 0
        if code < 0 or time.monotonic() - started > STEADY_AFTER:
            delay = FIRST_DELAY
        print(f"fleet-tui: the daemon ended ({code}); starting it again in {delay:g}s", flush=True)
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
