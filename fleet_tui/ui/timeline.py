"""The event timeline: every event but pane output, newest at the bottom, following live.

A Line-API ScrollView over the FleetState's bounded timeline: rows are formatted only when
drawn. It follows the newest event while scrolled to the bottom, and stays put while the user
reads further up. ``set_filter`` keeps rows whose agent or type contain the given words
(``agent:dev``, ``type:task``, or a bare word matching either); a word naming an agent on a
remote host also keeps that host's events (its link dropping and coming back, its alert).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import AgentState
from fleet_tui.core.summary import host_of, subject, summarize

TYPE_STYLE = {
    "error": Style(color="red", bold=True),
    "alert": Style(color="yellow", bold=True),
    "approval": Style(color="magenta"),
    "task": Style(color="cyan"),
    "agent": Style(color="green"),
    "cost": Style(color="blue"),
}


def matches(event: ev.Event, words: Sequence[str], hosts: Mapping[str, str] | None = None) -> bool:
    """Whether ``event`` passes every (lower-case) word of a filter. ``hosts`` (each remote
    agent's host) lets a word naming an agent pass its host's events too."""
    who = subject(event).lower()
    kind = event.type_name
    host = host_of(event)
    # the agents on the host the event is about: a word naming one of them names it too
    if host:
        who = " ".join([who, *(name.lower() for name, on in (hosts or {}).items() if on == host)])
    for word in words:
        key, _, value = word.partition(":")
        if value and key == "agent" and value not in who:
            return False
        if value and key == "type" and value not in kind:
            return False
        if not value and word not in who and word not in kind:
            return False
    return True


class Timeline(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    Timeline { height: 1fr; background: $surface; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._events: list[ev.Event] = []
        self._words: list[str] = []
        self._hosts: dict[str, str] = {}
        self._seen_seq = -1
        self._source: Sequence[ev.Event] = ()
        self._follow = True
        self._scrolling = False

    @property
    def filter_text(self) -> str:
        return " ".join(self._words)

    def set_filter(self, text: str) -> None:
        self._words = text.lower().split()
        self._rebuild()

    def sync(self, timeline: Sequence[ev.Event], agents: Mapping[str, AgentState] | None = None) -> None:
        """Take the state's timeline (and its agents, for their hosts); redraw only if it has
        something new."""
        last = timeline[-1].seq if timeline else -1
        hosts = {name: a.host for name, a in (agents or {}).items() if a.host}
        if last == self._seen_seq and len(self._source) == len(timeline) and hosts == self._hosts:
            return
        self._source = timeline
        self._hosts = hosts
        self._seen_seq = last
        self._rebuild()

    def _rebuild(self) -> None:
        # Hidden (another tab) has no size, and a scroll to the end waits for the new size to
        # be laid out: in both cases keep the last decision.
        if self.size.height and not self._scrolling:
            self._follow = self.scroll_y >= self.max_scroll_y - 1
        words = self._words
        self._events = [e for e in self._source if not words or matches(e, words, self._hosts)]
        self.virtual_size = Size(self.size.width, len(self._events))
        self.refresh()
        if self._follow:
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        self._scrolling = True
        self.call_after_refresh(self._at_end)

    def _at_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._scrolling = False

    def on_show(self) -> None:
        if self._follow:
            self._scroll_to_end()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= len(self._events):
            return Strip.blank(width, self.rich_style)
        event = self._events[index]
        kind = event.type_name
        when = time.strftime("%H:%M:%S", time.localtime(event.ts)) if event.ts else "--:--:--"
        style = TYPE_STYLE.get(kind.split(".")[0], Style())
        base = self.rich_style
        source = [Segment(f"{safe_line(event.source)[:14]:<14} ", base)] if width >= 110 else []
        segments = [
            Segment(f"{when} ", base + Style(dim=True)),
            *source,
            Segment(f"{kind:<18} ", base + style),
            Segment(f"{subject(event)[:12]:<12} ", base + Style(bold=True)),
            Segment(summarize(event), base),
        ]
        return Strip(segments).crop_extend(0, width, base)
