"""The user's board commands as pure rules: new, move, assign."""

from __future__ import annotations

import pytest

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.manual import ManualError, assign_task, move_task, new_task, next_task_id
from fleet_tui.core.routing import RoutingPolicy, StagePolicy

POLICY = RoutingPolicy(stages=(StagePolicy("backlog"), StagePolicy("ready"),
                               StagePolicy("in_progress", ("dev",)), StagePolicy("done")))


def _state():
    return fold_all([
        ev.AgentSpawned(agent="one", roles=["dev"], seq=1),
        ev.TaskCreated(task="T1", title="a", column="ready", seq=2),
        ev.TaskCreated(task="T9", title="b", seq=3),
        ev.TaskCreated(task="X", title="c", seq=4),
    ])


def test_new_task_takes_the_next_number_and_needs_a_title() -> None:
    state = _state()
    assert next_task_id(state) == "T10"
    created = new_task(state, "  Docs ", role="dev", column="ready")
    assert (created.task, created.title, created.column, created.source) == ("T10", "Docs", "ready", "user")
    with pytest.raises(ManualError, match="title"):
        new_task(state, "  ")


def test_move_task_says_where_from_and_refuses_a_no_op() -> None:
    state = _state()
    [moved] = move_task(state, "T1", "done")
    assert (moved.from_column, moved.column, moved.source) == ("ready", "done", "user")
    with pytest.raises(ManualError, match="already in ready"):
        move_task(state, "T1", "ready")
    with pytest.raises(ManualError, match="no task"):
        move_task(state, "T404", "done")


def test_assign_moves_a_queued_task_into_its_work_stage_and_prompts_the_agent() -> None:
    state = _state()
    events, prompt = assign_task(state, POLICY, "T1", "one")
    assert [type(e) for e in events] == [ev.TaskMoved, ev.TaskAssigned]
    assert events[0].column == "in_progress" and events[1].agent == "one"
    assert all(e.source == "user" for e in events) and "by the user" in events[1].reason
    assert prompt.agent == "one" and prompt.text.startswith("Task T1: a")
    fold_all(events, state)
    with pytest.raises(ManualError, match="already one's"):
        assign_task(state, POLICY, "T1", "one")
    with pytest.raises(ManualError, match="not running"):
        assign_task(state, POLICY, "T9", "ghost")
