"""AgentGrid and AgentCard in a headless app: layout, minimal repaints, focus, compact mode."""

from __future__ import annotations

from collections import Counter

import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot

from fleet_tui.core.state import AgentState, FleetState
from fleet_tui.ui.agent_card import AgentCard, elapsed
from fleet_tui.ui.agent_grid import AgentGrid

NOW = 10_000.0

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_state(count: int, rows: int = 24) -> FleetState:
    state = FleetState(fleet="test")
    for i in range(count):
        name = f"agent-{i:02d}"
        state.agents[name] = AgentState(
            name=name, role="dev", model="opus", status="working", status_since=NOW - 192,
            tasks=[f"T-{i}"], screen=[f"\x1b[3{j % 8}m{name} row {j}\x1b[0m" for j in range(rows)],
        )
    return state


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AgentGrid()


async def start(pilot: Pilot, state: FleetState) -> AgentGrid:
    grid = pilot.app.query_one(AgentGrid)
    grid.sync(state, NOW)
    await pilot.pause()
    return grid


def count_refreshes(monkeypatch: pytest.MonkeyPatch, cards: list[AgentCard]) -> Counter[str]:
    """Count ``refresh`` calls per card."""
    calls: Counter[str] = Counter()
    for card in cards:
        original = card.refresh

        def counted(*regions: Region, _card=card, _original=original, **kwargs: bool) -> AgentCard:
            calls[_card.agent_name] += 1
            return _original(*regions, **kwargs)

        monkeypatch.setattr(card, "refresh", counted)
    return calls


async def test_cards_appear_with_title_and_pane() -> None:
    state = make_state(4)
    state.agents["agent-02"].status = "waiting"
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = await start(pilot, state)
        cards = list(grid.query(AgentCard))
        assert [c.agent_name for c in cards] == list(state.agents)
        card = grid.cards["agent-02"]
        title = card.render_line(0).text
        assert title.startswith("agent-02")
        assert "WAITING" in title and "T-2" in title and title.rstrip().endswith("3m12s")
        assert card.has_class("-waiting") and not card.has_class("-working")
        # The last rows of the pane, cropped to the card's width.
        height = card.size.height
        assert card.render_line(height - 1).text.startswith("agent-02 row 23")
        assert {card.render_line(y).cell_length for y in range(height)} == {card.size.width}


@pytest.mark.parametrize(("size", "columns"), [((80, 24), 2), ((200, 60), 5), ((120, 40), 3)])
async def test_columns_follow_the_width(size: tuple[int, int], columns: int) -> None:
    async with GridApp().run_test(size=size) as pilot:
        grid = await start(pilot, make_state(30))
        assert grid.columns == columns
        tops = Counter(card.region.y for card in grid.cards.values())
        assert tops[0] == columns


async def test_agents_added_and_removed() -> None:
    state = make_state(3)
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, state)
        del state.agents["agent-01"]
        state.agents["new"] = AgentState(name="new", status="idle")
        grid.sync(state, NOW)
        await pilot.pause()
        assert [c.agent_name for c in grid.query(AgentCard)] == ["agent-00", "agent-02", "new"]


async def test_only_the_changed_card_and_row_repaint(monkeypatch: pytest.MonkeyPatch) -> None:
    state = make_state(6)
    async with GridApp().run_test(size=(120, 40)) as pilot:
        grid = await start(pilot, state)
        cards = list(grid.cards.values())
        refreshes = count_refreshes(monkeypatch, cards)
        rendered: list[tuple[str, int]] = []
        for card in cards:
            original = card.render_line
            monkeypatch.setattr(card, "render_line",
                                lambda y, _c=card, _o=original: rendered.append((_c.agent_name, y)) or _o(y))

        assert grid.sync(state, NOW) == 0  # nothing changed: nothing repaints
        await pilot.pause()
        assert not refreshes and not rendered

        card = grid.cards["agent-03"]
        first = 24 - (card.size.height - 1)  # screen row shown on the card's line 1
        state.agents["agent-03"].screen[first + 2] = "\x1b[31mnew output"
        assert grid.sync(state, NOW) == 1
        await pilot.pause()
        assert set(refreshes) == {"agent-03"}
        assert rendered == [("agent-03", 3)]
        assert card.render_line(3).text.startswith("new output")


