"""A fleet without tmux for pure rule tests: folds events and applies the rules' reactions
the way the daemon does (``core.rules.settle``), keeping the log and the commands (prompts,
pauses, restarts)."""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold
from fleet_tui.core.routing import GatePolicy, Prompt, RoutingPolicy, StagePolicy
from fleet_tui.core.rules import Command, FleetPolicy, settle
from fleet_tui.core.state import IDLE, WORKING, FleetState

POLICY = RoutingPolicy(
    stages=(StagePolicy("backlog"), StagePolicy("ready"), StagePolicy("in_progress", ("developer",)),
            StagePolicy("review", ("reviewer",)), StagePolicy("done")),
    gates=(GatePolicy(from_="review", to="done"),),
)


class World:
    """``now`` is the time put on events that carry none; it moves on a second an event."""

    def __init__(self, policy: RoutingPolicy = POLICY, **rules: object) -> None:
        self.state = FleetState()
        self.policy = policy
        self.rules = FleetPolicy(routing=policy, **rules)  # type: ignore[arg-type]
        self.log: list[ev.Event] = []
        self.commands: list[Command] = []
        #: Agents the user is stopping, as the daemon tracks them.
        self.stopping: set[str] = set()
        self.now = 0.0

    @property
    def prompts(self) -> list[Prompt]:
        return [c for c in self.commands if isinstance(c, Prompt)]

    def of(self, kind: type[ev.Event]) -> list:
        return [e for e in self.log if isinstance(e, kind)]

    def apply(self, *events: ev.Event) -> None:
        """Append each event and settle it, as the daemon does."""
        for event in events:
            self._record(event)
            self.commands += settle(self.state, self.rules, event, self._record, stopping=self.stopping)

    def _record(self, event: ev.Event) -> None:
        event.seq = len(self.log) + 1
        self.now += 1.0
        event.ts = event.ts or self.now
        fold(self.state, event)
        self.log.append(event)

    def idle(self, agent: str) -> None:
        self.apply(ev.AgentStatus(agent=agent, status=IDLE))

    def busy(self, agent: str) -> None:
        self.apply(ev.AgentStatus(agent=agent, status=WORKING))
