"""Test helpers: polling instead of sleeps, and what "the app has drawn everything" means."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from fleet_tui.ui.agent_grid import AgentGrid, plan_grid

T = TypeVar("T")


def retry_until(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.02,
                message: str = "condition") -> T:
    """Call ``check`` until it returns something truthy; return that. Fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; last: {last!r}")
        time.sleep(interval)
        last = check()
    return last


async def async_retry_until(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.05,
                            message: str = "condition") -> T:
    """``retry_until`` in an async test: polls without holding up the event loop."""
    deadline = time.monotonic() + timeout
    while not (last := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; last: {last!r}")
        await asyncio.sleep(interval)
    return last


async def pilot_until(pilot, check: Callable[[], object], tries: int = 300,
                      message: str = "condition") -> None:
    """In a Pilot test: let the app run until ``check()`` is truthy (fails after ``tries``
    pauses of 50 ms, naming ``message``)."""
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {tries * 0.05:.0f}s waiting for {message}")


def grid_drawn(app) -> bool:
    """Whether the app's grid holds a card for every agent, each with its data, laid out for
    the grid's current size and number of cards (the compositor has placed every card where
    that layout puts it). Cards draw from the size they have, so what follows is final."""
    grid = app.main.query_one(AgentGrid)
    cards = list(grid.cards.values())
    if list(grid.cards) != list(app.fleet.state.agents) or not grid.size.area:
        return False
    plan = grid.plan
    if cards and plan != plan_grid(grid.size.width, grid.size.height, len(cards), grid.pane_size):
        return False
    for index, card in enumerate(cards):
        row = index // plan.columns
        if not card.region.area or card.region.height != plan.row_heights[row % len(plan.row_heights)]:
            return False
        if not card.render_line(0).text.startswith(card.agent_name):
            return False
    return True


async def type_text(pilot, text: str) -> None:
    """Type ``text`` into the focused widget, key by key, as a user would."""
    await pilot.press(*("space" if c == " " else c for c in text))


async def app_drawn(pilot) -> None:
    """Wait (bounded) until the FleetApp under ``pilot`` has drawn every agent at its size."""
    await pilot_until(pilot, lambda: grid_drawn(pilot.app), message="every card sized and drawn")
    await pilot.pause()
