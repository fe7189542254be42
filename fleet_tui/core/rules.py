"""Every pure rule the daemon applies to an appended event, in one place and order.

``react`` gives the events to append next (each a decision with its reason) and the commands
that are I/O (``Prompt``, ``Pause``, ``Restart``, ``CheckOverlap``, ``MergeNext``), for one event
already folded into the state:

1. stalls: an alert (``core/failures.py``);
2. routing: handoffs, send-backs, gates, tasks of agents that stopped (``core/routing.py``);
3. exits: an alert, a restart, once routing has blocked the tasks held (``core/failures.py``);
4. subscriptions: prompts to subscribed agents (``core/subscriptions.py``);
5. budgets: alerts and pauses for limits gone over, measured at the event's time
   (``core/budgets.py``; the daemon's command runner also checks them every second, for the minutes);
6. overlaps between task branches: conflict checks to run, alerts that cleared (``core/overlaps.py``);
7. the merge queue: tasks joining it, merged tasks moved, failed ones sent back (``core/merge_rules.py``).

All of them look at the same state (the event folded, none of the reactions yet).

A late report about a pane a restart replaced is ignored by all of them. With
``routing.auto_route: false`` the fleet is manual: no assignments and no subscription prompts;
alerts, budget pauses and restarts (each asked for per agent) still happen.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core import merge_rules, overlaps
from fleet_tui.core.budgets import BudgetPolicy, Pause, check_budgets
from fleet_tui.core.failures import Restart, RestartPolicy, on_exit, on_stall
from fleet_tui.core.routing import Prompt, RoutingPolicy, assign_ready, on_event
from fleet_tui.core.state import FleetState
from fleet_tui.core.subscriptions import SubscriptionPolicy, subscription_prompts

Command = Prompt | Pause | Restart | overlaps.CheckOverlap | merge_rules.MergeNext


class FleetPolicy(msgspec.Struct, frozen=True, kw_only=True):
    routing: RoutingPolicy
    budgets: dict[str, BudgetPolicy] = {}
    restarts: dict[str, RestartPolicy] = {}
    subscriptions: tuple[SubscriptionPolicy, ...] = ()
    #: The merge queue (None: the fleet has none).
    merge: merge_rules.MergePolicy | None = None


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
    cleared, checks = overlaps.on_event(state, event)
    merging, merge_commands = merge_rules.on_event(state, policy.routing, policy.merge, event)
    return events + alerts + cleared + merging, commands + pauses + checks + merge_commands


def settle(state: FleetState, policy: FleetPolicy, first: ev.Event,
           record: Callable[[ev.Event], ev.Event], *, stopping: Collection[str] = ()) -> list[Command]:
    """Everything ``first`` (already folded) leads to: the rules' reactions, each passed to
    ``record`` (which appends and folds it, and returns what it recorded: the log may put an
    error in its place) and reacted to in turn, then the assignments of ready tasks once
    nothing more follows. Returns the commands to carry out, in order."""
    if not first.reacts:
        return []
    commands: list[Command] = []
    pending = [first]
    while pending:
        event = pending.pop(0)
        reactions, more = react(state, policy, event, stopping=stopping)
        if not reactions and not pending:
            reactions, prompts = assign_ready(state, policy.routing)
            more = more + prompts
        for reaction in reactions:
            pending.append(record(reaction))
        commands += more
    return commands
