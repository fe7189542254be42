"""Watching what the app writes: a Textual driver that renders every frame for a terminal,
discards it (counting frames and bytes), and tells the bench scripts when a frame first meets
a condition: some text at a place (a card's badge), or anywhere (a note on the timeline).

Imported as ``frames`` (the scripts run as ``python bench/<name>.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from common import CSI, DiscardingDriver, row_cells
from ui import runqueue_wait


class Watch:
    """One condition on the frames; ``at`` is when the first frame meeting it was written,
    ``wall`` the same by the wall clock, ``cpu`` and ``wait`` the loop thread's CPU time and
    its wait for a CPU then."""

    def __init__(self, test: Callable[[str], bool]) -> None:
        self.test = test
        self.seen = asyncio.Event()
        self.at = self.wall = self.cpu = self.wait = 0.0


class FrameDriver(DiscardingDriver):
    """Renders for a terminal, discards the output, and checks each frame against the
    watches (on the app's event loop). Times are ``time.monotonic``, as ``latency.emit``'s."""

    watches: list[Watch] = []
    current: FrameDriver | None = None
    frames = 0

    def start_application_mode(self) -> None:
        super().start_application_mode()
        FrameDriver.current = self

    @classmethod
    def watch(cls, test: Callable[[str], bool]) -> Watch:
        watch = Watch(test)
        cls.watches.append(watch)
        return watch

    @classmethod
    async def wait(cls, watch: Watch, timeout: float) -> bool:
        """Whether a frame met ``watch`` within ``timeout`` seconds (else it is dropped)."""
        try:
            await asyncio.wait_for(watch.seen.wait(), timeout=timeout)
            return True
        except TimeoutError:
            cls.watches.remove(watch)
            return False

    def write(self, data: str) -> None:
        super().write(data)
        FrameDriver.frames += 1
        now = time.monotonic(), time.time(), time.thread_time(), runqueue_wait()
        for watch in list(self.watches):
            if watch.test(data):
                watch.at, watch.wall, watch.cpu, watch.wait = now
                watch.seen.set()
                self.watches.remove(watch)


def written_text(x: int, y: int, length: int) -> Callable[[str], str]:
    """What a frame writes from column ``x`` of row ``y`` ("" unless all ``length`` cells)."""
    def text(data: str) -> str:
        cells = row_cells(data, y)
        chars = [cells.get(x + i) for i in range(length)]
        return "" if None in chars else "".join(chars)  # type: ignore[arg-type]
    return text


def plain_text_has(needle: str) -> Callable[[str], bool]:
    return lambda data: needle in CSI.sub("", data)
