"""AgentCard: one agent's live tile in the grid (Line API widget with cached Strips).

Owns how an agent looks: a title row (name, status badge, task, role and model, time in
status; made safe to draw) above the last rows of its pane in the agent's own colours. When
the card is one row high (the grid's compact mode) that row is the title followed by the last
line of output.
A row too long for the card is cut at its end with a mark (``…``); a waiting agent's last rows
are cut at their start instead, since the question is at their end. An exited agent's badge
says how it ended (``EXITED 1``), and tmux's "Pane is dead" row is left out.

The card keeps the agent's data as given and lays it out in ``render_line`` for the size it
has then, so it never draws for a size it was told about earlier. ``update_agent`` compares
what the card would show with what it shows and refreshes only the rows that changed (all of
them when the pane scrolled); ``render_line`` returns Strips from a cache that is dropped only
for changed rows, on a new size and on style changes.
"""

from __future__ import annotations

import signal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from fleet_tui.core.sanitize import safe_line, strip_ansi
from fleet_tui.core.screen import DEAD_PANE_BANNER
from fleet_tui.core.state import EXITED, STATUSES, WAITING, AgentState
from fleet_tui.core.summary import elapsed
from fleet_tui.ui.ansi import AnsiRenderer

#: In compact mode names are padded to this many cells so the badges line up.
COMPACT_NAME_WIDTH = 10
#: A waiting agent's last row shows its end (where the question is) when it is too long.
WAITING_END_ROWS = 1
#: Marks where a row too long for the card was cut.
MORE = "…"
#: What the shell's exit codes mean.
EXIT_MEANINGS = {126: "not executable", 127: "not found"}


def status_label(agent: AgentState) -> str:
    """The badge text: the status, and for an exited agent how it ended (``EXITED 1``,
    ``EXITED 127 not found``, ``EXITED SIGKILL``, ``EXITED 143 SIGTERM`` from a shell)."""
    if agent.status != EXITED:
        return agent.status.upper()
    if agent.exit_signal:
        return f"EXITED {agent.exit_signal}"
    if agent.exit_code is None:
        return "EXITED"
    return f"EXITED {agent.exit_code} {exit_meaning(agent.exit_code)}".rstrip()


