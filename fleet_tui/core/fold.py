"""The fold: ``fold(state, event) -> state``, the only way FleetState changes.

Pure in the sense that matters for replay: the result depends only on the state and the event
(no I/O, no clock, no randomness). For speed it updates the state it is given in place and
returns it; callers that need to keep an earlier state take ``state.copy()`` first.
Dispatch is a dict keyed by the event's class (measured faster than ``match`` on classes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleet_tui.core import events as ev
from fleet_tui.core import fold_tasks, fold_workspace, overlaps
from fleet_tui.core.screen import scroll_screen
from fleet_tui.core.state import (
    EXITED,
    IDLE,
    LOST,
    PAUSED,
    STALLED,
    STARTING,
    UNREACHABLE,
    AgentState,
    FleetState,
)


def _agent(state: FleetState, name: str | None) -> AgentState | None:
    if name is None:
        return None
    return state.agents.get(name)


def _set_status(agent: AgentState, ts: float) -> None:
    """Recompute the shown status (and where it comes from) from lifecycle, explicit and
    heuristic statuses.

    Hook and screen statuses are reconciled by time: a claim holds until the screen shows
    something after it (``_on_status`` then drops the claim), so the newest evidence wins and
    a question answered on screen is no longer shown as waiting."""
    source = ""
    if not agent.alive:
        status = agent.status if agent.status in (EXITED, LOST) else EXITED
    elif agent.unreachable:
        status = UNREACHABLE
    elif agent.paused:
        status = PAUSED
    elif agent.heuristic_status == STALLED:
        # A stall is measured, not claimed: it wins over an agent saying it is working.
        status, source = STALLED, ev.SOURCE_SCREEN
    elif agent.explicit_status:
        status, source = agent.explicit_status, agent.explicit_source
    else:
        status = agent.heuristic_status
        source = ev.SOURCE_SCREEN if status != STARTING else ""
    agent.status_source = source
    if status != agent.status:
        agent.status = status
        agent.status_since = ts


def _on_header(state: FleetState, e: ev.LogHeader) -> None:
    state.fleet = e.fleet
    state.session = e.session
    state.schema = e.schema


def _on_config(state: FleetState, e: ev.ConfigLoaded) -> None:
    if e.fleet:
        state.fleet = e.fleet
    state.stopped = False  # a daemon (re)started


def _on_daemon_stopped(state: FleetState, e: ev.DaemonStopped) -> None:
    state.stopped = True


def _on_error(state: FleetState, e: ev.Error) -> None:
    state.errors += 1


def _on_alert(state: FleetState, e: ev.Alert) -> None:
    """Alerts the rules raise once are remembered on the agent (see ``core/rules.py``); the
    log's trouble is remembered on the fleet until it clears, overlaps between branches too.
    An alert saying another one ``cleared`` is not counted."""
    if e.kind in (ev.ALERT_OVERLAP, ev.ALERT_CONFLICT):
        overlaps.fold_alert(state, e)
    if e.cleared:
        return
    state.alerts += 1
    if e.kind == ev.ALERT_LOG:
        state.log_problem = e.message if e.key == "problem" else ""
    agent = _agent(state, e.agent)
    if agent is None:
        return
    if e.kind == ev.ALERT_BUDGET and e.key and e.key not in agent.budget_alerts:
        agent.budget_alerts = [*agent.budget_alerts, e.key]
    elif e.kind == ev.ALERT_STALL:
        agent.stall_alerted = True


def _on_host(state: FleetState, e: ev.HostUnreachable | ev.HostReachable) -> None:
    down = isinstance(e, ev.HostUnreachable)
    if down and e.host not in state.hosts_down:
        state.hosts_down.append(e.host)
    elif not down and e.host in state.hosts_down:
        state.hosts_down.remove(e.host)
    for agent in state.agents.values():
        if agent.host == e.host and agent.unreachable != down:
            agent.unreachable = down
            _set_status(agent, e.ts)


def _stop_running(agent: AgentState, ts: float) -> None:
    """Close the agent's current running stretch (it paused, exited or was lost)."""
    if agent.running_since:
        agent.run_seconds += max(0.0, ts - agent.running_since)
        agent.running_since = 0.0


