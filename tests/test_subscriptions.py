"""Subscriptions, pure: matching on type and fields, the rendered prompt and its reason, and
who is never prompted."""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.routing import Prompt, RoutingPolicy
from fleet_tui.core.subscriptions import SubscriptionPolicy, matches, render
from tests.world import POLICY, World

ON_REVIEW = SubscriptionPolicy(agent="lead", event="task.moved", where={"column": "review"})


def _fleet(*subs: SubscriptionPolicy, policy: RoutingPolicy = POLICY) -> World:
    w = World(policy, subscriptions=subs)
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]),
            ev.AgentSpawned(agent="rev", roles=["reviewer"]), ev.AgentSpawned(agent="lead", roles=["lead"]),
            ev.TaskCreated(task="T1", title="Login form", column="ready", tags=["ui", "auth"]))
    return w


def _to(w: World, agent: str) -> list[Prompt]:
    return [p for p in w.prompts if p.agent == agent]


def test_a_matching_event_prompts_the_subscriber_with_the_event_and_a_reason() -> None:
    w = _fleet(ON_REVIEW)
    w.idle("dev")
    assert _to(w, "lead") == []  # moved to in_progress: no match
    w.apply(ev.TaskReported(task="T1", outcome="done", agent="dev", note="form done"))
    moved = next(e for e in w.of(ev.TaskMoved) if e.column == "review")
    [prompt] = _to(w, "lead")
    assert prompt.task == "T1"
    assert prompt.reason == f"subscription: task.moved column=review (event #{moved.seq})"
    assert prompt.text.startswith("Event task.moved: in_progress → review: dev reported done\n")
    assert "task: T1\n" in prompt.text and "column: review" in prompt.text


def test_where_matches_fields_lists_and_missing_fields() -> None:
    created = ev.TaskCreated(task="T1", title="t", tags=["ui", "auth"])
    sub = SubscriptionPolicy(agent="lead", event="task.created", where={"tags": "auth"})
    assert matches(sub, created)
    assert not matches(SubscriptionPolicy(agent="lead", event="task.created", where={"tags": "db"}), created)
    assert matches(SubscriptionPolicy(agent="lead", event="task.created", where={"parent": ""}), created)
    assert not matches(SubscriptionPolicy(agent="lead", event="task.moved"), created)
    custom = SubscriptionPolicy(agent="lead", event="task.created", prompt="New {task} ({tags}): {title}")
    assert render(custom, created) == "New T1 (ui, auth): t"
    broken = SubscriptionPolicy(agent="lead", event="task.created", prompt="{nope}")
    assert render(broken, created).startswith("Event task.created: created 't' in backlog")


def test_nobody_is_told_about_themselves_nor_while_paused_or_gone() -> None:
    notes = [SubscriptionPolicy(agent=a, event="task.note") for a in ("dev", "rev", "lead")]
    w = _fleet(*notes)
    w.apply(ev.TaskNote(task="T1", text="use argon2", agent="dev", source=ev.agent_source("dev")))
    assert {p.agent for p in w.prompts} == {"rev", "lead"}
    w.apply(ev.AgentPaused(agent="rev"), ev.AgentExited(agent="lead", code=0),
            ev.TaskNote(task="T1", text="and a pepper", agent="dev", source=ev.agent_source("dev")))
    assert len(w.prompts) == 2


def test_prompts_from_subscriptions_do_not_set_off_more() -> None:
    prompted = [SubscriptionPolicy(agent=a, event="agent.prompted") for a in ("rev", "lead")]
    w = _fleet(*prompted)
    w.apply(ev.AgentPrompted(agent="dev", text="hi", source=ev.SOURCE_USER))
    assert {p.agent for p in w.prompts} == {"rev", "lead"}
    w.apply(*(ev.AgentPrompted(agent=p.agent, text=p.text, reason=p.reason) for p in w.prompts))
    assert len(w.prompts) == 2


def test_auto_route_off_sends_no_subscription_prompts() -> None:
    manual = RoutingPolicy(stages=POLICY.stages, auto_route=False)
    w = _fleet(ON_REVIEW, policy=manual)
    w.apply(ev.TaskMoved(task="T1", column="review", reason="moved by the user", source=ev.SOURCE_USER))
    assert w.prompts == []
