"""The app driven by keys (Textual Pilot) as a client of a real daemon, tmux server and demo agents:
every binding of the main screen, the dialogs behind them, the palette and a remapped key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.state import FleetState
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.dialogs import ConfirmScreen, FilterScreen, PromptScreen, QuitScreen
from fleet_tui.ui.help import HelpScreen
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.spawn_dialog import SpawnScreen
from fleet_tui.ui.task_dialogs import MoveTaskScreen, NewTaskScreen
from fleet_tui.ui.timeline import Timeline
from fleet_tui.ui.zoom import PaneView, ZoomScreen
from tests.fleets import Daemons, live_app
from tests.helpers import pilot_until, type_text

pytestmark = pytest.mark.anyio

DEMO = "[python, -m, fleet_tui.demo_agent, --pace, '0', --fail-rate, '0', --role, planner"
FLEET = f"""
fleet: ui
agents:
  - {{name: one, roles: [planner], command: {DEMO}, --seed, '1'], preset: demo}}
  - {{name: two, roles: [planner], command: {DEMO}, --seed, '2'], preset: demo}}
tasks:
  - {{id: T1, title: First, role: planner, column: ready}}
  - {{id: T2, title: Second, role: planner, column: ready}}
routing:
  stages:
    - {{name: backlog}}
    - {{name: ready}}
    - {{name: in_progress, roles: [planner]}}
    - {{name: done}}
approvals:
  - {{from: in_progress, to: done}}
keymap: {{pause: P}}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def daemons(tmp_path: Path, tmux_socket: str) -> Iterator[Daemons]:
    (tmp_path / "fleet.yaml").write_text(FLEET)
    made = Daemons(tmp_path, tmux_socket)
    yield made
    made.stop_all()


@pytest.fixture
def app(daemons: Daemons) -> FleetApp:
    return live_app(daemons())



def _events(app: FleetApp, kind: type[ev.Event]) -> list[ev.Event]:
    return [e for e in app.fleet.state.timeline if isinstance(e, kind)]


async def test_areas_theme_reload_and_quit_leave_agents_running(app: FleetApp, daemons: Daemons,
                                                                 tmux_socket: str) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(AgentGrid)
        await pilot_until(pilot, lambda: set(grid.cards) == {"one", "two"})
        assert app.theme == "fleet-dark"
        config = app.fleet.loaded.path
        config.write_text(config.read_text() + "theme: fleet-contrast\n")
        await pilot_until(pilot, lambda: app.theme == "fleet-contrast")
        header = str(app.query_one("#header").render())
        assert "ui" in header and "open tasks" in header and "alert" not in header
        daemons.made[0].service.submit(ev.Alert(kind=ev.ALERT_STALL, agent="one", message="one stalled"))
        await pilot_until(pilot, lambda: "⚠ 1 alert" in str(app.query_one("#header").render()))
        await pilot.press("2")
        assert app.query_one("#areas").current == "board"
        await pilot.press("3")
        assert app.query_one("#areas").current == "timeline"
        await pilot_until(pilot, lambda: "alert" not in str(app.query_one("#header").render()))
        await pilot.press("tab")
        assert app.query_one("#areas").current == "grid"
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("tab")  # moves between the dialog's buttons, not the app's areas
        assert isinstance(app.screen, QuitScreen) and app.query_one("#areas").current == "grid"
        assert app.screen.focused is not None and app.screen.focused.id == "stop"
        await pilot.press("shift+tab")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: not app.is_running)
    assert {p.agent for p in TmuxDriver(tmux_socket).list_agent_panes()} == {"one", "two"}


