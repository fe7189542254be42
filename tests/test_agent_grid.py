"""AgentGrid and AgentCard in a headless app: layout, minimal repaints, focus, compact mode."""

from __future__ import annotations

from collections import Counter

import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from fleet_tui.core.state import AgentState, FleetState
from fleet_tui.core.summary import elapsed
from fleet_tui.ui.agent_card import AgentCard
from fleet_tui.ui.agent_grid import (
    CARD_CHROME_HEIGHT,
    MIN_CARD_LINES,
    MIN_CARD_WIDTH,
    AgentGrid,
    GridPlan,
    plan_grid,
)

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


def count_refreshes(monkeypatch: pytest.MonkeyPatch, grid: AgentGrid) -> Counter[str]:
    """Count the grid's repaints of each card."""
    calls: Counter[str] = Counter()
    original = grid.refresh_card

    def counted(card: AgentCard, rows: set[int] | None) -> None:
        calls[card.agent_name] += 1
        original(card, rows)

    monkeypatch.setattr(grid, "refresh_card", counted)
    return calls


async def test_cards_appear_with_title_and_pane() -> None:
    state = make_state(4)
    state.agents["agent-02"].status = "waiting"
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = await start(pilot, state)
        assert not grid.children  # one widget draws every card
        cards = list(grid.cards.values())
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


@pytest.mark.parametrize(("width", "height", "count", "columns", "rows"), [
    (200, 55, 1, 1, (55,)),  # one agent fills the area
    (200, 55, 3, 3, (55,)),  # three share the full width
    (80, 19, 4, 2, (10, 9)),  # 80x24 with a few agents: cards with 6 lines of output
    (120, 35, 8, 2, (9, 9, 9, 8)),
    (200, 55, 30, 6, (11,) * 5),
])
def test_the_plan_fills_the_area(width: int, height: int, count: int, columns: int,
                                 rows: tuple[int, ...]) -> None:
    plan = plan_grid(width, height, count)
    assert plan == GridPlan(columns, rows, compact=False)
    assert sum(plan.row_heights) == height and len(rows) * columns >= count
    assert min(plan.row_heights) - CARD_CHROME_HEIGHT >= MIN_CARD_LINES
    assert width // columns >= MIN_CARD_WIDTH


def test_the_plan_is_for_the_panes_the_agents_have() -> None:
    # 60x12 panes: 2x2 cards (78x18 inside) show them whole; 4 columns of 38 would cut them.
    assert plan_grid(160, 43, 4, pane=(60, 12)) == GridPlan(2, (22, 21), compact=False)
    assert plan_grid(160, 43, 4).columns == 4  # 120x40 panes: tall cards show more rows


@pytest.mark.parametrize(("width", "height", "count", "columns"), [
    (80, 19, 8, 1), (80, 19, 30, 2), (200, 55, 200, 4)])
def test_the_compact_list_only_when_cards_get_too_few_lines(width: int, height: int, count: int,
                                                            columns: int) -> None:
    plan = plan_grid(width, height, count)
    assert plan == GridPlan(columns, (1,), compact=True)
    for cards in range(1, width // MIN_CARD_WIDTH + 1):
        assert height // -(-count // cards) - CARD_CHROME_HEIGHT < MIN_CARD_LINES


@pytest.mark.parametrize(("size", "count", "columns"), [
    ((80, 24), 4, 2), ((200, 60), 3, 3), ((200, 60), 30, 6), ((120, 40), 1, 1)])
async def test_cards_fill_the_grid(size: tuple[int, int], count: int, columns: int) -> None:
    async with GridApp().run_test(size=size) as pilot:
        grid = await start(pilot, make_state(count))
        assert grid.columns == columns and not grid.has_class("-compact")
        regions = [card.region for card in grid.cards.values()]
        assert sum(r.width for r in regions[:columns]) == size[0]
        assert max(r.bottom for r in regions) == size[1]
        for card in grid.cards.values():  # every card shows the bottom of its pane
            lines = card.size.height - 1
            assert lines >= MIN_CARD_LINES
            assert card.render_line(min(lines, 24)).text.startswith(f"{card.agent_name} row 23")


async def test_cards_draw_for_the_size_they_have_when_drawn() -> None:
    state = make_state(2)
    async with GridApp().run_test(size=(200, 60)) as pilot:
        grid = pilot.app.query_one(AgentGrid)
        grid.sync(state, NOW)  # the cards take their data before they have a size
        card = grid.cards["agent-01"]
        await pilot.resize_terminal(80, 20)
        await pilot.pause()
        height = card.size.height
        assert 1 + MIN_CARD_LINES <= height < 24
        shown = [card.render_line(y).text.split(" row ")[-1].strip() for y in range(1, height)]
        assert shown == [str(row) for row in range(24 - (height - 1), 24)]
async def test_agents_added_and_removed() -> None:
    state = make_state(3)
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, state)
        del state.agents["agent-01"]
        state.agents["new"] = AgentState(name="new", status="idle")
        grid.sync(state, NOW)
        await pilot.pause()
        assert list(grid.cards) == ["agent-00", "agent-02", "new"]


