"""When the fleet needs its person: who to call, and who is next to look at.

``Attention.update`` compares the fleet with what it saw last time and returns a ``Call`` for
each new episode: an agent that starts waiting for input, stalls, or exits with an error, and
each approval newly requested. An episode ends when the agent's status moves on, so a call
comes at most once per agent per episode. The first update only takes note (what happened
before is the away summary's). ``needing`` counts the agents that need the person now;
``needing_you`` lists them, most urgent first.
"""

from __future__ import annotations

import msgspec

from fleet_tui.core.merge_rules import RUNNER
from fleet_tui.core.state import EXITED, STALLED, WAITING, AgentState, FleetState

#: Kinds of call, most urgent first (``needing_you`` orders agents this way).
KINDS = ("waiting", "stalled", "exited", "approval")


class Call(msgspec.Struct, frozen=True):
    kind: str
    message: str
    agent: str = ""
    task: str = ""


def _failed(agent: AgentState) -> bool:
    return agent.status == EXITED and (bool(agent.exit_signal) or agent.exit_code not in (0, None))


def _kind(agent: AgentState) -> str:
    if agent.name == RUNNER:  # the merge queue's checks: a failure goes back to the implementer
        return ""
    if agent.status == WAITING:
        return "waiting"
    if agent.status == STALLED:
        return "stalled"
    return "exited" if _failed(agent) else ""


class Attention:
    def __init__(self) -> None:
        self._kinds: dict[str, str] | None = None
        self._approvals: set[tuple[str, str]] = set()
        #: How many agents need the person, as of the last update.
        self.needing = 0

    def update(self, state: FleetState) -> list[Call]:
        kinds = {name: _kind(agent) for name, agent in state.agents.items()}
        self.needing = sum(1 for kind in kinds.values() if kind)
        approvals = {(a.task, a.id) for a in state.pending_approvals()}
        first = self._kinds is None
        before, seen = self._kinds or {}, self._approvals
        self._kinds, self._approvals = kinds, approvals
        if first:
            return []
        calls = []
        for name, kind in kinds.items():
            if kind and before.get(name) != kind:
                agent = state.agents[name]
                what = {"waiting": "is waiting for you", "stalled": "has stalled",
                        "exited": f"exited with {agent.exit_signal or agent.exit_code}"}[kind]
                calls.append(Call(kind=kind, agent=name, task=agent.task or "", message=f"{name} {what}"))
        for task, approval in sorted(approvals - seen):
            calls.append(Call(kind="approval", task=task,
                              message=f"{task} waits for your approval ({approval})"))
        return calls


def needing_you(state: FleetState) -> list[str]:
    """Agents waiting for input, then stalled, then exited with an error; oldest first."""
    ranked = [(KINDS.index(kind), agent.status_since, name)
              for name, agent in state.agents.items() if (kind := _kind(agent))]
    return [name for _, _, name in sorted(ranked)]
