"""The rules' policies, built from fleet.yaml and the agents' launches."""

from __future__ import annotations

from collections.abc import Mapping

from fleet_tui.config.resolve import AgentLaunch
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core.budgets import BudgetPolicy
from fleet_tui.core.failures import RestartPolicy
from fleet_tui.core.merge_rules import MergePolicy
from fleet_tui.core.routing import GatePolicy, RoutingPolicy, StagePolicy
from fleet_tui.core.rules import FleetPolicy
from fleet_tui.core.subscriptions import SubscriptionPolicy


def routing_policy(config: FleetConfig, launches: Mapping[str, AgentLaunch]) -> RoutingPolicy:
    return RoutingPolicy(
        stages=tuple(StagePolicy(s.name, tuple(s.roles)) for s in config.routing.stages),
        gates=tuple(GatePolicy(from_=a.from_, to=a.to, tag=a.tag, name=a.name)
                    for a in config.approvals),
        max_tasks={n: lc.max_tasks for n, lc in launches.items()},
        auto_route=config.routing.auto_route,
        **({"template": config.routing.prompt_template} if config.routing.prompt_template else {}),
    )


def fleet_policy(config: FleetConfig, launches: Mapping[str, AgentLaunch]) -> FleetPolicy:
    every = launches.values()
    return FleetPolicy(
        routing=routing_policy(config, launches),
        budgets={lc.name: BudgetPolicy(tokens=lc.budget.tokens, usd=lc.budget.usd,
                                       minutes=lc.budget.minutes)
                 for lc in every if lc.budget is not None},
        restarts={lc.name: RestartPolicy(mode=lc.restart, limit=lc.max_restarts) for lc in every},
        subscriptions=tuple(SubscriptionPolicy(agent=lc.name, event=s.event, where=dict(s.where),
                                               prompt=s.prompt)
                            for lc in every for s in lc.subscribe),
        merge=MergePolicy(stage=config.merge.stage or config.routing.stages[-1].name)
        if config.merge is not None and config.routing.stages else None,
    )