async def test_time_in_status_repaints_the_title_once_a_second() -> None:
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, (state := make_state(2)))
        card = grid.cards["agent-00"]
        assert not card.update_agent(state.agents["agent-00"], NOW + 0.5)
        assert card.update_agent(state.agents["agent-00"], NOW + 1.0)
        assert card.render_line(0).text.rstrip().endswith("3m13s")


async def test_an_exited_agent_waiting_for_a_restart_says_when() -> None:
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, (state := make_state(1)))
        agent = state.agents["agent-00"]
        agent.alive, agent.status, agent.restart_at = False, "exited", NOW + 7.5
        card = grid.cards["agent-00"]
        assert card.update_agent(agent, NOW)
        assert card.render_line(0).text.rstrip().endswith("restart in 8s")
        assert card.update_agent(agent, NOW + 7.6)  # due: the restart is under way
        assert "restart in" not in card.render_line(0).text


async def test_status_changes_move_the_class() -> None:
    state = make_state(1)
    agent = state.agents["agent-00"]
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, state)
        card = grid.cards["agent-00"]
        for status, classes in [("stalled", {"-stalled"}), ("made up!", set()), ("exited", {"-exited"})]:
            agent.status = status
            assert card.update_agent(agent, NOW)
            assert {c for c in card.classes if c.startswith("-")} == classes
            assert status.upper() in card.render_line(0).text


async def test_scrolled_pane_carries_colour_from_hidden_rows() -> None:
    state = make_state(1)
    agent = state.agents["agent-00"]
    agent.screen = ["\x1b[32mgreen starts here", *(f"still green {i}" for i in range(23))]
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, state)
        card = grid.cards["agent-00"]
        styles = [s.style for s in card.render_line(1) if s.text.strip()]
        assert styles and all(style.color == Color.from_ansi(2) for style in styles)


async def test_blank_rows_at_the_bottom_are_skipped() -> None:
    state = make_state(1)
    state.agents["agent-00"].screen = ["$ make", "ok", *([""] * 22)]
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, state)
        card = grid.cards["agent-00"]
        assert [card.render_line(y).text.strip() for y in (1, 2, 3)] == ["$ make", "ok", ""]


async def test_focus_is_marked_and_moves_between_neighbours() -> None:
    async with GridApp().run_test(size=(80, 40)) as pilot:
        grid = await start(pilot, make_state(5))
        assert grid.focused_agent() is None
        assert grid.focus_neighbour(1, 0) == "agent-00"  # nothing focused: the first card
        await pilot.pause()
        first, second = grid.cards["agent-00"], grid.cards["agent-01"]
        assert first.has_focus and grid.focused_agent() == "agent-00"
        assert first.styles.border_top[0] == "heavy" and second.styles.border_top[0] == "round"

        moves = [((1, 0), "agent-01"), ((1, 0), "agent-01"), ((0, 1), "agent-03"),
                 ((-1, 0), "agent-02"), ((0, 5), "agent-04"), ((0, -9), "agent-00")]
        for (dx, dy), expected in moves:
            assert grid.focus_neighbour(dx, dy) == expected
        await pilot.pause()
        assert grid.focused_agent() == "agent-00"
        assert grid.cards["agent-00"].has_focus


async def test_compact_mode_fits_30_agents_at_80x24() -> None:
    state = make_state(30)
    state.agents["agent-07"].screen[-1] = "last \x1b[1mline"
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = pilot.app.query_one(AgentGrid)
        grid.set_compact(True)
        grid.sync(state, NOW)
        await pilot.pause()
        screen = pilot.app.screen.region
        for name, card in grid.cards.items():
            assert card.region.height == 1
            assert screen.contains_region(card.region), name
            assert card.render_line(0).text.startswith(name)
        line = grid.cards["agent-07"].render_line(0).text
        assert "WORKING" in line and "T-7" in line and "last line" in line
        state.agents["agent-07"].screen[0] = "a row the compact card does not show"
        assert grid.sync(state, NOW) == 0

        grid.set_compact(False)  # back to full cards: the pane rows come back
        await pilot.pause()
        assert grid.cards["agent-07"].render_line(grid.cards["agent-07"].size.height - 1).text.startswith(
            "last line")


def test_elapsed() -> None:
    assert [elapsed(s) for s in (-3, 0, 59.9, 192, 3600 + 300, 3 * 86400 + 4 * 3600)] == [
        "0s", "0s", "59s", "3m12s", "1h05m", "3d04h"]