def _on_spawned(state: FleetState, e: ev.AgentSpawned) -> None:
    old = state.agents.get(e.agent)
    agent = AgentState(
        name=e.agent,
        role=e.role or (e.roles[0] if e.roles else ""),
        roles=list(e.roles) or ([e.role] if e.role else []),
        model=e.model,
        command=list(e.command),
        cwd=e.cwd,
        template=e.template,
        host=e.host,
        status=STARTING,
        status_since=e.ts,
        spawned_at=e.ts,
    )
    if old is not None:
        # A restart keeps what the agent had earned, held and been told; a start by the user
        # begins a new count of automatic restarts.
        agent.cost = old.cost
        agent.tasks = old.tasks
        agent.budget_alerts = old.budget_alerts
        by_user = e.source == ev.SOURCE_USER
        agent.restarts = 0 if by_user else old.restarts
        agent.restart_delay = 0.0 if by_user else old.restart_delay
        if e.adopted:
            agent.screen = old.screen
            agent.width, agent.height = old.width, old.height
        if e.adopted and old.alive:  # it kept running while nobody watched
            agent.run_seconds, agent.running_since = old.run_seconds, old.running_since
        else:
            agent.run_seconds = old.running_seconds(e.ts)
        if not e.adopted:
            agent.previous_pane = old.pane
    state.agents[e.agent] = agent


def _on_started(state: FleetState, e: ev.AgentStarted) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    agent.pid = e.pid
    if e.pane and e.pane == agent.pane and not agent.alive:
        return  # it exited so fast that the monitor reported the exit first
    agent.pane = e.pane
    agent.alive = True
    if not agent.running_since and not agent.paused:
        agent.running_since = e.ts
    if e.width:
        agent.width, agent.height = e.width, e.height
    _set_status(agent, e.ts)


def _on_output(state: FleetState, e: ev.AgentOutput) -> None:
    for _row, text in e.changes:
        state.output_chars += len(text)
    if e.pane:
        state.output_panes[e.agent] = pane = e.pane
    else:  # the pane this agent's output last named (the log names it only when it changes)
        pane = state.output_panes.get(e.agent, "")
    agent = _agent(state, e.agent)
    if agent is None or not agent.is_current(pane):
        return
    screen = agent.screen
    if e.keyframe:
        height = e.height or len(e.changes)
        screen = [""] * height
        agent.width, agent.height = e.width or agent.width, height
    elif e.height and e.height != len(screen):
        screen = (screen + [""] * e.height)[: e.height]
        agent.height = e.height
    if e.scroll and not e.keyframe:
        screen = scroll_screen(screen, e.scroll)
    for row, text in e.changes:
        if 0 <= row < len(screen):
            screen[row] = text
        elif row >= len(screen):
            screen.extend([""] * (row - len(screen)))
            screen.append(text)
    agent.screen = screen
    agent.last_output_at = e.ts


def _on_status(state: FleetState, e: ev.AgentStatus) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    if e.explicit:
        agent.explicit_status = e.status
        agent.explicit_source = e.source
        if e.status == IDLE:
            agent.prompt_failed = False  # it says it can take a prompt again
    else:
        agent.heuristic_status = e.status
        # The screen changed after the claim (the monitor reports only changes): newer
        # evidence than what the agent said, e.g. the question it was waiting on got answered.
        agent.explicit_status = agent.explicit_source = ""
        if e.status != STALLED:
            agent.stall_alerted = False  # the stall is over: the next one is a new episode
    _set_status(agent, e.ts)


def _on_paused(state: FleetState, e: ev.AgentPaused) -> None:
    agent = _agent(state, e.agent)
    if agent is not None:
        agent.paused = True
        _stop_running(agent, e.ts)
        _set_status(agent, e.ts)


def _on_resumed(state: FleetState, e: ev.AgentResumed) -> None:
    agent = _agent(state, e.agent)
    if agent is not None:
        agent.paused = False
        if agent.alive and not agent.running_since:
            agent.running_since = e.ts
        _set_status(agent, e.ts)


def _on_prompted(state: FleetState, e: ev.AgentPrompted) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    agent.prompt_failed = not e.delivered
    if e.delivered and agent.explicit_status:
        # A new prompt starts new work: the agent's last claim no longer holds.
        agent.explicit_status = agent.explicit_source = ""
        _set_status(agent, e.ts)


def _on_exited(state: FleetState, e: ev.AgentExited) -> None:
    agent = _agent(state, e.agent)
    if agent is None or not agent.is_current(e.pane):
        return
    _stop_running(agent, e.ts)
    agent.pane = agent.pane or e.pane  # an exit reported before the start names the pane
    agent.alive = False
    agent.paused = False
    agent.exit_code = e.code
    agent.exit_signal = e.signal
    agent.status = EXITED
    agent.status_source = ""
    agent.status_since = e.ts