def exit_meaning(code: int) -> str:
    """What a shell's exit code says: ``not found`` for 127, a signal's name above 128."""
    if code in EXIT_MEANINGS:
        return EXIT_MEANINGS[code]
    try:
        return signal.Signals(code - 128).name if code > 128 else ""
    except ValueError:
        return ""


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
    AgentCard > .agent-card--badge-unreachable { background: $warning 60%; }
    AgentCard > .agent-card--badge-done { background: $success 50%; }
    """

    def __init__(self, agent_name: str, renderer: AnsiRenderer) -> None:
        super().__init__()
        self.agent_name = agent_name
        self._renderer = renderer
        self._status = ""
        #: What the title row shows: (name, role, model, status, its label, task, time in status,
        #: workspace).
        self._title: tuple[str, ...] = ()
        #: The agent's screen as last given, and the rows of it the card may show.
        self._given: tuple[str, ...] = ()
        self._screen: tuple[str, ...] = ()
        #: The (width, height) that ``_pane`` and ``_lines`` were made for; None: none yet.
        self._laid_out: tuple[int, int] | None = None
        #: The pane rows shown, uncropped, top to bottom.
        self._pane: list[Strip] = []
        #: Rendered rows by y.
        self._lines: dict[int, Strip] = {}
        #: Rendered pane rows by (id of the pane Strip, shows its end): (that Strip, the row), so
        #: a row that moved up a line (the pane scrolled) is not fitted and styled again.
        self._fitted: dict[tuple[int, bool], tuple[Strip, Strip]] = {}
        self._base_style: Style | None = None
        #: Component styles by name, until the next style update (``refresh`` drops Textual's).
        self._styles: dict[str, Style] = {}

    # Data -----------------------------------------------------------------------------------

    def update_agent(self, agent: AgentState, now: float, workspace: str = "", overlap: str = "") -> bool:
        """Take the agent's latest data (``workspace``: its branch and files, from
        ``workspace_line``; ``overlap``: what the card says about its branches' overlaps, from
        ``card_overlap``); refresh (only the changed rows) and return True if anything visible
        changed. The rows are laid out for the card's size when drawn."""
        status = agent.status
        relayout = False
        if status != self._status:  # an unknown status gets no class (and the plain badge)
            if self._status in STATUSES:
                self.remove_class(f"-{self._status}")
            if status in STATUSES:
                self.add_class(f"-{status}")
            relayout = WAITING in (status, self._status)  # waiting rows show their ends
            self._status = status
        since = elapsed(now - agent.status_since) if agent.status_since else ""
        if not agent.alive and agent.restart_at > now:  # a restart backing off
            since = f"restart in {elapsed(agent.restart_at - now + 0.999)}"
        name = f"{agent.name}@{agent.host}" if agent.host else agent.name  # where it runs
        title = (name, agent.role, agent.shown_model, status, status_label(agent),
                 f"{agent.task or ''} {overlap}".strip(), since, workspace)
        dirty: set[int] = set()
        if title != self._title:
            self._title = title
            dirty.add(0)
        given = tuple(agent.screen)
        if given != self._given:
            self._given = given
            self._screen = given if agent.alive else tuple(
                row for row in given if not strip_ansi(row).startswith(DEAD_PANE_BANNER))
            size = self.size
            if self._laid_out == (size.width, size.height) and not relayout:
                dirty |= self._layout_pane(size.height)
            else:
                relayout = True
        if relayout:
            self._laid_out = None  # laid out again in render_line, for the size it has then
            self.refresh()
        elif dirty:
            for y in dirty:
                self._lines.pop(y, None)
            height, width = self.size.height, self.size.width
            if width and len(dirty) <= height // 2:
                self.refresh(*(Region(0, y, width, 1) for y in dirty))
            else:
                self.refresh()
        return bool(dirty) or relayout

    def _layout_pane(self, height: int) -> set[int]:
        """Choose and render the pane rows that fit ``height`` (the last ones, ignoring blank
        rows at the bottom); return the y of each row that changed."""
        one_row = height <= 1
        count = 1 if one_row else height - 1
        screen = self._screen
        end = len(screen)
        while end and not strip_ansi(screen[end - 1]).strip():
            end -= 1
        start = max(0, end - count)
        state = self._renderer.state_after(screen[:start])
        pane, _ = self._renderer.render(screen[start:end], state=state)
        old, self._pane = self._pane, pane
        shown = {id(strip) for strip in pane}
        self._fitted = {key: hit for key, hit in self._fitted.items() if key[0] in shown}
        if one_row:
            return {0} if old[-1:] != pane[-1:] else set()
        return {
            i + 1
            for i in range(max(len(old), len(pane)))
            if i >= len(old) or i >= len(pane) or (old[i] is not pane[i] and old[i] != pane[i])
        }

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._fitted.clear()
        self._base_style = None
        self._styles.clear()

    @property
    def _base(self) -> Style:
        """``rich_style`` walks every ancestor; it changes only with a style update."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _style(self, name: str, fallback: str = "") -> Style:
        """The Rich style of component ``name`` (or of ``fallback`` if it has none)."""
        style = self._styles.get(name)
        if style is None:
            default = self._style(fallback) if fallback else None
            style = self._styles[name] = self.get_component_rich_style(name, default=default)
        return style

    # Rendering ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._laid_out != (width, height):
            self._lines.clear()
            self._fitted.clear()
            self._layout_pane(height)
            self._laid_out = (width, height)
        strip = self._lines.get(y)
        if strip is None:
            strip = self._lines[y] = self._build_line(y, width)
        return strip

    def _build_line(self, y: int, width: int) -> Strip:
        base = self._base
        if y == 0:
            return self._title_strip(width).adjust_cell_length(width).apply_style(base)
        if y > len(self._pane):
            return Strip.blank(width, base)
        strip = self._pane[y - 1]
        key = (id(strip), self._shows_end(y - 1))
        hit = self._fitted.get(key)
        if hit is None or hit[0] is not strip:
            line = self._fit(strip, width, key[1]).adjust_cell_length(width).apply_style(base)
            hit = self._fitted[key] = (strip, line)
        return hit[1]

    def _shows_end(self, index: int) -> bool:
        """Whether pane row ``index`` is cut from the left: a waiting agent's last rows."""
        return self._status == WAITING and index >= len(self._pane) - WAITING_END_ROWS

    def _fit(self, line: Strip, width: int, end: bool) -> Strip:
        """``line`` in ``width`` cells; a longer one loses its start (``end``) or its end, and
        shows a mark where it was cut."""
        if line.cell_length <= width:
            return line
        length = cell_len(line.text.rstrip())
        if length <= width:
            return line.crop(0, width)
        mark = Segment(MORE, self._style("agent-card--meta"))
        if end:
            return Strip([mark, *line.crop(length - width + 1, length)])
        return Strip([*line.crop(0, width - 1), mark])

    def _title_strip(self, width: int) -> Strip:
        if not self._title:
            return Strip([])
        name, role, model, status, label, task, since, workspace = map(safe_line, self._title)
        compact = self.size.height <= 1
        if compact:  # names padded so the badges line up
            name = f"{name:<{COMPACT_NAME_WIDTH}}"
        style = self._style
        badge = style(f"agent-card--badge-{status}", "agent-card--badge")
        left = [
            Segment(name, style("agent-card--name")),
            Segment(" "),
            Segment(f" {label:^8} ", badge),
        ]
        if task:
            left += [Segment(" "), Segment(task, style("agent-card--task"))]
        if compact:  # the last line of output instead of the details
            head = Strip([*left, Segment(" ")])
            last = self._pane[-1] if self._pane else Strip([])
            room = max(0, width - head.cell_length)
            return head + self._fit(last, room, self._shows_end(len(self._pane) - 1))
        right = Strip([Segment(f" {since}", style("agent-card--time"))] if since else [])
        meta = " · ".join(part for part in (role, model) if part)
        room = width - right.cell_length - Strip(left).cell_length
        if workspace and cell_len(workspace) < room:  # the branch and its files, whole or not at all
            left += [Segment(" "), Segment(workspace, style("agent-card--meta"))]
            room -= cell_len(workspace) + 1
        if meta and cell_len(meta) < room:  # role and model whole or not at all
            left += [Segment(" "), Segment(meta, style("agent-card--meta"))]
        return Strip(left).adjust_cell_length(max(0, width - right.cell_length)) + right
