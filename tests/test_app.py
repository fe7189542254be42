"""The app driven by keys (Textual Pilot) over a real orchestrator and tmux server."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.loader import load_config
from fleet_tui.orchestrator import Orchestrator
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.dialogs import QuitScreen

pytestmark = pytest.mark.anyio

FLEET = """
fleet: ui
agents:
  - {name: one, roles: [dev], command: [python, -m, fleet_tui.demo_agent, --pace, "0"], preset: demo}
  - {name: two, roles: [dev], command: [python, -m, fleet_tui.demo_agent, --pace, "0"], preset: demo}
tasks:
  - {id: T1, title: First, role: dev}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _until(pilot, check, tries: int = 200) -> None:
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_the_app_shows_the_fleet_and_quits_leaving_agents_running(
        tmp_path: Path, tmux_socket: str) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(FLEET)
    orch = Orchestrator(load_config(config))
    orch.socket_name, orch.driver = tmux_socket, TmuxDriver(tmux_socket)
    app = FleetApp(orch)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(AgentGrid)
        await _until(pilot, lambda: set(grid.cards) == {"one", "two"})
        header = str(app.query_one("#header").render())
        assert "ui" in header and "1 open tasks" in header
        await pilot.press("2")
        assert app.query_one("#areas").current == "board"
        await pilot.press("3")
        assert app.query_one("#areas").current == "timeline"
        await pilot.press("tab")
        assert app.query_one("#areas").current == "grid"
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("tab")  # moves between the dialog's buttons, not the app's areas
        assert isinstance(app.screen, QuitScreen) and app.query_one("#areas").current == "grid"
        assert app.screen.focused is not None and app.screen.focused.id == "kill"
        await pilot.press("shift+tab")
        await pilot.press("enter")
        await _until(pilot, lambda: not app.is_running)
    assert {p.agent for p in TmuxDriver(tmux_socket).list_agent_panes()} == {"one", "two"}
