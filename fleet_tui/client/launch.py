"""Finding the fleet's daemon, and starting it when it is not running.

A fleet is its private tmux server (``tmux -L <socket>``, named from fleet.yaml). The daemon
lives in that server's ``_fleet_daemon`` session, under the respawn loop, and answers on the
control socket of the session the server names in ``@fleet_session``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters.tmux import TmuxDriver, clean_env, escape_arg, socket_name_for
from fleet_tui.config.loader import LoadedConfig

DAEMON_SESSION = "_fleet_daemon"
#: How long a client waits for a daemon it started to answer.
START_TIMEOUT = 30.0


class DaemonError(Exception):
    """The daemon could not be found or started (one line for the user)."""


def fleet_driver(loaded: LoadedConfig) -> TmuxDriver:
    return TmuxDriver(socket_name_for(loaded.config.fleet, loaded.path))


def running_session(driver: TmuxDriver) -> str:
    """The session id the fleet's tmux server names; "" when no server runs."""
    return driver.get_server_option(cs.SESSION_OPTION) if driver.is_running() else ""


def ping(driver: TmuxDriver, timeout: float = 2.0) -> dict[str, Any] | None:
    """The daemon's answer to ``ping`` (session, pid, log), or None when none answers."""
    session = running_session(driver)
    if not session:
        return None
    try:
        return cs.call(cs.control_path(session), cs.Request(op="ping"), timeout=timeout)
    except cs.ControlError:
        return None


def daemon_argv(loaded: LoadedConfig, spawn: bool = True, skip_corrupt: bool = False) -> list[str]:
    daemon = [sys.executable, "-m", "fleet_tui", "--config", str(loaded.path), "daemon"]
    daemon += [] if spawn else ["--no-spawn"]
    daemon += ["--skip-corrupt"] if skip_corrupt else []
    return [sys.executable, "-m", "fleet_tui.daemon.respawn", "--", *daemon]


def _daemon_pane(driver: TmuxDriver) -> tuple[bool, bool]:
    """(the daemon's session exists, its pane is dead)."""
    out = driver.run("list-panes", "-t", f"={DAEMON_SESSION}:", "-F", "#{pane_dead}", check=False)
    if out.returncode != 0:
        return False, False
    return True, out.stdout.strip().startswith("1")


def last_words(driver: TmuxDriver) -> str:
    """The last non-blank line the daemon's pane shows (why it did not start)."""
    out = driver.run("capture-pane", "-p", "-t", f"={DAEMON_SESSION}:", check=False).stdout
    lines = [line.strip() for line in out.splitlines() if line.strip()
             and not line.startswith("Pane is dead")]
    return lines[-1] if lines else "no output"


def start_daemon(loaded: LoadedConfig, driver: TmuxDriver, spawn: bool = True,
                 skip_corrupt: bool = False) -> None:
    """Start the respawn loop in the fleet's tmux server (the server too, if needed)."""
    exists, dead = _daemon_pane(driver)
    if exists and not dead:
        return  # starting (or stuck): the caller waits for it to answer
    if exists:
        driver.run("kill-session", "-t", f"={DAEMON_SESSION}", check=False)
    env = clean_env()
    args = ["new-session", "-d", "-s", DAEMON_SESSION, "-x", "160", "-y", "40"]
    for key, value in env.items():
        if "\n" not in value:
            args += ["-e", f"{key}={value}"]
    args += ["--", *daemon_argv(loaded, spawn, skip_corrupt)]
    proc = driver.run(*(escape_arg(a) for a in args), ";", "set-option", "-w", "-t",
                      f"={DAEMON_SESSION}:", "remain-on-exit", "on", check=False, path=env.get("PATH"))
    if proc.returncode != 0 and "duplicate session" not in proc.stderr:
        raise DaemonError(f"could not start the fleet daemon: {proc.stderr.strip() or 'tmux failed'}")


def ensure_daemon(loaded: LoadedConfig, spawn: bool = True, skip_corrupt: bool = False,
                  timeout: float = START_TIMEOUT,
                  progress: Callable[[str], None] = lambda text: None,
                  driver: TmuxDriver | None = None) -> dict[str, Any]:
    """The running daemon's ``ping`` answer, starting the daemon first when none answers."""
    driver = driver or fleet_driver(loaded)
    found = ping(driver)
    if found is not None:
        return found
    progress("starting the fleet daemon…")
    start_daemon(loaded, driver, spawn, skip_corrupt)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ping(driver, timeout=1.0)
        if found is not None:
            return found
        exists, dead = _daemon_pane(driver)
        if dead or not exists:
            why = last_words(driver) if exists else "its tmux session is gone"
            raise DaemonError(f"the fleet daemon did not start: {why}")
        time.sleep(0.05)
    raise DaemonError(f"the fleet daemon did not answer within {timeout:g}s "
                      f"(see: tmux -L {driver.socket_name} attach -t {DAEMON_SESSION})")
