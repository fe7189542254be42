"""Budgets, pure: going over a limit alerts and pauses once per dimension; running minutes
leave out paused stretches and add up over restarts."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.config.loader import load_config_text
from fleet_tui.config.resolve import resolve_agents
from fleet_tui.config.schema import Budget
from fleet_tui.core import events as ev
from fleet_tui.core.budgets import BudgetPolicy, Pause, check_budgets
from fleet_tui.core.fold import fold_all
from fleet_tui.core.summary import summarize
from tests.world import World


def _dev(**limits: float) -> World:
    w = World(budgets={"dev": BudgetPolicy(**limits)})  # type: ignore[arg-type]
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]),
            ev.AgentStarted(agent="dev", pane="%1"))
    return w


def _budget_alerts(w: World) -> list[ev.Alert]:
    return [a for a in w.of(ev.Alert) if a.kind == ev.ALERT_BUDGET]


def test_going_over_usd_alerts_and_pauses_once_even_after_the_user_resumes() -> None:
    w = _dev(usd=5.0, tokens=10_000)
    w.apply(ev.CostReported(agent="dev", usd=3.0, input_tokens=100))
    assert _budget_alerts(w) == [] and w.commands == []
    w.apply(ev.CostReported(agent="dev", usd=2.12))
    [alert] = _budget_alerts(w)
    assert (alert.key, alert.agent) == ("usd", "dev")
    assert alert.message == "dev is over budget: usd 5.12 > 5.00; pausing it"
    assert w.commands == [Pause(agent="dev", reason="budget: usd 5.12 > 5.00")]
    # the daemon carries out the pause; the user resumes; more cost comes in
    w.apply(ev.AgentPaused(agent="dev", reason="budget: usd 5.12 > 5.00"),
            ev.AgentResumed(agent="dev", source=ev.SOURCE_USER),
            ev.CostReported(agent="dev", usd=1.0))
    assert len(_budget_alerts(w)) == 1 and len(w.commands) == 1
    assert not w.state.agents["dev"].paused
    # another dimension is another crossing
    w.apply(ev.CostReported(agent="dev", input_tokens=9_000, output_tokens=1_000))
    assert [a.key for a in _budget_alerts(w)] == ["usd", "tokens"]
    assert w.commands[-1] == Pause(agent="dev", reason="budget: tokens 10100 > 10000")
    # reopening the log remembers both
    replayed = fold_all(w.log)
    assert replayed.agents["dev"].budget_alerts == ["usd", "tokens"]
    assert check_budgets(replayed, w.rules.budgets, w.now) == ([], [])


def test_an_agent_already_paused_or_gone_is_alerted_but_not_paused() -> None:
    w = _dev(usd=1.0)
    w.apply(ev.AgentPaused(agent="dev", source=ev.SOURCE_USER), ev.CostReported(agent="dev", usd=2.0))
    assert [a.message for a in _budget_alerts(w)] == ["dev is over budget: usd 2.00 > 1.00"]
    assert w.commands == []
    gone = _dev(tokens=10)
    gone.apply(ev.AgentExited(agent="dev", code=0, pane="%1"),
               ev.CostReported(agent="dev", output_tokens=11))
    assert len(_budget_alerts(gone)) == 1 and gone.commands == []


def test_running_minutes_leave_out_pauses_and_add_up_over_restarts() -> None:
    w = _dev(minutes=10.0)
    started = w.log[-1].ts
    w.apply(ev.AgentPaused(agent="dev", ts=started + 240),
            ev.AgentResumed(agent="dev", ts=started + 840))
    dev = w.state.agents["dev"]
    assert dev.running_seconds(started + 900) == 300.0  # 4 min, then 1 min after the pause
    w.apply(ev.AgentExited(agent="dev", code=1, pane="%1", ts=started + 1020),
            ev.AgentSpawned(agent="dev", roles=["developer"], ts=started + 1030),
            ev.AgentStarted(agent="dev", pane="%2", ts=started + 1030))
    dev = w.state.agents["dev"]
    assert dev.running_seconds(started + 1030) == 420.0
    assert check_budgets(w.state, w.rules.budgets, started + 1200) == ([], [])
    alerts, pauses = check_budgets(w.state, w.rules.budgets, started + 1220)
    assert [a.message for a in alerts] == ["dev is over budget: minutes 10.17 > 10.00; pausing it"]
    assert pauses == [Pause(agent="dev", reason="budget: minutes 10.17 > 10.00")]
    assert summarize(ev.AgentPaused(agent="dev", reason=pauses[0].reason)) == \
        "paused: budget: minutes 10.17 > 10.00"


def test_an_agents_budget_overlays_the_defaults_limit_by_limit(tmp_path: Path) -> None:
    config = load_config_text("fleet: x\ndefaults:\n  budget: {usd: 5, minutes: 30}\nagents:\n"
                              "  - {name: a, command: [x], budget: {usd: 2}}\n  - {name: b, command: [x]}\n")
    a, b = resolve_agents(config, tmp_path)
    assert (a.budget, b.budget) == (Budget(usd=2, minutes=30), Budget(usd=5, minutes=30))
