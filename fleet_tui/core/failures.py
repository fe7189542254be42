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


class Restart(msgspec.Struct, frozen=True):
    """A command: start ``agent`` again (its ``agent.restarting`` says why)."""

    agent: str


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
    reason = f"restart {agent.name}: {policy.mode}, {how}, attempt {attempt}/{policy.limit}"
    events.append(ev.AgentRestarting(agent=agent.name, reason=reason, attempt=attempt,
                                     limit=policy.limit))
    return events, [Restart(agent=agent.name)]
