"""AgentCard: one agent's tile in the grid, drawn by the grid (no widget of its own).

Owns what a card says and how it is drawn: ``card_content`` builds a card's content from an
AgentState (title fields: name, status badge, task, role and model, time in status; on cards of
``BRANCH_ROW_HEIGHT`` rows or more a row with the agent's branch and files; the pane
rows it may show), in one place; ``AgentCard`` keeps that content and renders its rows. The
title row is made safe to draw; the last rows of the pane follow in the agent's own colours.
When the card is one row high (the grid's compact list) that row is the title followed by the
last line of output.
A row too long for the card is cut at its end with a mark (``…``); a waiting agent's last rows
are cut at their start instead, since the question is at their end. An exited agent's badge
says how it ended (``EXITED 1``), and tmux's "Pane is dead" row is left out.

The grid places the card (``slot``, border included) and gives it its look (``CardLook``: the
styles for its status, focus and mode); the card lays its content out when drawn, for
the size it has then. ``update_agent`` compares the content with what the card shows and has
the grid repaint only the rows that changed (all of them when the pane scrolled); rendered
rows are cached, and dropped only for changed rows, on a new size and on a new look.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import NamedTuple, Protocol

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip

from fleet_tui.core.sanitize import safe_line, strip_ansi
from fleet_tui.core.screen import DEAD_PANE_BANNER
from fleet_tui.core.state import EXITED, STATUSES, WAITING, AgentState
from fleet_tui.core.summary import elapsed
from fleet_tui.ui.ansi import AnsiRenderer

#: In compact mode names are padded to this many cells so the badges line up.
COMPACT_NAME_WIDTH = 10
#: Cards this many rows high (border aside) or more show the agent's branch and files on a row of
#: their own, under the title; smaller ones in the title when it has room.
BRANCH_ROW_HEIGHT = 4
#: A waiting agent's last row shows its end (where the question is) when it is too long.
WAITING_END_ROWS = 1
#: Marks where a row too long for the card was cut.
MORE = "…"
#: What the shell's exit codes mean.
EXIT_MEANINGS = {126: "not executable", 127: "not found"}
#: Box characters by border kind: (top, middle, bottom) rows of (left, fill, right).
BORDERS = {
    "round": (("╭", "─", "╮"), ("│", " ", "│"), ("╰", "─", "╯")),
    "heavy": (("┏", "━", "┓"), ("┃", " ", "┃"), ("┗", "━", "┛")),
    "dashed": (("┏", "╍", "┓"), ("╏", " ", "╏"), ("┗", "╍", "┛")),
}


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


class CardContent(NamedTuple):
    """What a card shows of an agent: its status, the title row's fields (name, role, model,
    status, its label, task, time in status) and the pane rows it may show."""

    status: str
    title: tuple[str, ...]
    screen: tuple[str, ...]


def card_content(agent: AgentState, now: float, workspace: str = "", overlap: str = "") -> CardContent:
    """The content of ``agent``'s card at time ``now``: everything a card shows comes from here
    (a further row is a field here and a row in ``AgentCard._build_line``, with one row fewer
    for the pane in ``_layout_pane``). ``workspace``: its branch and files (``workspace_line``);
    ``overlap``: what it says about its branch's overlaps (``card_overlap``)."""
    since = elapsed(now - agent.status_since) if agent.status_since else ""
    if not agent.alive and agent.restart_at > now:  # a restart backing off
        since = f"restart in {elapsed(agent.restart_at - now + 0.999)}"
    name = f"{agent.name}@{agent.host}" if agent.host else agent.name  # where it runs
    title = (name, agent.role, agent.shown_model, agent.status, status_label(agent),
             f"{agent.task or ''} {overlap}".strip(), since, workspace)
    screen = tuple(agent.screen) if agent.alive else tuple(
        row for row in agent.screen if not strip_ansi(row).startswith(DEAD_PANE_BANNER))
    return CardContent(agent.status, title, screen)


class CardLook(NamedTuple):
    """A card's styles: ``base`` under everything, ``style(name, fallback)`` for a component
    (``agent-card--task``), its border (kind and style; no kind: no border) and the padding at
    its right (cells, style)."""

    base: Style
    style: Callable[[str, str], Style]
    border: str
    border_style: Style
    pad_right: int
    pad_style: Style


class CardHost(Protocol):
    """What a card needs of the grid that draws it."""

    def card_look(self, card: AgentCard) -> CardLook: ...
    def card_has_focus(self, card: AgentCard) -> bool: ...
    def card_screen_region(self, card: AgentCard) -> Region: ...
    def refresh_card(self, card: AgentCard, rows: set[int] | None) -> None:
        """Repaint rows of ``card``'s slot (None: all of them)."""


