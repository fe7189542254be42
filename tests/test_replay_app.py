"""Replay of a recorded demo-fleet session: the state at every position is the fold of the
events before it, the end is the state the live fleet had when it stopped, and the replay keys
drive the same screen, read-only."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual.command import CommandPalette

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import FleetState
from fleet_tui.replay.cursor import ReplayCursor
from fleet_tui.replay.index import open_index
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.dialogs import FilterScreen
from fleet_tui.ui.help import HelpScreen
from fleet_tui.ui.replay_app import ReplayApp, ReplayFleet
from fleet_tui.ui.replay_bar import ReplayBar
from fleet_tui.ui.zoom import PaneView, ZoomScreen
from tests.fleets import DEV, REV, Daemons, answer_questions, fleet
from tests.helpers import pilot_until, retry_until


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FleetState]:
    """A demo fleet's session, run to the end of its task: the log and the live final state."""
    import os
    import uuid

    from fleet_tui.adapters.tmux import TmuxDriver

    tmp = tmp_path_factory.mktemp("recorded")
    old_home = os.environ.get("FLEET_HOME")
    os.environ["FLEET_HOME"] = str(tmp / "home")
    socket = f"fleet-test-replay-{uuid.uuid4().hex[:8]}"
    make = Daemons(tmp, socket)
    try:
        orch = make(fleet(DEV, REV)).service
        orch.start()

        def gate() -> str | None:
            answer_questions(orch)
            pending = orch.state.tasks["T1"].pending_approvals
            return pending[0].id if pending else None

        approval = retry_until(gate, timeout=60, interval=0.1,
                               message=f"the review gate {orch.state.tasks} {orch.state.agents}")
        orch.ops.decide("T1", approval, True, "ship it")
        retry_until(lambda: orch.state.tasks["T1"].column == "done", timeout=10)
        orch.submit(ev.Alert(kind="budget", agent="dev", message="dev: over budget"))  # for `e`
        orch.stop(kill_agents=True)
        return orch.log_path, orch.state.copy()
    finally:
        make.stop_all()
        TmuxDriver(socket).kill_server()
        if old_home is None:
            os.environ.pop("FLEET_HOME", None)
        else:
            os.environ["FLEET_HOME"] = old_home


def test_every_position_is_the_fold_and_the_end_is_the_live_state(recorded) -> None:
    log, final = recorded
    events, warnings = read_log(log)
    assert not warnings and len(events) > 50
    index = open_index(log, every=16)
    try:
        cursor = ReplayCursor(index)
        ks = [*random.Random(5).sample(range(len(events) + 1), 40), 0, len(events)]
        for k in ks:
            assert cursor.state_at(k) == fold_all(events[:k]), f"position {k}"
        cursor.end()
        assert cursor.state == final
    finally:
        index.close()



@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_replay_keys(recorded) -> None:
    log, final = recorded
    index = open_index(log)
    cursor = ReplayCursor(index)
    cursor.seek(1)
    app = ReplayApp(ReplayFleet(FleetConfig(fleet="t"), cursor, session_id="s"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            bar = app.main.query_one(ReplayBar)
            await pilot.press("end")
            assert cursor.at_end and app.fleet.state == final
            grid = app.main.query_one(AgentGrid)
            await pilot.pause(0.2)
            assert set(grid.cards) == set(final.agents)

            await pilot.press("home")
            assert cursor.position == 0
            await pilot.press("right", "right", "right")
            assert cursor.position == 3
            await pilot.press("left")
            assert cursor.position == 2
            await pilot.press("shift+right")
            assert cursor.clock == pytest.approx(min(cursor.time_at(2) + 10, cursor.end_time))
            await pilot.press("shift+left")

            await pilot.press("plus", "plus")
            assert bar.speed == 4
            await pilot.press("minus")
            assert bar.speed == 2
            await pilot.press("i")
            assert bar.skip_idle
            await pilot.press("space")
            assert bar.playing
            start = cursor.clock
            await pilot.pause(0.5)
            assert cursor.clock > start
            await pilot.press("space")
            assert not bar.playing

            # : seeks to a seq
            await pilot.press("colon")
            assert isinstance(app.screen, FilterScreen)
            target = index.seqs[10]
            await pilot.press(*f"#{target}", "enter")
            assert cursor.current == 10

            # ] and [ step through the focused agent's events; e finds trouble
            await pilot_until(pilot, lambda: grid.focused_agent() is not None)
            agent = grid.focused_agent()
            await pilot.press("right_square_bracket")
            assert index.by_agent[agent][0] <= cursor.current
            await pilot.press("home", "e")
            assert cursor.current in index.trouble

            # commands explain that replay is read-only; zoom works
            events_before = len(index)
            await pilot.press("p", "x", "n")
            assert len(app.screen_stack) == 1 and len(index) == events_before
            assert "this is a replay" in " ".join(n.message for n in app._notifications)
            # help and the palette list the replay keys too
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert "replay_seek" in [str(c) for c in app.screen._table.columns[2]._cells]
            await pilot.press("escape", "ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.press("escape")

            await pilot.press("end", "z")
            assert isinstance(app.screen, ZoomScreen)
            view = app.screen.query_one(PaneView)
            await pilot_until(pilot, lambda: view.rows == tuple(final.agents[app.screen.agent].screen))
            assert not {"s", "p"} & set(app.screen.active_bindings)  # the zoom's agent keys are off
            await pilot.press("s")
            assert isinstance(app.screen, ZoomScreen)
            await pilot.press("escape", "q")
    finally:
        index.close()
