"""Routing rules, pure: a task goes through the pipeline with handoffs, a send-back and a gate."""

from __future__ import annotations

import pytest

from fleet_tui.core import events as ev
from fleet_tui.core.routing import GatePolicy, RoutingPolicy, StagePolicy, render_prompt
from tests.world import POLICY, World


def _fleet() -> World:
    w = World()
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]),
            ev.AgentSpawned(agent="rev", roles=["reviewer"]),
            ev.TaskCreated(task="T1", title="Login form", column="ready",
                           acceptance=["validates input"]))
    return w


def test_full_pipeline_with_send_back_and_approval() -> None:
    w = _fleet()
    assert w.state.tasks["T1"].assignee is None  # nobody idle yet
    w.idle("dev")
    t1 = w.state.tasks["T1"]
    assert (t1.column, t1.assignee) == ("in_progress", "dev")
    assigned = [e for e in w.log if isinstance(e, ev.TaskAssigned)][-1]
    assert assigned.reason == "assigned T1 to dev: role developer, idle, 0 tasks"
    assert w.prompts[-1].agent == "dev" and "Task T1: Login form" in w.prompts[-1].text
    assert w.prompts[-1].reason == "routing: T1 assigned"
    assert "- validates input" in w.prompts[-1].text

    w.busy("dev")
    w.idle("rev")
    w.apply(ev.TaskReported(task="T1", outcome="done", agent="dev", note="form done"))
    assert (t1.column, t1.assignee) == ("review", "rev")
    assert "form done" in w.prompts[-1].text  # the handoff note travels with the task

    w.apply(ev.TaskReported(task="T1", outcome="blocked", agent="rev", note="no tests for empty email"))
    assert (t1.column, t1.assignee) == ("in_progress", "dev")
    assert w.prompts[-1].agent == "dev" and "no tests for empty email" in w.prompts[-1].text
    assert w.prompts[-1].reason == "routing: T1 sent back"

    w.apply(ev.TaskReported(task="T1", outcome="done", agent="dev", note="tests added"))
    w.idle("rev")
    assert (t1.column, t1.assignee) == ("review", "rev")
    w.apply(ev.TaskReported(task="T1", outcome="done", agent="rev", note="lgtm"))
    assert t1.column == "review" and [a.id for a in t1.pending_approvals] == ["review->done"]

    w.apply(ev.ApprovalGranted(task="T1", approval="review->done", source="agent:rev"))
    assert t1.column == "review"  # only the user's word moves it
    w.apply(ev.ApprovalGranted(task="T1", approval="review->done", source="user"))
    assert (t1.column, t1.assignee) == ("done", None)
    reasons = [e.reason for e in w.log if isinstance(e, ev.TaskMoved | ev.TaskAssigned)]
    assert all(reasons)


def test_dependencies_hold_tasks_in_backlog_until_done() -> None:
    w = _fleet()
    w.apply(ev.TaskCreated(task="T2", title="Cookies", depends_on=["T1"]))
    w.idle("dev")
    assert w.state.tasks["T2"].column == "backlog"
    w.state.tasks["T1"].column = "done"  # as if it went through review
    w.state.agents["dev"].tasks = []
    w.state.tasks["T1"].assignee = None
    w.idle("dev")
    assert w.state.tasks["T2"].column == "in_progress" and w.state.tasks["T2"].assignee == "dev"


def test_least_loaded_first_and_max_tasks() -> None:
    w = World(RoutingPolicy(stages=POLICY.stages, max_tasks={"a": 2, "b": 1}))
    w.apply(ev.AgentSpawned(agent="a", roles=["developer"]),
            ev.AgentSpawned(agent="b", roles=["developer"]))
    for i in range(4):
        w.apply(ev.TaskCreated(task=f"T{i}", title="t", column="ready"))
    w.idle("a")
    w.idle("b")
    holders = {t.id: t.assignee for t in w.state.tasks.values()}
    assert sorted(v for v in holders.values() if v) == ["a", "a", "b"]


def test_task_role_picks_among_the_stage_roles() -> None:
    policy = RoutingPolicy(stages=(StagePolicy("ready"), StagePolicy("work", ("ui", "api")),
                                   StagePolicy("done")))
    w = World(policy)
    w.apply(ev.AgentSpawned(agent="u", roles=["ui"]), ev.AgentSpawned(agent="p", roles=["api"]),
            ev.TaskCreated(task="T1", title="endpoint", role="api", column="ready"))
    w.idle("u")
    assert w.state.tasks["T1"].assignee is None
    w.idle("p")
    assert w.state.tasks["T1"].assignee == "p"


def test_paused_busy_and_dead_agents_get_nothing() -> None:
    w = _fleet()
    w.apply(ev.AgentPaused(agent="dev"))
    w.idle("dev")
    assert w.state.tasks["T1"].assignee is None
    w.apply(ev.AgentResumed(agent="dev"), ev.AgentExited(agent="dev", code=1))
    assert w.state.tasks["T1"].assignee is None


