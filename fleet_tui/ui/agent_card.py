"""AgentCard: one agent's live tile in the grid (Line API widget with cached Strips).

Owns how an agent looks: a title row (name, status badge, task, role and model, time in
status) above the last rows of its pane in the agent's own colours. When the card is one row
high (the grid's compact mode) that row is the title followed by the last line of output.

``update_agent`` compares what the card would show with what it shows and refreshes only
the rows that changed (all of them when the pane scrolled); ``render_line`` returns Strips
from a cache that is dropped only for changed rows, on resize and on style changes.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from fleet_tui.core.screen import strip_ansi
from fleet_tui.core.state import STATUSES, AgentState
from fleet_tui.ui.ansi import AnsiRenderer

#: In compact mode names are padded to this many cells so the badges line up.
COMPACT_NAME_WIDTH = 10


def elapsed(seconds: float) -> str:
    """A short duration: 45s, 3m12s, 2h05m, 3d04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


class AgentCard(Widget, can_focus=True):
    """One agent: title row and the bottom of its pane. Status shows as a class (``-waiting``)."""

    COMPONENT_CLASSES = {
        "agent-card--name",
        "agent-card--task",
        "agent-card--meta",
        "agent-card--time",
        "agent-card--badge",
        *(f"agent-card--badge-{status}" for status in STATUSES),
    }

    DEFAULT_CSS = """
    AgentCard {
        width: 1fr;
        height: 1fr;
        border: round $panel-lighten-2;
        background: $surface;
    }
    AgentCard.-exited, AgentCard.-lost, AgentCard.-done { border: dashed $panel-lighten-2; }
    AgentCard:focus { border: heavy $primary; background: $boost; }
    AgentCard.-waiting { border: round $warning; }
    AgentCard.-waiting:focus { border: heavy $warning; }
    AgentCard.-stalled { border: round $error; }
    AgentCard.-stalled:focus { border: heavy $error; }

    AgentCard > .agent-card--name { text-style: bold; }
    AgentCard > .agent-card--task { color: $accent; text-style: bold; }
    AgentCard > .agent-card--meta { color: $text-muted; }
    AgentCard > .agent-card--time { color: $text-muted; }
    AgentCard > .agent-card--badge { background: $panel-lighten-2; color: auto 90%; text-style: bold; }
    AgentCard > .agent-card--badge-starting { background: $secondary; }
    AgentCard > .agent-card--badge-working { background: $success; }
    AgentCard > .agent-card--badge-idle { background: $primary 60%; }
    AgentCard > .agent-card--badge-waiting { background: $warning; }
    AgentCard > .agent-card--badge-stalled { background: $error; }
    AgentCard > .agent-card--badge-paused { background: $secondary 60%; }
    AgentCard > .agent-card--badge-exited { background: $panel-lighten-2; }
    AgentCard > .agent-card--badge-lost { background: $error 60%; }
    AgentCard > .agent-card--badge-done { background: $success 50%; }
    """

    def __init__(self, agent_name: str, renderer: AnsiRenderer) -> None:
        super().__init__()
        self.agent_name = agent_name
        self._renderer = renderer
        self._status = ""
        #: What the title row shows: (name, role, model, status, task, time in status).
        self._title: tuple[str, ...] = ()
        self._screen: tuple[str, ...] = ()
        #: The pane rows shown, uncropped, top to bottom.
        self._pane: list[Strip] = []
        #: Rendered rows by y, for ``_width``.
        self._lines: dict[int, Strip] = {}
        self._width = 0
        self._base_style: Style | None = None

    # Data -----------------------------------------------------------------------------------

    def update_agent(self, agent: AgentState, now: float) -> bool:
        """Take the agent's latest data; refresh (only the changed rows) and return True if
        anything visible changed."""
        status = agent.status
        if status != self._status:  # an unknown status gets no class (and the plain badge)
            if self._status in STATUSES:
                self.remove_class(f"-{self._status}")
            if status in STATUSES:
                self.add_class(f"-{status}")
            self._status = status
        since = elapsed(now - agent.status_since) if agent.status_since else ""
        title = (agent.name, agent.role, agent.shown_model, status, agent.task or "", since)
        dirty: set[int] = set()
        if title != self._title:
            self._title = title
            dirty.add(0)
        screen = tuple(agent.screen)
        if screen != self._screen:
            self._screen = screen
            dirty |= self._layout_pane()
        if dirty:
            for y in dirty:
                self._lines.pop(y, None)
            height, width = self.size.height, self.size.width
            if width and len(dirty) <= height // 2:
                self.refresh(*(Region(0, y, width, 1) for y in dirty))
            else:
                self.refresh()
        return bool(dirty)

    def _layout_pane(self) -> set[int]:
        """Choose and render the pane rows that fit (the last ones, ignoring blank rows at the
        bottom); return the y of each row that changed."""
        one_row = self.size.height <= 1
        count = 1 if one_row else self.size.height - 1
        screen = self._screen
        end = len(screen)
        while end and not strip_ansi(screen[end - 1]).strip():
            end -= 1
        start = max(0, end - count)
        state = self._renderer.state_after(screen[:start])
        pane, _ = self._renderer.render(screen[start:end], state=state)
        old, self._pane = self._pane, pane
        if one_row:
            return {0} if old[-1:] != pane[-1:] else set()
        return {
            i + 1
            for i in range(max(len(old), len(pane)))
            if i >= len(old) or i >= len(pane) or old[i] != pane[i]
        }

    def on_resize(self, event: events.Resize) -> None:
        self._layout_pane()
        self._lines.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._base_style = None

    @property
    def _base(self) -> Style:
        """``rich_style`` walks every ancestor; it changes only with a style update."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    # Rendering ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width:
            self._lines.clear()
            self._width = width
        strip = self._lines.get(y)
        if strip is None:
            strip = self._lines[y] = self._build_line(y, width)
        return strip

    def _build_line(self, y: int, width: int) -> Strip:
        base = self._base
        if y == 0:
            line = self._title_strip(width)
        elif y <= len(self._pane):
            line = self._pane[y - 1]
        else:
            return Strip.blank(width, base)
        return line.adjust_cell_length(width).apply_style(base)

    def _title_strip(self, width: int) -> Strip:
        if not self._title:
            return Strip([])
        name, role, model, status, task, since = self._title
        compact = self.size.height <= 1
        if compact:  # names padded so the badges line up
            name = f"{name:<{COMPACT_NAME_WIDTH}}"
        style = self.get_component_rich_style
        badge = style(f"agent-card--badge-{status}", default=style("agent-card--badge"))
        left = [
            Segment(name, style("agent-card--name")),
            Segment(" "),
            Segment(f" {status.upper():^8} ", badge),
        ]
        if task:
            left += [Segment(" "), Segment(task, style("agent-card--task"))]
        if compact:  # the last line of output instead of the details
            last = self._pane[-1:] or [Strip([])]
            return Strip([*left, Segment(" ")]) + last[0]
        meta = " · ".join(part for part in (role, model) if part)
        if meta:
            left += [Segment(" "), Segment(meta, style("agent-card--meta"))]
        if not since:
            return Strip(left)
        right = Strip([Segment(f" {since}", style("agent-card--time"))])
        return Strip(left).adjust_cell_length(max(0, width - right.cell_length)) + right
