"""Everything drawn is safe, on the screen itself: the app over a session whose every text field
carries the hostile corpus (tests/hostile.py), in every area, dialog and notice, and the live
app over real tmux with a hostile ``task.note`` from the inbox. What is checked is what Textual
would write to the terminal: the text of every segment of the composited screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_tui.adapters.inbox import new_message_id
from fleet_tui.config.loader import load_config
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.inbox_rules import InboxMessage
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.dialogs import ConfirmScreen, PromptScreen
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.task_dialogs import MoveTaskScreen
from fleet_tui.ui.timeline import Timeline
from fleet_tui.ui.zoom import PaneView, ZoomScreen
from tests.fleets import drop_from_agent
from tests.helpers import pilot_until
from tests.hostile import AGENT, HOSTILE, T0, assert_safe, hostile_events
from tests.test_app import app, daemons  # noqa: F401  (the live app over real tmux, fixtures)

pytestmark = pytest.mark.anyio

CONFIG = Path(__file__).parent / "data" / "snapshot" / "fleet.yaml"
OSC52_SHOWN = "\\x1b]52;c;ZXZpbA=="


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def screen_text(ui: FleetApp) -> str:
    """The text of the whole screen as the terminal would get it (all layers, notices too)."""
    strips = ui.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def hostile_app() -> FleetApp:
    fleet = RecordedFleet(load_config(CONFIG).config, fold_all(hostile_events()))
    ui = FleetApp(fleet, clock=lambda: T0 + 1000)
    ui.read_only = False  # the dialogs as live mode shows them (nothing is submitted)
    return ui


def check(ui: FleetApp) -> str:
    text = screen_text(ui)
    assert_safe(text, keep="\n")
    return text


@pytest.mark.parametrize("size", [(80, 24), (200, 200)])  # one-row cards; full cards
async def test_every_area_draws_hostile_text_safely(size: tuple[int, int]) -> None:
    ui = hostile_app()
    async with ui.run_test(size=size) as pilot:
        grid = ui.main.query_one(AgentGrid)
        await pilot_until(pilot, lambda: len(grid.cards) == 2 and "\\x1b]0;owned" in screen_text(ui))
        check(ui)  # header, cards (title rows with role, model, status; pane rows)

        await pilot.press("2")
        await pilot_until(pilot, lambda: "\\x1b]52;" in screen_text(ui))
        text = check(ui)  # board
        if size[1] > 100:
            assert "[@click=app.quit]quit[/]" in text  # markup stays text

        await pilot.press("3")
        timeline = ui.main.query_one(Timeline)
        rows = len(ui.fleet.state.timeline)
        await pilot_until(pilot, lambda: timeline.virtual_size.height == rows and timeline.size.height)
        pages = []
        for top in range(0, rows, timeline.size.height):  # every row of the timeline, page by page
            timeline.scroll_to(y=top, animate=False, immediate=True)
            await pilot_until(pilot, lambda top=top: timeline.scroll_offset.y
                              == min(top, timeline.max_scroll_y))
            pages.append(check(ui))
        assert OSC52_SHOWN in "".join(pages)


async def test_dialogs_zoom_and_notices_draw_hostile_text_safely() -> None:
    ui = hostile_app()
    async with ui.run_test(size=(120, 40), notifications=True) as pilot:
        grid = ui.main.query_one(AgentGrid)
        await pilot_until(pilot, lambda: len(grid.cards) == 2)

        ui.notify(HOSTILE[0], title=HOSTILE[2])
        ui.set_status(HOSTILE[3])
        await pilot_until(pilot, lambda: OSC52_SHOWN in screen_text(ui))
        text = check(ui)
        assert "\\x1b[2J" in text

        await pilot.press("2")
        column = ui.query_one("#col-in_progress")
        column.focus()
        await pilot.press("down")
        await pilot.press("m")
        await pilot_until(pilot, lambda: isinstance(ui.screen, MoveTaskScreen))
        check(ui)
        await pilot.press("escape")

        for dialog in (ConfirmScreen(f"Kill {HOSTILE[6]}?"), PromptScreen(HOSTILE[4])):
            ui.push_screen(dialog)
            await pilot_until(pilot, lambda dialog=dialog: ui.screen is dialog)
            check(ui)
            await pilot.press("escape")

        await pilot.press("question_mark")
        await pilot.pause()
        check(ui)
        await pilot.press("escape")

        await pilot.press("ctrl+p")  # the palette lists the agents by name
        await pilot.press(*"focus")
        await pilot_until(pilot, lambda: "user\\u202etxt.exe" in screen_text(ui))
        check(ui)
        await pilot.press("escape")

        await pilot.press("1")
        grid.focus_neighbour(0, 0)
        for name in (AGENT, HOSTILE[6]):
            ui.push_screen(ZoomScreen(name, lambda: HOSTILE, title=name))
            await pilot_until(pilot, lambda: isinstance(ui.screen, ZoomScreen)
                              and any(view.rows for view in ui.screen.query(PaneView)))
            assert "\\u202e" in check(ui) or name == AGENT  # the title, escaped
            await pilot.press("escape")


async def test_live_app_shows_a_hostile_note_inert(app: FleetApp) -> None:  # noqa: F811
    """A ``task.note`` with OSC 52, OSC 0 and CSI 2J dropped into the inbox of a running fleet
    shows in the timeline as visible text; nothing of it reaches the terminal raw."""
    note = "done \x1b]52;c;ZXZpbA==\x07\x1b]0;owned\x07\x1b[2J\u202etxt.exe"
    async with app.run_test(size=(160, 40)) as pilot:
        orch = app.fleet
        await pilot_until(pilot, lambda: bool(orch.session_id) and "T1" in orch.state.tasks,
                          tries=600)
        drop_from_agent(orch, InboxMessage(id=new_message_id(), type="task.note", agent="one",
                                           task="T1", note=note))
        await pilot_until(pilot, lambda: any(isinstance(e, ev.TaskNote) and e.text == note
                                             for e in orch.state.timeline), tries=600)
        await pilot.press("3")
        await pilot_until(pilot, lambda: OSC52_SHOWN in screen_text(app))
        text = check(app)
        assert "\\x1b]0;owned\\x07\\x1b[2J\\u202etxt.exe" in text
