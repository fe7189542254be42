"""The zoom view's PaneView in a headless app: it opens at the latest row and follows it."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from fleet_tui.ui.zoom import PaneView
from tests.helpers import pilot_until

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class ZoomApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PaneView()


async def test_opens_at_the_latest_row_and_stays_put_while_reading_back() -> None:
    rows = [f"\x1b[32mrow {i}" for i in range(500)]
    async with ZoomApp().run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(PaneView)
        view.set_rows(rows)
        await pilot_until(pilot, lambda: view.render_line(23).text.startswith("row 499"),
                          message="the last row at the bottom")
        assert view.scroll_y == view.max_scroll_y == 500 - 24

        view.set_rows([*rows, "row 500"])  # at the bottom: follows new rows
        await pilot_until(pilot, lambda: view.render_line(23).text.startswith("row 500"),
                          message="the new row at the bottom")

        view.scroll_page_up(animate=False)
        await pilot.pause()
        top = view.scroll_y
        assert top < view.max_scroll_y
        view.set_rows([*rows, "row 500", "row 501"])  # reading back: stays put
        await pilot.pause()
        assert view.scroll_y == top
