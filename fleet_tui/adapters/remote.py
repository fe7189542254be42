"""Agents on another machine: the tmux driver for a private tmux server on a remote host,
over that host's one multiplexed SSH link (``ssh.py``).

``RemoteTmuxDriver`` is a ``TmuxDriver`` whose tmux commands run on the host
(``wrap``: the same argv, quoted piece by piece for the remote shell, with ``tmux -u``):
capture, press, resize, options, the monitor session and the listing need nothing else.
Steps that need the host's own processes (spawn, pause, resume, kill, prompts, the panes'
exit statuses) run there in one round trip each through ``remote_agent.py``, the same
driver code on the far side. ``attach_argv`` is ``ssh -t ... tmux attach``.
``RemotePaneMonitor`` is the pane monitor given the same ``wrap`` (its control-mode client
then rides the link too), which tells a dropped link from a tmux server gone.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from typing import Any

import msgspec

from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.pane_map import Emit
from fleet_tui.adapters.remote_inbox import BUFFER_PREFIX, RENAMED, take_messages
from fleet_tui.adapters.ssh import SshLink
from fleet_tui.adapters.ssh_advice import python_advice
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import PaneInfo, TmuxError
from fleet_tui.config.resolve import AgentLaunch

log = logging.getLogger(__name__)

REMOTE_MODULE = "fleet_tui.adapters.remote_agent"


class RemotePaneMonitor(PaneMonitor):
    """The pane monitor of a remote host's server (``driver``'s, over its link). When its
    control client ends because the link dropped, the agents are not lost: nothing is
    reported (the host's keeper reports it unreachable), the monitor keeps its map and tries
    to connect again every ``reconnect_interval``, and once back captures every pane again
    (what changed meanwhile is output) and calls ``on_reconnect`` (re-adoption). A server
    gone while the link is up is reported as usual. It attaches only once ``ready`` (the
    host reported up, so its agents are no longer unreachable when their screens come).
    Agents' messages come as tmux buffers (``remote_inbox.py``): ``on_message(raw)`` each."""

    def __init__(self, driver: RemoteTmuxDriver, emit: Emit,
                 on_message: Callable[[bytes], None] = lambda _raw: None,
                 ready: Callable[[], bool] = lambda: True, **options: Any) -> None:
        super().__init__(driver.socket_name, emit, wrap=driver.wrap, **options)
        self.link = driver.link
        self.on_message = on_message
        #: Whether the host may be watched (its keeper has reported it up), besides the link.
        self.ready = ready

    def _connect(self) -> bool:
        if not (self.link.alive and self.ready()):
            return False  # the host's keeper opens it again; nothing to try meanwhile
        connected = super()._connect()
        if connected:
            self._take_messages()  # those sent while the link was down
        return connected

    def _handle_note(self, line: bytes) -> None:
        if line.startswith(RENAMED) and BUFFER_PREFIX.encode() in line:
            self._take_messages()
        else:
            super()._handle_note(line)

    def _take_messages(self) -> None:
        for raw in take_messages(self._command):
            try:
                self.on_message(raw)
            except Exception:  # the monitor must outlive a failing owner
                log.exception("pane monitor: a message from %s was not taken", self.link.target.name)

    def _disconnected(self, reason: str) -> None:
        if self.link.alive and self.link.check():
            super()._disconnected(reason)
            return
        log.info("pane monitor: the link to %s dropped (%s)", self.link.target.name, reason)
        self._drop_client()
        # The map is kept: once back, a screen unchanged meanwhile is not news (no output, no
        # "working"), and an agent quiet through the gap stays as quiet as it was. Panes gone
        # meanwhile are seen by the next listing; ids a new server gave again, by their pids.
        self._lost_reported = True  # so connecting again re-adopts


class RemoteTmuxDriver(TmuxDriver):
    """The agents of one host, on its private tmux server ``socket_name``."""

    def __init__(self, socket_name: str, link: SshLink, python: str = "python3",
                 tmux_bin: str = "tmux") -> None:
        # No libtmux server and no TmuxDriver.__init__: nothing here touches local tmux.
        self.socket_name = socket_name
        self.tmux_bin = tmux_bin
        self.link = link
        self.python = python
        self.wrap = self._over_link

    def _over_link(self, argv: list[str]) -> list[str]:
        """A tmux argv run on the host. ``-u``: the host's shell may have no UTF-8 locale, and
        tmux would then write every tab and non-ASCII character of its replies as ``_``."""
        return self.link.remote_argv([argv[0], "-u", *argv[1:]])

    @property
    def host(self) -> str:
        return self.link.target.name

    def _run(self, op: str, request: dict[str, Any],
             timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return self.link.run([self.python, "-I", "-m", REMOTE_MODULE, self.socket_name, op],
                             input=msgspec.json.encode(request).decode(), timeout=timeout)

    def problem(self) -> str:
        """Why fleet-tui cannot work on the host over the open link (its python lacks it,
        say), as one line saying what to do; "" when its far end answers. Bounded (10 s): the
        daemon makes this check before it answers its clients."""
        done = self._run("panes", {}, timeout=10.0)
        return "" if done.returncode == 0 and done.stdout else \
            python_advice(self.python, done.returncode, done.stderr)

    def _call(self, op: str, **request: Any) -> Any:
        """One ``remote_agent`` operation on the host; TmuxError if it fails or the link is down."""
        done = self._run(op, request)
        if done.returncode != 0 or not done.stdout:
            raise TmuxError(f"host {self.host}: {python_advice(self.python, done.returncode, done.stderr)}")
        try:
            answer = msgspec.json.decode(done.stdout)
        except msgspec.DecodeError:
            raise TmuxError(f"host {self.host}: not an answer: {done.stdout[:200]!r}") from None
        if not answer.get("ok"):
            raise TmuxError(str(answer.get("error", "failed")))
        return answer.get("result")

    # --- what a local server answers from this machine's tmux or /proc ------------------------

    def is_running(self) -> bool:
        return self.run("list-sessions", check=False).returncode == 0

    def spawn(self, launch: AgentLaunch, session_id: str,
              extra_env: dict[str, str] | None = None) -> PaneInfo:
        result = self._call("spawn", launch=msgspec.to_builtins(launch), session_id=session_id,
                            extra_env=extra_env or {})
        return msgspec.convert(result, PaneInfo)

    def list_agent_panes(self, _retry: bool = True) -> list[PaneInfo]:
        return msgspec.convert(self._call("panes"), list[PaneInfo])

    def pane(self, name: str, _retry: bool = True) -> PaneInfo | None:
        return msgspec.convert(self._call("pane", name=name), PaneInfo | None)

    def pause(self, name: str) -> bool:
        return bool(self._call("pause", name=name))

    def resume(self, name: str) -> bool:
        return bool(self._call("resume", name=name))

    def is_paused(self, name: str) -> bool:
        return bool(self._call("is_paused", name=name))

    def kill(self, name: str, timeout: float = 5.0) -> str:
        return str(self._call("kill", name=name, timeout=timeout))

    def kill_server(self) -> None:
        self._call("kill_server")

    def send_prompt(self, name: str, text: str, timeout: float = 1.0) -> bool:
        return bool(self._call("send_prompt", name=name, text=text, timeout=timeout))

    def attach_argv(self, name: str) -> list[str]:
        """``ssh -t ... -- 'tmux -u -L ... attach-session -t =fleet_NAME'`` over the link
        (``-u``: the login shell on the host may have no UTF-8 locale, and the user's
        terminal would then get ``_`` for every non-ASCII character)."""
        argv = super().attach_argv(name)
        return self.link.remote_argv([argv[0], "-u", *argv[1:]], tty=True)
