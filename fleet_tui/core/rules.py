"""Every pure rule the orchestrator applies to an appended event, in one place and order.

``react`` gives the events to append next (each a decision with its reason) and the commands
that are I/O (``Prompt``, ``Pause``, ``Restart``), for one event already folded into the state:

1. stalls: an alert (``core/failures.py``);
2. routing: handoffs, send-backs, gates, tasks of agents that stopped (``core/routing.py``);
3. exits: an alert, a restart, once routing has blocked the tasks held (``core/failures.py``);
4. subscriptions: prompts to subscribed agents (``core/subscriptions.py``);
5. budgets: alerts and pauses for limits gone over, measured at the event's time
   (``core/budgets.py``; the orchestrator also checks them every second, for the minutes).

All of them look at the same state (the event folded, none of the reactions yet).

A late report about a pane a restart replaced is ignored by all of them. With
``routing.auto_route: false`` the fleet is manual: no assignments and no subscription prompts;
alerts, budget pauses and restarts (each asked for per agent) still happen.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.budgets import BudgetPolicy, Pause, check_budgets
from fleet_tui.core.failures import Restart, RestartPolicy, on_exit, on_stall
from fleet_tui.core.routing import Prompt, RoutingPolicy, on_event
from fleet_tui.core.state import FleetState
from fleet_tui.core.subscriptions import SubscriptionPolicy, subscription_prompts

Command = Prompt | Pause | Restart


class FleetPolicy(msgspec.Struct, frozen=True, kw_only=True):
    routing: RoutingPolicy
    budgets: dict[str, BudgetPolicy] = {}
    restarts: dict[str, RestartPolicy] = {}
    subscriptions: tuple[SubscriptionPolicy, ...] = ()


def _stale(state: FleetState, event: ev.Event) -> bool:
    if not isinstance(event, ev.AgentExited):
        return False
    agent = state.agents.get(event.agent)
    return agent is not None and not agent.is_current(event.pane)


def react(state: FleetState, policy: FleetPolicy, event: ev.Event, *,
          stopping: Collection[str] = ()) -> tuple[list[ev.Event], list[Command]]:
    """The reaction to ``event``; ``stopping``: agents the user is stopping (no restarts)."""
    if _stale(state, event):
        return [], []
    routed, prompts = on_event(state, policy.routing, event)
    events = on_stall(state, event) + routed
    commands: list[Command] = [*prompts]
    if isinstance(event, ev.AgentExited):
        more, restarts = on_exit(state, policy.restarts, event, by_user=event.agent in stopping)
        events += more
        commands += restarts
    if policy.routing.auto_route:
        commands += subscription_prompts(state, policy.subscriptions, event)
    alerts, pauses = check_budgets(state, policy.budgets, event.ts)
    return events + alerts, commands + pauses
