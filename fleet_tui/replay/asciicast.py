"""One agent's pane as an asciicast v2 recording (asciinema's format), from the session log.

The pane is rebuilt by the fold itself (the agent's own events into a private state), so it is
exactly the screen replay shows. Each change becomes an ``[time, "o", data]`` line: a full
redraw (clear, then every row) for the first screen, keyframes and screens that shrank, else
only the rows that changed, each placed with a cursor-position escape and cleared first. Rows
keep only their SGR colour codes (``core.sanitize.pane_text``): a log's other escapes never reach
the player's terminal. Times are seconds since the agent's first event, never decreasing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold
from fleet_tui.core.sanitize import pane_text, safe_line, strip_ansi
from fleet_tui.core.screen import diff_screens
from fleet_tui.core.state import FleetState

DEFAULT_SIZE = (80, 24)
_RESET = "\x1b[0m"
_CLEAR = "\x1b[0m\x1b[2J\x1b[H"
_HIDE_CURSOR = "\x1b[?25l"


def _rows(changes: Iterable[tuple[int, str]]) -> str:
    return "".join(f"\x1b[{row + 1};1H{_RESET}\x1b[2K{pane_text(text)}{_RESET}" for row, text in changes)


def asciicast_lines(events: Iterable[ev.Event | ev.UnknownEvent], agent: str, *,
                    title: str = "") -> list[str]:
    """The recording, one JSON document a line (header first). Raises ``ValueError`` naming the
    agents there are when ``agent`` is not one of them."""
    state = FleetState()
    seen: dict[str, None] = {}
    frames: list[tuple[float, str]] = []
    start: float | None = None
    clock = 0.0
    screen: list[str] = []
    width = height = 0
    for event in events:
        name = getattr(event, "agent", None)
        if isinstance(event, ev.AgentSpawned):
            seen[event.agent] = None
        if name != agent:
            continue
        fold(state, event)
        me = state.agents.get(agent)
        if me is None:
            continue
        start = event.ts if start is None else start
        clock = max(clock, event.ts - start)
        width, height = max(width, me.width), max(height, len(me.screen))
        if me.screen == screen:
            continue
        full = not frames or len(me.screen) < len(screen) or getattr(event, "keyframe", False)
        if full:
            data = (_HIDE_CURSOR if not frames else "") + _CLEAR + _rows(enumerate(me.screen))
        else:
            data = _rows(diff_screens(screen, me.screen))
        frames.append((clock, data))
        width = max([width, *(len(strip_ansi(row)) for row in me.screen)])
        screen = list(me.screen)
    if start is None:
        known = ", ".join(seen) or "none"
        raise ValueError(f"no agent {agent!r} in this log (agents: {known})")
    header = {
        "version": 2,
        "width": width or DEFAULT_SIZE[0],
        "height": height or DEFAULT_SIZE[1],
        "timestamp": int(start),
        "title": safe_line(title or agent),
        "env": {"TERM": "xterm-256color"},
    }
    return [json.dumps(header), *(json.dumps([round(t, 6), "o", data]) for t, data in frames)]
