"""The fold: table tests of what each event does, and properties over random logs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold, fold_all
from fleet_tui.core.state import (
    EXITED,
    IDLE,
    LOST,
    PAUSED,
    STALLED,
    WAITING,
    WORKING,
    FleetState,
)
from fleet_tui.core.summary import summarize

AGENTS = ["a", "b", "c"]
TASKS = ["T1", "T2", "T3"]

agent_names = st.sampled_from(AGENTS)
task_ids = st.sampled_from(TASKS)
text = st.text(max_size=8)

event_strategy = st.one_of(
    st.builds(ev.AgentSpawned, agent=agent_names, roles=st.lists(text, max_size=2),
              adopted=st.booleans()),
    st.builds(ev.AgentStarted, agent=agent_names, pid=st.integers(1, 99)),
    st.builds(ev.AgentOutput, agent=agent_names,
              changes=st.lists(st.tuples(st.integers(0, 30), text), max_size=4),
              scroll=st.integers(0, 3), keyframe=st.booleans(), height=st.integers(0, 24)),
    st.builds(ev.AgentStatus, agent=agent_names,
              status=st.sampled_from([WORKING, IDLE, WAITING, STALLED]), explicit=st.booleans()),
    st.builds(ev.AgentPaused, agent=agent_names),
    st.builds(ev.AgentResumed, agent=agent_names),
    st.builds(ev.AgentPrompted, agent=agent_names, text=text),
    st.builds(ev.AgentExited, agent=agent_names, code=st.integers(0, 3)),
    st.builds(ev.AgentKilled, agent=agent_names),
    st.builds(ev.AgentLost, agent=agent_names),
    st.builds(ev.TaskCreated, task=task_ids, title=text),
    st.builds(ev.TaskUpdated, task=task_ids, title=st.none() | text),
    st.builds(ev.TaskAssigned, task=task_ids, agent=st.none() | agent_names),
    st.builds(ev.TaskMoved, task=task_ids, column=st.sampled_from(["ready", "review", "done"])),
    st.builds(ev.TaskNote, task=task_ids, text=text),
    st.builds(ev.ApprovalRequested, task=task_ids, approval=st.sampled_from(["p1", "p2"])),
    st.builds(ev.ApprovalGranted, task=task_ids, approval=st.sampled_from(["p1", "p2"])),
    st.builds(ev.ApprovalDenied, task=task_ids, approval=st.sampled_from(["p1", "p2"])),
    st.builds(ev.CostReported, agent=st.none() | agent_names, task=st.none() | task_ids,
              input_tokens=st.integers(0, 100), usd=st.floats(0, 1)),
    st.builds(ev.Error, message=text),
    st.builds(ev.UnknownEvent, type_name=st.just("future.thing")),
)


def _numbered(events: list) -> list:
    for i, e in enumerate(events, 1):
        e.seq = i
        e.ts = 1000.0 + i
    return events


@settings(max_examples=150, deadline=None)
@given(st.lists(event_strategy, max_size=60), st.lists(st.integers(0, 60), max_size=6))
def test_fold_whole_log_equals_fold_in_any_batches(events: list, cuts: list[int]) -> None:
    events = _numbered(events)
    whole = fold_all(events)
    bounds = sorted({0, len(events), *(c for c in cuts if c <= len(events))})
    batched = FleetState()
    for lo, hi in itertools.pairwise(bounds):
        batched = fold_all(events[lo:hi], batched)
    assert batched == whole
    stepwise = FleetState()
    for e in events:
        stepwise = fold(stepwise, e)
    assert stepwise == whole


@settings(max_examples=100, deadline=None)
@given(st.lists(event_strategy, max_size=40))
def test_unknown_events_change_nothing(events: list) -> None:
    state = fold_all(_numbered(events))
    before = state.copy()
    fold(state, ev.UnknownEvent(type_name="zzz", seq=999, ts=5.0))
    assert state == before


@settings(max_examples=100, deadline=None)
@given(st.lists(event_strategy, max_size=40), st.lists(event_strategy, max_size=10))
def test_copy_is_not_touched_by_later_folds(events: list, more: list) -> None:
    events = _numbered(events + more)
    state = fold_all(events[: len(events) - len(more)])
    snapshot = state.copy()
    expected = fold_all(events[: len(events) - len(more)])
    fold_all(events[len(events) - len(more):], state)
    assert snapshot == expected


def _spawned(name: str = "a") -> FleetState:
    return fold_all([ev.AgentSpawned(agent=name, roles=["dev"], ts=1.0),
                     ev.AgentStarted(agent=name, pid=10, ts=2.0)])


HOOK = "hook:claude"


def _screen(status: str, ts: float) -> ev.AgentStatus:
    return ev.AgentStatus(agent="a", status=status, ts=ts, source=ev.SOURCE_SCREEN)


def _hook(status: str, ts: float) -> ev.AgentStatus:
    return ev.AgentStatus(agent="a", status=status, explicit=True, ts=ts, source=HOOK)


@pytest.mark.parametrize(("steps", "status", "source"), [
    # the newest evidence wins, whichever side it comes from
    ([_screen(WORKING, 3)], WORKING, "screen"),
    ([_screen(WORKING, 3), _hook(WAITING, 4)], WAITING, HOOK),
    # a permission question answered on screen: the agent goes on working
    ([_hook(WAITING, 4), _screen(WORKING, 5)], WORKING, "screen"),
    ([_hook(WAITING, 4), _screen(WORKING, 5), _screen(IDLE, 8)], IDLE, "screen"),
    # the screen agrees with the hook: only who is cited changes (the episode began at 4)
    ([_hook(WAITING, 4), _screen(WAITING, 4.1)], WAITING, "screen"),
    ([_hook(WAITING, 4), _screen(IDLE, 5), _hook(WORKING, 6)], WORKING, HOOK),
    ([_hook(WORKING, 3), _hook(IDLE, 6)], IDLE, HOOK),
    # a new prompt ends the claim; the screen's last reading shows again
    ([_screen(IDLE, 3), _hook(WAITING, 4), ev.AgentPrompted(agent="a", text="go", ts=5)], IDLE,
     "screen"),
    # lifecycle statuses come from neither
    ([_hook(WAITING, 4), ev.AgentExited(agent="a", code=1, ts=5)], EXITED, ""),
    ([_screen(IDLE, 4), ev.AgentPaused(agent="a", ts=5)], PAUSED, ""),
    # a prompt that never arrived does not end it
    ([_hook(WAITING, 4), ev.AgentPrompted(agent="a", text="go", delivered=False, ts=5)], WAITING,
     HOOK),
])
def test_hook_and_screen_statuses_newest_wins(steps: list[ev.Event], status: str,
                                               source: str) -> None:
    state = _spawned()
    for step in steps:
        fold(state, step)
    agent = state.agents["a"]
    assert (agent.status, agent.status_source) == (status, source)


def test_status_events_say_whether_hook_or_screen() -> None:
    assert summarize(_hook(WAITING, 1)) == "says waiting"
    assert summarize(_screen(WORKING, 1)) == "screen shows working"


def test_a_measured_stall_beats_a_claim_of_working() -> None:
    state = _spawned()
    fold(state, ev.AgentStatus(agent="a", status=WORKING, explicit=True, ts=3.0))
    fold(state, ev.AgentStatus(agent="a", status=STALLED, ts=4.0))
    assert state.agents["a"].status == STALLED


def test_pause_resume_and_exit() -> None:
    state = _spawned()
    fold(state, ev.AgentStatus(agent="a", status=WORKING, ts=3.0))
    fold(state, ev.AgentPaused(agent="a", ts=4.0))
    assert state.agents["a"].status == PAUSED and state.agents["a"].paused
    fold(state, ev.AgentStatus(agent="a", status=IDLE, ts=5.0))
    assert state.agents["a"].status == PAUSED
    fold(state, ev.AgentResumed(agent="a", ts=6.0))
    assert state.agents["a"].status == IDLE
    fold(state, ev.AgentExited(agent="a", code=2, ts=7.0))
    a = state.agents["a"]
    assert (a.status, a.exit_code, a.alive) == (EXITED, 2, False)
    fold(state, ev.AgentLost(agent="a", ts=8.0))
    assert state.agents["a"].status == LOST


def test_an_exit_reported_before_the_start_keeps_the_agent_exited() -> None:
    state = fold_all([ev.AgentSpawned(agent="a", ts=1.0),
                      ev.AgentExited(agent="a", code=3, pane="%4", ts=1.1),
                      ev.AgentStarted(agent="a", pid=9, pane="%4", ts=1.2)])
    a = state.agents["a"]
    assert (a.status, a.alive, a.exit_code, a.pane) == (EXITED, False, 3, "%4")
    fold(state, ev.AgentSpawned(agent="a", ts=2.0))  # a restart: a new pane starts normally
    fold(state, ev.AgentStarted(agent="a", pid=10, pane="%5", ts=2.1))
    assert state.agents["a"].alive and state.agents["a"].pane == "%5"


def test_output_keyframes_and_diffs_rebuild_the_screen() -> None:
    state = _spawned()
    fold(state, ev.AgentOutput(agent="a", keyframe=True, height=3, width=10,
                               changes=[(0, "one"), (1, "two")]))
    assert state.agents["a"].screen == ["one", "two", ""]
    fold(state, ev.AgentOutput(agent="a", changes=[(2, "three"), (0, "uno")]))
    assert state.agents["a"].screen == ["uno", "two", "three"]
    assert state.timeline and all(type(e) is not ev.AgentOutput for e in state.timeline)


def test_tasks_assignment_notes_approvals_and_costs() -> None:
    state = fold_all([
        ev.AgentSpawned(agent="dev", roles=["developer"]),
        ev.AgentSpawned(agent="rev", roles=["reviewer"]),
        ev.TaskCreated(task="T1", title="Add login", depends_on=["T0"]),
        ev.TaskAssigned(task="T1", agent="dev", reason="role developer, idle"),
        ev.TaskMoved(task="T1", column="review"),
        ev.TaskAssigned(task="T1", agent="rev"),
        ev.TaskNote(task="T1", text="handoff: tests added", kind="handoff", agent="dev"),
        ev.ApprovalRequested(task="T1", approval="A1", transition="review->done"),
        ev.CostReported(agent="dev", task="T1", input_tokens=10, output_tokens=5, usd=0.5),
    ])
    t1 = state.tasks["T1"]
    assert t1.column == "review" and t1.assignee == "rev" and t1.depends_on == ["T0"]
    assert state.agents["dev"].tasks == [] and state.agents["rev"].task == "T1"
    assert [n.text for n in t1.notes] == ["handoff: tests added"]
    assert [a.id for a in state.pending_approvals()] == ["A1"]
    assert t1.cost.tokens == 15 and state.agents["dev"].cost.usd == 0.5 and state.cost.usd == 0.5
    fold(state, ev.ApprovalGranted(task="T1", approval="A1", source="user"))
    assert state.pending_approvals() == []


def test_every_event_type_has_a_fold_handler() -> None:
    from fleet_tui.core.fold import HANDLERS

    assert set(ev.EVENT_TYPES) == set(HANDLERS)