async def test_only_the_changed_card_and_row_repaint(monkeypatch: pytest.MonkeyPatch) -> None:
    state = make_state(6)
    async with GridApp().run_test(size=(120, 40)) as pilot:
        grid = await start(pilot, state)
        cards = list(grid.cards.values())
        refreshes = count_refreshes(monkeypatch, grid)
        rendered: list[tuple[str, int]] = []
        for card in cards:
            original = card.content_line
            monkeypatch.setattr(card, "content_line",
                                lambda y, _c=card, _o=original: rendered.append((_c.agent_name, y)) or _o(y))
        painted: list[int] = []  # the grid's lines drawn
        paint = grid.render_line
        monkeypatch.setattr(grid, "render_line", lambda y: painted.append(y) or paint(y))

        assert grid.sync(state, NOW) == 0  # nothing changed: nothing repaints
        await pilot.pause()
        assert not refreshes and not rendered and not painted

        card = grid.cards["agent-03"]
        first = 24 - (card.size.height - 1)  # screen row shown on the card's line 1
        state.agents["agent-03"].screen[first + 2] = "\x1b[31mnew output"
        assert grid.sync(state, NOW) == 1
        await pilot.pause()
        assert set(refreshes) == {"agent-03"}
        assert rendered == [("agent-03", 3)]
        assert painted == [card.slot.y + 1 + 3]  # one line of the grid, the others from cache
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
    async with GridApp().run_test(size=(80, 27)) as pilot:
        grid = await start(pilot, make_state(5))
        assert grid.columns == 2
        assert grid.focused_agent() is None
        assert grid.focus_neighbour(1, 0) == "agent-00"  # nothing focused: the first card
        await pilot.pause()
        first, second = grid.cards["agent-00"], grid.cards["agent-01"]
        assert first.has_focus and grid.focused_agent() == "agent-00"
        assert first.border == "heavy" and second.border == "round"

        moves = [((1, 0), "agent-01"), ((1, 0), "agent-01"), ((0, 1), "agent-03"),
                 ((-1, 0), "agent-02"), ((0, 5), "agent-04"), ((0, -9), "agent-00")]
        for (dx, dy), expected in moves:
            assert grid.focus_neighbour(dx, dy) == expected
        await pilot.pause()
        assert grid.focused_agent() == "agent-00"
        assert grid.cards["agent-00"].has_focus


async def test_compact_list_fits_30_agents_at_80x24() -> None:
    state = make_state(30)
    state.agents["agent-07"].screen[-1] = "last \x1b[1mline"
    state.agents["agent-08"].status = "waiting"
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = await start(pilot, state)
        assert grid.has_class("-compact") and grid.columns == 2
        screen = pilot.app.screen.region
        for name, card in grid.cards.items():
            assert card.region.height == 1
            assert screen.contains_region(card.region), name
            assert card.render_line(0).text.startswith(name)
        line = grid.cards["agent-07"].render_line(0).text
        assert "WORKING" in line and "T-7" in line and "last line" in line
        state.agents["agent-07"].screen[0] = "a row the compact card does not show"
        assert grid.sync(state, NOW) == 0

        waiting = grid.cards["agent-08"]  # focused and waiting: still its row, not a border
        grid.focus_agent("agent-08")
        await pilot.pause()
        assert waiting.has_focus and waiting.border == "" and waiting.size.height == 1
        assert waiting.render_line(0).text.startswith("agent-08") and "WAITING" in waiting.render_line(0).text

        await pilot.resize_terminal(200, 60)  # room for cards: the pane rows come back
        await pilot.pause()
        card = grid.cards["agent-07"]
        assert not grid.has_class("-compact") and card.size.height > 1 + MIN_CARD_LINES
        assert card.render_line(card.size.height - 1).text.startswith("last line")


