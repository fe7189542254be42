"""The timeline follows new events while at the bottom and stays put while the user reads up."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from fleet_tui.core import events as ev
from fleet_tui.ui.timeline import Timeline

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Timeline()


def _events(n: int) -> list[ev.Event]:
    return [ev.TaskNote(task=f"T{i}", text=f"note {i}", seq=i + 1, ts=1.0 + i) for i in range(n)]


async def test_follows_live_and_holds_while_reading_back() -> None:
    app = TimelineApp()
    async with app.run_test(size=(80, 10)) as pilot:
        timeline = app.query_one(Timeline)
        for n in (3, 8, 30, 60):  # grows past the height, then keeps growing
            timeline.sync(_events(n))
            await pilot.pause()
            assert timeline.max_scroll_y > 0 or n < 10
            assert timeline.scroll_y == timeline.max_scroll_y, f"following at {n} events"
        timeline.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        timeline.sync(_events(80))
        await pilot.pause()
        assert timeline.scroll_y == 0  # the reader keeps their place
        timeline.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        timeline.sync(_events(90))
        await pilot.pause()
        assert timeline.scroll_y == timeline.max_scroll_y  # back at the bottom: following again