def test_auto_route_off_keeps_everything_manual() -> None:
    w = World(RoutingPolicy(stages=POLICY.stages, auto_route=False))
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]),
            ev.TaskCreated(task="T1", title="t", column="ready"))
    w.idle("dev")
    assert w.state.tasks["T1"].assignee is None and w.prompts == []


def test_tag_gate_guards_the_final_move_and_denial_sends_back() -> None:
    policy = RoutingPolicy(stages=POLICY.stages, gates=(GatePolicy(tag="release"),))
    w = World(policy)
    w.apply(ev.AgentSpawned(agent="dev", roles=["developer"]),
            ev.AgentSpawned(agent="rev", roles=["reviewer"]),
            ev.TaskCreated(task="R", title="ship", column="ready", tags=["release"]))
    w.idle("dev")
    w.apply(ev.TaskReported(task="R", outcome="done", agent="dev"))
    w.idle("rev")
    assert w.state.tasks["R"].column == "review"  # no gate on the way to review
    w.apply(ev.TaskReported(task="R", outcome="done", agent="rev"))
    assert [a.id for a in w.state.tasks["R"].pending_approvals] == ["review->done"]
    w.apply(ev.ApprovalDenied(task="R", approval="review->done", comment="changelog missing",
                              source="user"))
    assert (w.state.tasks["R"].column, w.state.tasks["R"].assignee) == ("in_progress", "dev")


def test_bad_template_falls_back_to_the_default() -> None:
    w = _fleet()
    assert render_prompt(w.state.tasks["T1"], "{nope}").startswith("Task T1: Login form")


def test_an_agent_exiting_with_a_task_blocks_it_with_the_code_and_last_lines() -> None:
    w = _fleet()
    w.idle("dev")
    w.apply(ev.AgentExited(agent="dev", code=3, last_lines=["Traceback", "KeyError: 'x'"]))
    t1 = w.state.tasks["T1"]
    assert (t1.column, t1.assignee) == ("blocked", None)
    assert "dev exited with code 3" in t1.notes[-1].text and "KeyError" in t1.notes[-1].text


@pytest.mark.parametrize(("status", "routed"), [
    (ev.AgentStatus(agent="dev", status="idle", source=ev.SOURCE_SCREEN), True),
    (ev.AgentStatus(agent="dev", status="idle", explicit=True, source="hook:claude"), True),
    # at a sign-in menu, a trust prompt or a question: a prompt would be typed into it
    (ev.AgentStatus(agent="dev", status="waiting", source=ev.SOURCE_SCREEN), False),
    (ev.AgentStatus(agent="dev", status="waiting", explicit=True, source="hook:claude"), False),
    (ev.AgentStatus(agent="dev", status="working", source=ev.SOURCE_SCREEN), False),
    (ev.AgentStatus(agent="dev", status="stalled", source=ev.SOURCE_SCREEN), False),
    (None, False),  # still starting
])
def test_only_an_agent_idle_at_its_prompt_gets_a_task(status: ev.AgentStatus | None,
                                                       routed: bool) -> None:
    w = _fleet()
    if status is not None:
        w.apply(status)
    assert (w.state.tasks["T1"].assignee == "dev") is routed
    assert bool(w.prompts) is routed


def test_an_undelivered_prompt_puts_the_task_back_in_ready() -> None:
    w = _fleet()
    w.idle("dev")
    assert (w.state.tasks["T1"].assignee, w.state.tasks["T1"].column) == ("dev", "in_progress")
    w.commands.clear()
    prompt = ev.AgentPrompted(agent="dev", text="Task T1", task="T1",
                                               delivered=False)
    w.apply(prompt)
    task = w.state.tasks["T1"]
    assert (task.assignee, task.column) == (None, "ready")
    assert w.state.agents["dev"].tasks == []
    moved = w.of(ev.TaskMoved)[-1]
    assert "not delivered" in moved.reason
    # not straight back to the agent that never saw it, even at its prompt again
    w.idle("dev")
    assert w.state.tasks["T1"].assignee is None and w.prompts == []
    # until it says it is idle (a hook), or a prompt reaches it
    w.apply(ev.AgentStatus(agent="dev", status="idle", explicit=True, source="hook:claude"))
    assert w.state.tasks["T1"].assignee == "dev" and len(w.prompts) == 1


def test_an_undelivered_prompt_of_another_task_changes_nothing() -> None:
    w = _fleet()
    w.idle("dev")
    w.apply(ev.AgentPrompted(agent="dev", text="hello", delivered=False))
    w.apply(ev.AgentPrompted(agent="dev", text="old", task="T9", delivered=False))
    assert w.state.tasks["T1"].assignee == "dev"
