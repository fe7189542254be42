"""Opening the fleet's session and adopting what runs in tmux.

The session id is stored on the fleet's private tmux server (``@fleet_session``), so a
restarted daemon reopens the same log, folds it, continues its ``seq`` and adopts the agents it
finds; agents the log thought alive but tmux no longer has are marked lost. The same adoption
runs again when the monitor gets back to a tmux server it had lost.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import msgspec

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import AgentTokens
from fleet_tui.adapters.control_socket import SESSION_OPTION
from fleet_tui.adapters.eventlog import open_log
from fleet_tui.adapters.eventlog_read import LogReader
from fleet_tui.adapters.tmux_cli import PaneInfo
from fleet_tui.core import events as ev
from fleet_tui.core.costs import Usage, count_reported
from fleet_tui.core.fold import fold, fold_all
from fleet_tui.daemon.agents import AgentOps


class Opened(msgspec.Struct):
    """What opening a session found in its log."""

    resumed: bool
    #: Inbox message ids already applied.
    applied: set[str]
    #: Costs already reported, by agent and message (where transcript followers resume).
    counted: dict[str, dict[str, Usage]]
    #: Problems met reading the log, one line each.
    warnings: list[str]


def open_session(ops: AgentOps, panes: list[PaneInfo], skip_corrupt: bool,
                 on_problem: Callable[[str | None], None]) -> Opened:
    """Open (or reopen) the session's log into ``ops.pipeline`` (``on_problem``: told when the
    log cannot be written, and when it can again), and the agents' tokens into ``ops``."""
    pipeline, driver = ops.pipeline, ops.driver
    session_id = driver.get_server_option(SESSION_OPTION) if driver.is_running() else ""
    resumed = bool(session_id) and paths.events_path(session_id).exists()
    ops.session_id = session_id or paths.new_session_id(pipeline.clock())
    ops.tokens = AgentTokens.for_session(paths.create_session_dir(ops.session_id))
    opened = Opened(resumed=resumed, applied=set(), counted={}, warnings=[])
    log_path = paths.events_path(ops.session_id)
    if resumed:
        reader = LogReader(log_path, skip_corrupt=skip_corrupt)
        for block in reader.blocks():
            fold_all(block, pipeline.state)
            opened.applied.update(e.ref for e in block if getattr(e, "ref", ""))
            count_reported(block, opened.counted)
        opened.warnings.extend(reader.warnings)
    header = _header(ops, log_path)
    with pipeline.lock:
        pipeline.log = open_log(log_path, header, on_problem=on_problem)
        if pipeline.log.is_new:
            fold(pipeline.state, header)
    if panes or driver.is_running():
        driver.set_server_option(SESSION_OPTION, ops.session_id)
    return opened


def _header(ops: AgentOps, log_path: Path) -> ev.LogHeader:
    now = ops.pipeline.clock()
    return ev.LogHeader(
        fleet=ops.config.fleet, host=socket.gethostname(), pid=os.getpid(), started=now,
        session=ops.session_id, config_path=str(ops.loaded.path), ts=now,
    )


def adopt(ops: AgentOps, panes: list[PaneInfo], hosts: set[str] | None = None) -> None:
    """Reconcile what the log believes with what tmux has (``hosts``: the servers ``panes``
    come from, "" for the fleet's own; None: all of them)."""
    with ops.pipeline.lock:
        state = ops.state
        live = {p.agent: p for p in panes}
        for name, agent in list(state.agents.items()):
            if hosts is not None and agent.host not in hosts:
                continue  # its server was not asked
            if agent.alive and agent.pane and name not in live:  # never started: not lost
                ops.submit(ev.AgentLost(agent=name, reason="its tmux session is gone"))
        for pane in panes:
            known = state.agents.get(pane.agent)
            if known is None or not known.alive or known.pane != pane.pane_id:
                _adopt_pane(ops, pane, was_paused=known is not None and known.paused)
            if pane.dead and state.agents[pane.agent].alive:
                ops.submit(ev.AgentExited(agent=pane.agent, pane=pane.pane_id, code=pane.dead_status,
                                          signal=pane.dead_signal or ""))


def _adopt_pane(ops: AgentOps, pane: PaneInfo, was_paused: bool) -> None:
    launch = ops.launches.get(pane.agent)
    ops.submit(ev.AgentSpawned(
        agent=pane.agent, adopted=True,
        command=launch.command if launch else [],
        cwd=launch.cwd if launch else "", roles=launch.roles if launch else [],
        role=launch.role if launch else "", model=launch.model if launch else "",
        template=launch.template if launch else "", host=launch.host if launch else "",
    ))
    ops.submit(ev.AgentStarted(agent=pane.agent, pid=pane.pid, pane=pane.pane_id,
                               width=pane.width, height=pane.height))
    if was_paused and not pane.dead and ops.driver.is_paused(pane.agent):
        # Still stopped (by the user or a budget) since the log last saw it.
        ops.submit(ev.AgentPaused(agent=pane.agent, reason="found paused"))
