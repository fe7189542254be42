"""ReplayBar: the replay's status rows: a REPLAY marker, play/pause, the replay time against the
session's span, the speed, idle skipping, the current event, and a progress bar of the session's
time with a tick per stretch where events happened (denser stretches, taller ticks; trouble
events in red)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

from fleet_tui.replay.cursor import ReplayCursor

_TICKS = " ▁▂▃▄▅▆▇█"


def clock_text(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class ReplayBar(Widget):
    DEFAULT_CSS = """
    ReplayBar { height: 2; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, cursor: ReplayCursor, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cursor = cursor
        self.playing = False
        self.speed = 1.0
        self.skip_idle = False
        self._ticks: tuple[int, list[int], list[int]] = (0, [], [])

    def _tick_counts(self, width: int) -> tuple[list[int], list[int]]:
        if self._ticks[0] != width:
            cursor = self.cursor
            self._ticks = (width, cursor.ticks(width), cursor.ticks(width, cursor.index.trouble))
        return self._ticks[1], self._ticks[2]

    def render(self) -> Text:
        cursor = self.cursor
        width = self.size.width
        start, end = cursor.start_time, cursor.end_time
        state = "▶ playing" if self.playing else "❚❚ paused"
        at = time.strftime("%H:%M:%S", time.localtime(cursor.clock)) if cursor.clock else "--:--:--"
        line = Text.assemble(
            (" REPLAY ", "bold reverse red"), " ", (state, "bold"),
            f"  {clock_text(cursor.clock - start)} / {clock_text(end - start)}  ({at})",
            f"  x{self.speed:g}", ("  skip idle" if self.skip_idle else "", "italic"),
            f"  event {cursor.position}/{len(cursor)}",
            ("  space play  +/- speed  ←/→ step  : seek  ? keys", "dim"),
            no_wrap=True, overflow="ellipsis",
        )
        counts, trouble = self._tick_counts(width)
        peak = max(counts, default=0) or 1
        played = int((cursor.clock - start) / (end - start) * width) if end > start else width
        bar = Text(no_wrap=True)
        for i, n in enumerate(counts):
            char = _TICKS[min(8, -(-n * 8 // peak))] if n else "─"
            bar.append(char, style="bold red" if trouble[i] else ("green" if i < played else "dim"))
        if 0 <= played < width:
            bar.stylize("reverse", played, played + 1)
        return Text("\n").join([line, bar])
