"""When the fleet needs its person: calls once per episode (pure), and in the real app over
tmux: ``w`` goes to the waiting agent, ``Y`` answers it from its card, the notify command is
run with the message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fleet_tui.core import events as ev
from fleet_tui.core.attention import Attention, needing_you
from fleet_tui.core.fold import fold_all
from fleet_tui.core.merge_rules import RUNNER
from fleet_tui.core.sanitize import strip_ansi
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.attention import ReplyScreen, desktop_sequence
from tests.fleets import QUESTION, Daemons, demo_agent, fleet, live_app
from tests.helpers import pilot_until

pytestmark = pytest.mark.anyio


def _state(*events: ev.Event):
    return fold_all([ev.AgentSpawned(agent="a"), ev.AgentStarted(agent="a", pane="%1"),
                     ev.AgentSpawned(agent="b"), ev.AgentStarted(agent="b", pane="%2"), *events])


def test_a_call_comes_once_per_episode_and_not_for_what_was_there_before() -> None:
    attention = Attention()
    assert attention.update(_state(ev.AgentStatus(agent="a", status="waiting", ts=1))) == []  # first look
    events = [ev.AgentStatus(agent="a", status="waiting", ts=1)]
    assert attention.update(_state(*events)) == []
    events.append(ev.AgentStatus(agent="a", status="working", ts=2))
    assert attention.update(_state(*events)) == []
    events.append(ev.AgentStatus(agent="a", status="waiting", ts=3))
    [call] = attention.update(_state(*events))
    assert (call.kind, call.agent, call.message) == ("waiting", "a", "a is waiting for you")
    assert attention.update(_state(*events)) == []  # the same episode
    events.append(ev.AgentExited(agent="b", pane="%2", code=2, ts=4))
    [call] = attention.update(_state(*events))
    assert (call.kind, call.message) == ("exited", "b exited with 2")


def test_clean_exits_do_not_call_and_approvals_do() -> None:
    attention = Attention()
    attention.update(_state())
    state = _state(ev.AgentExited(agent="b", pane="%2", code=0, ts=1),
                   ev.TaskCreated(task="T1", title="t"),
                   ev.ApprovalRequested(task="T1", approval="review->done"))
    [call] = attention.update(state)
    assert (call.kind, call.task) == ("approval", "T1")


def test_a_failing_merge_check_does_not_call_you() -> None:
    """Its task goes back to the implementer by itself; the merge queue's card just shows it."""
    attention = Attention()
    attention.update(_state())
    runner = [ev.AgentSpawned(agent=RUNNER), ev.AgentStarted(agent=RUNNER, pane="%9"),
              ev.AgentExited(agent=RUNNER, pane="%9", code=1, ts=1)]
    assert attention.update(_state(*runner)) == [] and needing_you(_state(*runner)) == []


def test_needing_you_orders_waiting_then_stalled_then_failed_oldest_first() -> None:
    state = fold_all([
        *(e for n in "abcd" for e in (ev.AgentSpawned(agent=n), ev.AgentStarted(agent=n, pane=f"%{n}"))),
        ev.AgentStatus(agent="a", status="stalled", ts=1),
        ev.AgentStatus(agent="b", status="waiting", ts=5),
        ev.AgentStatus(agent="c", status="waiting", ts=2),
        ev.AgentExited(agent="d", pane="%d", code=1, ts=0),
    ])
    assert needing_you(state) == ["c", "b", "a", "d"]


def test_desktop_notifications_cannot_be_ended_early_by_agent_text() -> None:
    sequence = desktop_sequence("fleet-tui", "dev\x1b\\\x07\x1b]52;c;x\x07 waits", in_tmux=False)
    body = sequence[len("\x1b]777;notify;"):]
    assert body.count("\x1b") == 3 and "\x07" not in body  # only the sequences' own terminators
    wrapped = desktop_sequence("fleet-tui", "hi", in_tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]777;") and wrapped.endswith("\x1b\\")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_w_goes_to_the_waiting_agent_and_y_answers_it_from_its_card(
        tmp_path: Path, tmux_socket: str) -> None:
    calls = tmp_path / "calls.txt"
    asker = demo_agent("asker", "developer", "--seed", "1", "--steps", "5")
    quiet = demo_agent("quiet", "developer", "--seed", "2")
    notify = {"bell": True, "command": ["sh", "-c", f'echo "$1" >> {calls}', "notify"]}
    daemons = Daemons(tmp_path, tmux_socket)
    stages = [{"name": "ready"}, {"name": "in_progress", "roles": ["developer"]}, {"name": "done"}]
    app = live_app(daemons(fleet(quiet, asker, stages=stages, tasks=[], approvals=[], notify=notify)))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            grid = app.query_one(AgentGrid)
            await pilot_until(pilot, lambda: set(grid.cards) == {"quiet", "asker"}, tries=600)
            # the UI has taken note of the fleet as it was: what happens from now on calls
            await pilot_until(pilot, lambda: app.fleet.state.agents["asker"].status == "idle", tries=600)
            await asyncio.to_thread(app.fleet.prompt, "asker", "Task T9: start")
            asker = lambda: app.fleet.state.agents["asker"]  # noqa: E731
            await pilot_until(pilot, lambda: asker().status == "waiting", tries=600)
            await pilot_until(pilot, lambda: QUESTION in strip_ansi("".join(asker().screen)))
            await pilot_until(pilot, lambda: calls.exists() and "asker is waiting" in calls.read_text())
            grid.focus_neighbour(0, 0)
            await pilot.press("w")
            assert grid.focused_agent() == "asker"
            await pilot.press("Y")
            assert isinstance(app.screen, ReplyScreen)
            await pilot.press("y", "enter", "q")
            assert not isinstance(app.screen, ReplyScreen)
            await pilot_until(pilot, lambda: asker().status != "waiting", tries=400)
            replies = [e.text for e in app.fleet.state.timeline
                       if isinstance(e, ev.AgentPrompted) and e.reason == "reply from the card"]
            assert replies == ["y", "Enter"]
    finally:
        daemons.stop_all()