def _on_restarting(state: FleetState, e: ev.AgentRestarting) -> None:
    agent = _agent(state, e.agent)
    if agent is not None:
        agent.restarts = e.attempt
        agent.restart_delay = e.delay
        agent.restart_at = e.ts + e.delay


def _on_killed(state: FleetState, e: ev.AgentKilled) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    _stop_running(agent, e.ts)
    agent.alive = False
    agent.paused = False
    agent.restart_at = 0.0  # the user's stop cancels a pending restart
    agent.status = EXITED
    agent.status_source = ""
    agent.status_since = e.ts


def _on_lost(state: FleetState, e: ev.AgentLost) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    _stop_running(agent, e.ts)
    agent.alive = False
    agent.paused = False
    agent.status = LOST
    agent.status_source = ""
    agent.status_since = e.ts


#: How many edited paths an agent remembers.
TOUCHED_LIMIT = 200


def _on_session(state: FleetState, e: ev.AgentSession) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    agent.session_tool = e.tool or agent.session_tool
    agent.session_id = e.session_id or agent.session_id
    agent.transcript = e.transcript or agent.transcript
    agent.model_reported = e.model or agent.model_reported


def _on_touched(state: FleetState, e: ev.AgentTouched) -> None:
    agent = _agent(state, e.agent)
    if agent is None:
        return
    if e.path in agent.touched:
        agent.touched.remove(e.path)
    agent.touched.append(e.path)
    del agent.touched[:-TOUCHED_LIMIT]


def _on_cost(state: FleetState, e: ev.CostReported) -> None:
    state.cost.add(e.input_tokens, e.output_tokens, e.usd)
    agent = _agent(state, e.agent)
    if agent is not None:
        agent.cost.add(e.input_tokens, e.output_tokens, e.usd)
        if not e.sidechain:
            agent.model_reported = e.model or agent.model_reported
    task = state.tasks.get(e.task) if e.task is not None else None
    if task is not None:
        task.cost.add(e.input_tokens, e.output_tokens, e.usd)


HANDLERS: dict[type, Callable[[FleetState, ev.Event], None]] = {
    ev.LogHeader: _on_header,
    ev.ConfigLoaded: _on_config,
    ev.DaemonStopped: _on_daemon_stopped,
    ev.Error: _on_error,
    ev.Alert: _on_alert,
    ev.AgentSpawned: _on_spawned,
    ev.AgentStarted: _on_started,
    ev.AgentOutput: _on_output,
    ev.AgentStatus: _on_status,
    ev.AgentSession: _on_session,
    ev.AgentTouched: _on_touched,
    ev.AgentPaused: _on_paused,
    ev.AgentResumed: _on_resumed,
    ev.AgentPrompted: _on_prompted,
    ev.AgentExited: _on_exited,
    ev.AgentRestarting: _on_restarting,
    ev.AgentKilled: _on_killed,
    ev.AgentLost: _on_lost,
    ev.HostUnreachable: _on_host,
    ev.HostReachable: _on_host,
    ev.CostReported: _on_cost,
    **fold_tasks.HANDLERS,
    **fold_workspace.HANDLERS,
}


def fold(state: FleetState, event: ev.Event | ev.UnknownEvent) -> FleetState:
    """Apply one event to ``state`` (in place) and return it. Unknown events change nothing."""
    handler = HANDLERS.get(type(event))
    if handler is None:
        return state
    handler(state, event)  # type: ignore[arg-type]
    state.events += 1
    state.last_seq = event.seq
    if not state.first_ts:
        state.first_ts = event.ts
    state.last_ts = event.ts
    if event.in_timeline:
        state.timeline.append(event)
    return state


def fold_all(events: Iterable[ev.Event | ev.UnknownEvent], state: FleetState | None = None) -> FleetState:
    """Fold a sequence of events into ``state`` (a new FleetState when None)."""
    if state is None:
        state = FleetState()
    handlers = HANDLERS
    timeline_append = state.timeline.append
    count = 0
    last = None
    for event in events:
        handler = handlers.get(type(event))
        if handler is None:
            continue
        handler(state, event)  # type: ignore[arg-type]
        count += 1
        last = event
        if not state.first_ts:
            state.first_ts = event.ts
        if event.in_timeline:
            timeline_append(event)
    if last is not None:
        state.events += count
        state.last_seq = last.seq
        state.last_ts = last.ts
    return state