class AgentCard:
    """One agent: title row and the bottom of its pane, in the slot the grid gives it."""

    def __init__(self, agent_name: str, renderer: AnsiRenderer, host: CardHost) -> None:
        self.agent_name = agent_name
        self._renderer = renderer
        self._host = host
        #: Where the grid placed the card, border included (the grid's virtual space).
        self.slot = Region()
        self._content = CardContent("", (), ())
        #: The (width, height) that ``_pane`` and ``_lines`` were made for; None: none yet.
        self._laid_out: tuple[int, int] | None = None
        #: Whether row 1 shows the branch row (the workspace, on cards of ``BRANCH_ROW_HEIGHT``).
        self._branch_row = False
        #: The pane rows shown, uncropped, top to bottom.
        self._pane: list[Strip] = []
        #: Rendered content rows by y, and rendered slot rows (border included) by y, as
        #: segments: the grid makes one Strip of each of its lines (a Strip is costly to make).
        self._lines: dict[int, list[Segment]] = {}
        self._rows: dict[int, list[Segment]] = {}
        #: Rendered pane rows by (id of the pane Strip, shows its end): (that Strip, the row), so
        #: a row that moved up a line (the pane scrolled) is not fitted and styled again.
        self._fitted: dict[tuple[int, bool], tuple[Strip, list[Segment]]] = {}
        self._look: CardLook | None = None

    # Where and how ---------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._content.status

    @property
    def classes(self) -> frozenset[str]:
        """The card's status as a class (``-waiting``); an unknown status has none."""
        return frozenset({f"-{self.status}"} if self.status in STATUSES else ())

    def has_class(self, name: str) -> bool:
        return name in self.classes

    @property
    def has_focus(self) -> bool:
        return self._host.card_has_focus(self)

    @property
    def look(self) -> CardLook:
        if self._look is None:
            self._look = self._host.card_look(self)
        return self._look

    @property
    def border(self) -> str:
        """The border drawn round the card (``heavy`` when focused); empty in the compact list."""
        return self.look.border

    @property
    def size(self) -> Size:
        """The cells inside the border (and the padding)."""
        slot = self.slot
        if slot.height <= 1:
            return Size(max(0, slot.width - 1), slot.height)
        return Size(max(0, slot.width - 2), max(0, slot.height - 2))

    @property
    def region(self) -> Region:
        """Where the card is on screen, border included."""
        return self._host.card_screen_region(self)

    @property
    def content_region(self) -> Region:
        """Where the card's content is on screen."""
        region = self.region
        if self.slot.height <= 1:
            return Region(region.x, region.y, max(0, region.width - 1), region.height)
        return region.shrink((1, 1, 1, 1))

    def restyle(self) -> None:
        """Drop everything drawn with the look (focus, status, theme or slot changed)."""
        self._look = None
        self._lines.clear()
        self._rows.clear()
        self._fitted.clear()

    # Data -----------------------------------------------------------------------------------

    def update_agent(self, agent: AgentState, now: float, workspace: str = "", overlap: str = "") -> bool:
        """Take the agent's latest data (``workspace`` and ``overlap`` as ``card_content``); have
        the grid repaint the rows that changed and return True if anything visible changed. The
        rows are laid out for the card's size when drawn."""
        content = card_content(agent, now, workspace, overlap)
        old = self._content
        if content == old:
            return False
        self._content = content
        if content.status != old.status:  # a new look: border, badge, waiting rows' ends
            self._laid_out = None
            self.restyle()
            self._host.refresh_card(self, None)
            return True
        dirty: set[int] = set()
        if content.title != old.title:
            dirty.add(0)
            branch, was = content.title[-1], old.title[-1] if old.title else ""
            if bool(branch) != bool(was):  # the branch row comes or goes
                self._laid_out = None
                self._host.refresh_card(self, None)
                return True
            if branch != was and self._branch_row:
                dirty.add(1)
        if content.screen != old.screen:
            size = self.size
            if self._laid_out == (size.width, size.height):
                dirty |= self._layout_pane(size.height)
            else:
                self._laid_out = None
                self._host.refresh_card(self, None)
                return True
        if dirty:
            compact = self.slot.height <= 1
            for y in dirty:
                self._lines.pop(y, None)
                self._rows.pop(y if compact else y + 1, None)
            self._host.refresh_card(self, {y if compact else y + 1 for y in dirty})
        return bool(dirty)

    def _layout_pane(self, height: int) -> set[int]:
        """Choose and render the pane rows that fit ``height`` (the last ones, ignoring blank
        rows at the bottom); return the y of each row that changed."""
        one_row = height <= 1
        title = self._content.title
        self._branch_row = height >= BRANCH_ROW_HEIGHT and bool(title and title[-1])
        top = 1 + self._branch_row
        count = 1 if one_row else height - top
        screen = self._content.screen
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
            i + top
            for i in range(max(len(old), len(pane)))
            if i >= len(old) or i >= len(pane) or (old[i] is not pane[i] and old[i] != pane[i])
        }

    # Rendering ------------------------------------------------------------------------------

    def slot_line(self, y: int) -> list[Segment]:
        """Row ``y`` of the card's slot (border, content and padding), ``slot.width`` cells."""
        segments = self._rows.get(y)
        if segments is None:
            segments = self._rows[y] = self._build_slot_line(y)
        return segments

    def _build_slot_line(self, y: int) -> list[Segment]:
        look = self.look
        width, height = self.slot.width, self.slot.height
        if not look.border:
            return [*self.content_line(y), Segment(" " * look.pad_right, look.pad_style)]
        box = BORDERS[look.border]
        edge = look.border_style
        if y in (0, height - 1):
            left, fill, right = box[0 if y == 0 else 2]
            return [Segment(left + fill * (width - 2) + right, edge)]
        left, _, right = box[1]
        return [Segment(left, edge), *self.content_line(y - 1), Segment(right, edge)]

    def render_line(self, y: int) -> Strip:
        """Content row ``y`` (0: the title row)."""
        return Strip(self.content_line(y), self.size.width)

    def content_line(self, y: int) -> list[Segment]:
        """The segments of content row ``y``, ``size.width`` cells."""
        width, height = self.size
        if self._laid_out != (width, height):
            self._lines.clear()
            self._fitted.clear()
            self._layout_pane(height)
            self._laid_out = (width, height)
        segments = self._lines.get(y)
        if segments is None:
            segments = self._lines[y] = self._build_line(y, width)
        return segments

    def _build_line(self, y: int, width: int) -> list[Segment]:
        base = self.look.base
        top = 1 + self._branch_row
        if y == 0:
            segments = self._title(width)
        elif y == 1 and self._branch_row:
            branch = safe_line(self._content.title[-1])
            segments = list(Strip([Segment(branch, self.look.style("agent-card--meta", ""))]).crop(0, width))
        elif y - top >= len(self._pane):
            return [Segment(" " * width, base)]
        else:
            strip = self._pane[y - top]
            key = (id(strip), self._shows_end(y - top))
            hit = self._fitted.get(key)
            if hit is not None and hit[0] is strip:
                return hit[1]
            segments = self._fit(strip, width, key[1])
        length = sum(segment.cell_length for segment in segments)
        if length < width:
            segments.append(Segment(" " * (width - length)))
        line = list(Segment.apply_style(segments, base))
        if y >= top:
            self._fitted[key] = (strip, line)
        return line

    def _shows_end(self, index: int) -> bool:
        """Whether pane row ``index`` is cut from the left: a waiting agent's last rows."""
        return self.status == WAITING and index >= len(self._pane) - WAITING_END_ROWS

    def _fit(self, line: Strip, width: int, end: bool) -> list[Segment]:
        """``line`` in at most ``width`` cells; a longer one loses its start (``end``) or its
        end, and shows a mark where it was cut."""
        if line.cell_length <= width:
            return list(line)
        if width <= 0:
            return []
        length = cell_len(line.text.rstrip())
        if length <= width:
            return list(line.crop(0, width))
        mark = Segment(MORE, self.look.style("agent-card--meta", ""))
        if end:
            return [mark, *line.crop(length - width + 1, length)]
        return [*line.crop(0, width - 1), mark]

    def _title(self, width: int) -> list[Segment]:
        """The title row's segments, at most ``width`` cells."""
        if not self._content.title:
            return []
        name, role, model, status, label, task, since, workspace = map(safe_line, self._content.title)
        if self._branch_row:  # shown on a row of its own
            workspace = ""
        compact = self.size.height <= 1
        if compact:  # names padded so the badges line up
            name = f"{name:<{COMPACT_NAME_WIDTH}}"
        style = self.look.style
        badge = style(f"agent-card--badge-{status}", "agent-card--badge")
        left = [
            Segment(name, style("agent-card--name", "")),
            Segment(" "),
            Segment(f" {label:^8} ", badge),
        ]
        if task:
            left += [Segment(" "), Segment(task, style("agent-card--task", ""))]
        if compact:  # the last line of output instead of the details
            left.append(Segment(" "))
            last = self._pane[-1] if self._pane else Strip([])
            room = width - sum(segment.cell_length for segment in left)
            if room < 0:
                return list(Strip(left).crop(0, width))
            return left + self._fit(last, room, self._shows_end(len(self._pane) - 1))
        right = [Segment(f" {since}", style("agent-card--time", ""))] if since else []
        used, right_length = sum(s.cell_length for s in left), sum(s.cell_length for s in right)
        if workspace and cell_len(workspace) < width - right_length - used:  # whole or not at all
            left += [Segment(" "), Segment(workspace, style("agent-card--meta", ""))]
            used += 1 + cell_len(workspace)
        meta = " · ".join(part for part in (role, model) if part)
        if meta and cell_len(meta) < width - right_length - used:  # role and model whole or not at all
            left += [Segment(" "), Segment(meta, style("agent-card--meta", ""))]
            used += 1 + cell_len(meta)
        room = max(0, width - right_length)
        if used > room:
            left, used = list(Strip(left).crop(0, room)), room
        elif used < room:
            left.append(Segment(" " * (room - used)))
        segments = left + right
        if room + right_length > width:  # the time does not fit either
            return list(Strip(segments).crop(0, width))
        return segments
