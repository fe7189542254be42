"""Stalls and exits as pure rules: the alerts they raise and the restarts they call for.

- A stall (the monitor's measured ``stalled``: a task held, no output for ``stall_after``)
  raises one ``alert`` of kind ``stall`` per episode: the fold marks the agent alerted and
  clears the mark when the monitor's status moves on. A paused agent is not stalled.
- An agent exiting while it holds a task raises an ``alert`` of kind ``exit`` (routing blocks
  the task with the exit code and the last lines of the pane).
- ``restart: on-failure`` starts an agent again after it exited with a non-zero code or a
  signal; ``always`` after any exit; ``never`` (the default) not at all. An exit with no known
  status (tmux could not tell) is not a failure. At most ``max_restarts`` times since the user
  last started the agent: each is an ``agent.restarting`` with its reason (the spawn itself is
  I/O, a ``Restart`` command); the exit after the last one raises an ``alert`` of kind
  ``restart`` instead.
- Restarts back off exponentially: the first after ``backoff`` seconds (1 s), each next one
  after twice the last (at most ``backoff_max``, 5 min), back to ``backoff`` once the
  incarnation that exited had run ``reset_after`` seconds (60 s, from its spawn to its exit:
  times from events). The delay is on ``agent.restarting`` and on the ``Restart`` command; the
  orchestrator waits for it without holding up other commands.
- An exit the user caused (kill, restart, quitting with "kill all") is never restarted and
  raises no alert.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.state import STALLED, FleetState

NEVER = "never"
ON_FAILURE = "on-failure"
ALWAYS = "always"


class RestartPolicy(msgspec.Struct, frozen=True):
    """One agent's ``restart`` mode and ``max_restarts``."""

    mode: str = NEVER
    limit: int = 3
    backoff: float = 1.0
    backoff_max: float = 300.0
    reset_after: float = 60.0


class Restart(msgspec.Struct, frozen=True):
    """A command: start ``agent`` again after ``delay`` seconds (its ``agent.restarting`` says
    why)."""

    agent: str
    delay: float = 0.0


def restart_delay(policy: RestartPolicy, last_delay: float, ran_for: float) -> float:
    """The wait before the next restart: ``backoff`` after a run of ``reset_after`` seconds or
    more (or the first time), else twice ``last_delay``, at most ``backoff_max``."""
    if last_delay <= 0 or ran_for >= policy.reset_after:
        return min(policy.backoff, policy.backoff_max)
    return min(last_delay * 2, policy.backoff_max)


def _seconds(delay: float) -> str:
    if delay < 60:
        return f"{delay:g}s"
    return f"{delay / 60:g}min" if delay % 60 == 0 else f"{delay:.0f}s"


def on_stall(state: FleetState, event: ev.Event) -> list[ev.Event]:
    """An alert when the agent ``event`` is about is stalled and not yet alerted for it."""
    agent = state.agents.get(getattr(event, "agent", None) or "")
    if agent is None or agent.status != STALLED or agent.stall_alerted:
        return []
    held = f" holding {agent.task}" if agent.task else ""
    why = f": {event.reason}" if isinstance(event, ev.AgentStatus) and event.reason else ""
    return [ev.Alert(kind=ev.ALERT_STALL, agent=agent.name, task=agent.task,
                     message=f"{agent.name} stalled{held}{why}")]


def _how(event: ev.AgentExited) -> str:
    if event.signal:
        return f"signal {event.signal}"
    return f"exit {event.code}" if event.code is not None else "unknown exit status"


def on_exit(state: FleetState, policies: Mapping[str, RestartPolicy], event: ev.AgentExited,
            by_user: bool) -> tuple[list[ev.Event], list[Restart]]:
    """The alerts and the restart that follow ``event`` (already folded into ``state``);
    ``by_user``: the user is stopping this agent."""
    agent = state.agents.get(event.agent)
    if agent is None or by_user:
        return [], []
    how = _how(event)
    events: list[ev.Event] = []
    if agent.tasks:
        held = ", ".join(agent.tasks)
        events.append(ev.Alert(kind=ev.ALERT_EXIT, agent=agent.name, task=agent.task,
                               message=f"{agent.name} exited ({how}) holding {held}"))
    policy = policies.get(agent.name, RestartPolicy())
    failed = bool(event.signal) or (event.code is not None and event.code != 0)
    if policy.mode == NEVER or (policy.mode == ON_FAILURE and not failed):
        return events, []
    attempt = agent.restarts + 1
    if attempt > policy.limit:
        events.append(ev.Alert(
            kind=ev.ALERT_RESTART, agent=agent.name, task=agent.task,
            message=f"{agent.name} exited ({how}) after {agent.restarts} restarts: "
                    f"not restarting it again (max_restarts {policy.limit})",
        ))
        return events, []
    delay = restart_delay(policy, agent.restart_delay, event.ts - agent.spawned_at)
    reason = (f"restart {agent.name}: {policy.mode}, {how}, attempt {attempt}/{policy.limit}, "
              f"in {_seconds(delay)}")
    events.append(ev.AgentRestarting(agent=agent.name, reason=reason, attempt=attempt,
                                     limit=policy.limit, delay=delay))
    return events, [Restart(agent=agent.name, delay=delay)]
