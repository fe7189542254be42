"""Budgets as a pure rule: which agents went over a limit, and what follows.

An agent's budget caps its ``tokens`` (input + output), ``usd`` and running ``minutes`` (time
alive and not paused, summed over restarts), all as reported by ``cost.reported`` events and
lifecycle events. Going over a limit (strictly more than it) raises an ``alert`` of kind
``budget`` whose ``key`` is the dimension, and pauses the agent the way the user's ``p`` does
(an ``agent.paused`` with a reason like ``budget: usd 5.12 > 5.00``).

Each dimension does this once per agent and session: the fold remembers the alert in
``AgentState.budget_alerts`` (so it holds across restarts and a reopened log). A later cost
report, the periodic check, or the user resuming the agent does not pause it again for the
same dimension; going over another dimension does. An agent already paused or not running is
alerted but not paused. Pausing is I/O: it is returned as a ``Pause`` command.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.state import AgentState, FleetState

DIMENSIONS = ("tokens", "usd", "minutes")


class BudgetPolicy(msgspec.Struct, frozen=True):
    """One agent's limits (None: no limit on that dimension)."""

    tokens: int | None = None
    usd: float | None = None
    minutes: float | None = None


class Pause(msgspec.Struct, frozen=True):
    """A command: pause ``agent``, saying why."""

    agent: str
    reason: str


def usage(agent: AgentState, dimension: str, now: float) -> float:
    if dimension == "tokens":
        return float(agent.cost.tokens)
    if dimension == "usd":
        return agent.cost.usd
    return agent.running_seconds(now) / 60.0


def _show(dimension: str, value: float) -> str:
    return f"{value:.0f}" if dimension == "tokens" else f"{value:.2f}"


def check_budgets(state: FleetState, budgets: Mapping[str, BudgetPolicy], now: float
                  ) -> tuple[list[ev.Event], list[Pause]]:
    """Alerts for every budget dimension newly gone over, and the pauses they call for."""
    alerts: list[ev.Event] = []
    pauses: list[Pause] = []
    for name, budget in budgets.items():
        agent = state.agents.get(name)
        if agent is None:
            continue
        for dimension in DIMENSIONS:
            limit = getattr(budget, dimension)
            if limit is None or dimension in agent.budget_alerts:
                continue
            used = usage(agent, dimension, now)
            if used <= limit:
                continue
            over = f"{dimension} {_show(dimension, used)} > {_show(dimension, limit)}"
            pause = agent.alive and not agent.paused and not any(p.agent == name for p in pauses)
            alerts.append(ev.Alert(
                kind=ev.ALERT_BUDGET, key=dimension, agent=name, task=agent.task,
                message=f"{name} is over budget: {over}" + ("; pausing it" if pause else ""),
            ))
            if pause:
                pauses.append(Pause(agent=name, reason=f"budget: {over}"))
    return alerts, pauses