async def test_long_rows_are_marked_and_a_waiting_agent_shows_their_end() -> None:
    state = make_state(1, rows=4)
    agent = state.agents["agent-00"]
    question = "Apply edit to src/app.py? " + "x" * 150 + " (Y)es/(N)o [Yes]: "
    agent.screen = ["\x1b[32m" + "a" * 200, question]
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = await start(pilot, state)
        card = grid.cards["agent-00"]
        width = card.size.width
        first, last = card.render_line(1).text, card.render_line(2).text
        assert first == "a" * (width - 1) + "…" and last.startswith("Apply edit") and last.endswith("…")
        agent.status = "waiting"
        assert card.update_agent(agent, NOW)
        await pilot.pause()
        last = card.render_line(2).text
        assert last.startswith("…") and last.endswith("(Y)es/(N)o [Yes]:") and len(last) == width


@pytest.mark.parametrize(("code", "signal", "label"), [
    (1, "", "EXITED 1"), (127, "", "EXITED 127 not found"), (None, "SIGKILL", "EXITED SIGKILL"),
    (143, "", "EXITED 143 SIGTERM"), (None, "", "EXITED")])
async def test_an_exited_card_says_how_and_shows_its_last_output(code: int | None, signal: str,
                                                                 label: str) -> None:
    state = make_state(1, rows=4)
    agent = state.agents["agent-00"]
    agent.screen = ["Unable to connect to Anthropic services", "", "",
                    "Pane is dead (status 1, Sun Nov 29 17:00:00 2026)"]
    agent.status, agent.alive, agent.exit_code, agent.exit_signal = "exited", False, code, signal
    async with GridApp().run_test(size=(80, 24)) as pilot:
        card = (await start(pilot, state)).cards["agent-00"]
        assert f" {label} " in card.render_line(0).text
        shown = [card.render_line(y).text.strip() for y in range(1, card.size.height)]
        assert shown[0] == "Unable to connect to Anthropic services"
        assert not any(shown[1:]) and "Pane is dead" not in "".join(shown)


def test_elapsed() -> None:
    assert [elapsed(s) for s in (-3, 0, 59.9, 192, 3600 + 300, 3 * 86400 + 4 * 3600)] == [
        "0s", "0s", "59s", "3m12s", "1h05m", "3d04h"]


async def test_a_remote_agent_s_card_shows_its_host_and_when_it_is_unreachable() -> None:
    async with GridApp().run_test() as pilot:
        grid = await start(pilot, (state := make_state(1)))
        agent = state.agents["agent-00"]
        agent.host, agent.status, agent.unreachable = "gpu", "unreachable", True
        card = grid.cards["agent-00"]
        assert card.update_agent(agent, NOW)
        title = card.render_line(0).text
        assert title.startswith("agent-00@gpu") and "UNREACHABLE" in title
        assert card.has_class("-unreachable")
async def test_a_click_focuses_the_card_under_it() -> None:
    async with GridApp().run_test(size=(80, 27)) as pilot:
        grid = await start(pilot, make_state(5))
        card = grid.cards["agent-03"]
        region = card.region
        assert await pilot.click(AgentGrid, offset=(region.x + 3, region.y + 2))
        await pilot.pause()
        assert grid.focused_agent() == "agent-03" and card.border == "heavy"
        assert grid.cards["agent-00"].border == "round"


async def test_a_long_compact_list_scrolls_to_the_focused_card() -> None:
    state = make_state(60)
    async with GridApp().run_test(size=(80, 24)) as pilot:
        grid = await start(pilot, state)
        assert grid.has_class("-compact") and grid.columns == 2
        assert grid.virtual_size.height == 30 > grid.size.height
        last = grid.cards["agent-59"]
        assert not pilot.app.screen.region.contains_region(last.region)
        assert grid.focus_neighbour(0, 0) == "agent-00"
        assert grid.focus_neighbour(1, 99) == "agent-59"
        await pilot.pause()
        assert pilot.app.screen.region.contains_region(last.region)
        strip = grid.render_line(last.region.y)  # the line on screen is the card's row
        assert last.region.x == grid.content_region.x + grid.size.width // 2 - 1
        assert "agent-59" in strip.text and "agent-58" in strip.text
