"""Test helpers: polling instead of sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

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


async def pilot_until(pilot, check: Callable[[], object], tries: int = 300) -> None:
    """In a Pilot test: let the app run until ``check()`` is truthy (fails after ``tries``
    pauses of 50 ms)."""
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")