async def test_agent_keys(app: FleetApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(AgentGrid)
        await pilot_until(pilot, lambda: set(grid.cards) == {"one", "two"} and grid.focused_agent() == "one")
        state = app.fleet.state  # the fold of the daemon's log, once connected

        # arrows and hjkl move focus; cards sit side by side at 120 columns
        await pilot.press("l")
        assert grid.focused_agent() == "two"
        await pilot.press("left")
        assert grid.focused_agent() == "one"

        # pause is remapped to P in fleet.yaml: P pauses and resumes, p does nothing
        await pilot.press("p")
        await pilot.pause(0.3)
        assert not state.agents["one"].paused
        await pilot.press("P")
        await pilot_until(pilot, lambda: state.agents["one"].paused)
        await pilot.press("P")
        await pilot_until(pilot, lambda: not state.agents["one"].paused)

        # s: a multi-line prompt, sent with ctrl+d
        await pilot.press("s")
        assert isinstance(app.screen, PromptScreen)
        await type_text(pilot, "hello")
        await pilot.press("ctrl+d")
        await pilot_until(pilot, lambda: any(e.text == "hello" for e in _events(app, ev.AgentPrompted)))

        # z: the pane full-screen with scrollback; escape comes back
        await pilot.press("z")
        assert isinstance(app.screen, ZoomScreen)
        view = app.screen.query_one(PaneView)
        await pilot_until(pilot, lambda: any("demo agent" in row for row in view.rows))
        await pilot.press("pageup", "pagedown")
        # the zoomed agent's keys, remapped as in the app, shown in the zoom's footer: s prompts
        # it (its echo comes back in the zoom view), P pauses and resumes it
        shown = {key: b.id for key, (_n, b, on, _t) in app.screen.active_bindings.items() if b.show and on}
        assert {"s": "prompt", "P": "pause"}.items() <= shown.items() and "p" not in shown
        await pilot.press("s")
        assert isinstance(app.screen, PromptScreen)
        await type_text(pilot, "from the zoom")
        await pilot.press("ctrl+d")
        await pilot_until(pilot, lambda: any("from the zoom" in row for row in view.rows),
                          message="the prompt's echo in the zoom view")
        assert isinstance(app.screen, ZoomScreen)
        assert any(e.agent == "one" and e.text == "from the zoom" for e in _events(app, ev.AgentPrompted))
        await pilot.press("P")
        await pilot_until(pilot, lambda: state.agents["one"].paused, message="paused from the zoom")
        await pilot.press("P")
        await pilot_until(pilot, lambda: not state.agents["one"].paused, message="resumed")
        await pilot.press("escape")
        assert not isinstance(app.screen, ZoomScreen)

        # r: restart gives a new process
        pid = state.agents["one"].pid
        await pilot.press("r")
        def restarted() -> bool:
            one = state.agents["one"]
            return one.alive and one.pid not in (None, pid)

        await pilot_until(pilot, restarted)

        # n: spawn from a template with a name
        await pilot.press("n")
        assert isinstance(app.screen, SpawnScreen)
        await pilot.press("tab")
        await type_text(pilot, "extra")
        await pilot.press("ctrl+d")
        await pilot_until(pilot, lambda: "extra" in grid.cards and state.agents["extra"].alive)
        assert state.agents["extra"].template == "one"

        # x: kill, after confirming
        app.focus_agent("extra")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_until(pilot, lambda: not state.agents["extra"].alive)

        # ?: help lists the keys as remapped
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "P" in [row.strip() for row in app.screen._table.columns[0]._cells]
        await pilot.press("escape")

        # /: filter the timeline
        await pilot.press("slash")
        assert isinstance(app.screen, FilterScreen)
        await type_text(pilot, "agent:two")
        await pilot.press("enter")
        timeline = app.query_one(Timeline)
        assert app.query_one("#areas").current == "timeline" and timeline.filter_text == "agent:two"

        # ctrl+p: the palette focuses an agent and switches the theme
        await pilot.press("ctrl+p")
        await type_text(pilot, "focus agent two")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: grid.focused_agent() == "two")
        await pilot.press("ctrl+p")
        await type_text(pilot, "switch theme fleet-light")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: app.theme == "fleet-light")


async def test_board_keys(app: FleetApp) -> None:
    def pending() -> list[str]:
        return sorted(t.id for t in app.fleet.state.tasks.values() if t.pending_approvals)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_until(pilot, lambda: pending() == ["T1", "T2"], tries=600)
        await pilot.press("2")

        # a approves one gate; D denies the other with a comment
        await pilot.press("a")
        await pilot_until(pilot, lambda: len(pending()) == 1)
        approved = next(t for t in ("T1", "T2") if t not in pending())
        assert app.fleet.state.tasks[approved].column == "done"
        denied = pending()[0]
        await pilot.press("D")
        assert isinstance(app.screen, PromptScreen)
        await type_text(pilot, "not yet")
        await pilot.press("ctrl+d")
        await pilot_until(pilot, lambda: any(e.comment == "not yet" for e in _events(app, ev.ApprovalDenied)))
        assert [e.source for e in _events(app, ev.ApprovalGranted)] == [ev.SOURCE_USER]
        assert app.fleet.state.tasks[denied].column != "done"

        # t: a new task, routed like any other
        await pilot.press("t")
        assert isinstance(app.screen, NewTaskScreen)
        await type_text(pilot, "Write docs")
        await pilot.press("ctrl+d")
        await pilot_until(pilot, lambda: "T3" in app.fleet.state.tasks)
        assert app.fleet.state.tasks["T3"].title == "Write docs"
        assert [e.source for e in _events(app, ev.TaskCreated) if e.task == "T3"] == [ev.SOURCE_USER]

        # m: move the approved task from done to blocked
        app.query_one("#col-done").focus()
        await pilot.press("down")
        await pilot.press("m")
        assert isinstance(app.screen, MoveTaskScreen)
        await pilot.press("end", "enter")
        await pilot_until(pilot, lambda: app.fleet.state.tasks[approved].column == "blocked")

        # A: give it to the agent focused last on the grid (one)
        app.query_one("#col-blocked").focus()
        await pilot.press("down")
        await pilot.press("A")
        await pilot_until(pilot, lambda: app.fleet.state.tasks[approved].assignee == "one")
        assigned = [e for e in _events(app, ev.TaskAssigned) if e.task == approved and e.agent == "one"]
        assert assigned[-1].source == ev.SOURCE_USER and "by the user" in assigned[-1].reason
        await pilot_until(pilot, lambda: any(e.task == approved and e.agent == "one"
                                        for e in _events(app, ev.AgentPrompted)))


async def test_one_daemon_check_at_a_time() -> None:
    """A check that waits on the daemon (starting it again may take 30 s) is not joined by one
    more thread at every tick: threads cannot be cancelled, and each would poll tmux too."""
    fleet = RecordedFleet(FleetConfig(fleet="t"), FleetState())
    release = threading.Event()
    calls: list[int] = []

    def check() -> str:
        calls.append(1)
        release.wait(10)
        return ""

    fleet.check = check  # type: ignore[attr-defined]
    app = FleetApp(fleet)
    checks = lambda: [w for w in app.workers if w.group == "daemon"]  # noqa: E731
    async with app.run_test() as pilot:
        app.check_daemon()
        await pilot_until(pilot, lambda: calls, message="the first check")
        for _ in range(3):  # the ticks while it waits
            app.check_daemon()
        # each worker leaves the app's list when done, the first one too once cancelled by
        # the next (its thread goes on: threads cannot be stopped)
        await pilot_until(pilot, lambda: not checks(), message="the later ticks done")
        assert len(calls) == 1
        release.set()
