"""AgentGrid: every agent's card at once, laid out to fill the area the grid has.

Owns the cards' layout (``plan_grid``: how many columns, how high each row, cards or one-row
list), keeping cards in step with a FleetState (``sync``), which card has the cursor, and
drawing: the grid is one Line-API widget that places the cards (``AgentCard``, no widgets of
their own) in regions and paints, line by line, only the rows on screen, from each card's
cached rows; a card repaints only the rows whose content changed, so focus moves, scrolling
and repaints cost what is shown, not the number of agents.

The layout follows the grid's own size and the number of cards, whenever either changes: the
columns and row heights that show the most of each agent's pane (the largest pane's size
counts, more does not) without leaving places empty, cards never narrower
than ``MIN_CARD_WIDTH`` nor with fewer than ``MIN_CARD_LINES`` lines of output. When no such
layout fits, the grid becomes a compact list (class ``-compact``): one row per agent (name,
status badge, task, last output line), in as few columns as fit the height; only then can
the grid scroll.

Looks come from the stylesheet: the card's body, border and text are component classes of the
grid (``agent-card``, ``agent-card--focused``, ``agent-card--badge-waiting`` ...), composed in
the order a card widget would have inherited them (grid, card, component).

The grid binds no keys (the app binds arrows/hjkl to ``focus_neighbour``); keys reach the app's
bindings from the focused grid. A click on a card gives it the cursor.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fleet_tui.core.state import STATUSES, FleetState
from fleet_tui.ui.agent_card import AgentCard, CardLook
from fleet_tui.ui.ansi import AnsiRenderer
from fleet_tui.ui.card_overlap import overlap_label
from fleet_tui.ui.workspace_line import workspace_summary

#: Narrowest card, border included.
MIN_CARD_WIDTH = 32
#: Fewest lines of output a card shows; below that the grid becomes a compact list.
MIN_CARD_LINES = 3
#: Cells a card spends on its border (columns) and on border and title row (rows).
CARD_CHROME_WIDTH, CARD_CHROME_HEIGHT = 2, 3
#: The pane size assumed while no agent has reported its own (the default pane size).
DEFAULT_PANE = (120, 40)
#: Narrowest column of the compact list.
MIN_ROW_WIDTH = 40
#: Statuses whose cards have a dashed border (the agent is gone or finished).
ENDED = ("exited", "lost", "done")
#: Statuses with a border (and in the compact list a background) of their own.
MARKED = ("waiting", "stalled")


class GridPlan(NamedTuple):
    """A layout: ``columns`` and the height of each grid row (cards or one-row entries)."""

    columns: int
    row_heights: tuple[int, ...]
    compact: bool


def plan_grid(width: int, height: int, count: int, pane: tuple[int, int] = DEFAULT_PANE) -> GridPlan:
    """The layout of ``count`` cards in ``width`` x ``height`` cells: the columns whose cards
    show the most of a ``pane`` (columns, rows), less the places left empty (ties: fewer
    columns), rows sharing the height; else the compact list."""
    best: tuple[int, int] | None = None  # (score, columns)
    for columns in range(1, max(1, count) + 1):
        card_width = width // columns
        if card_width < MIN_CARD_WIDTH and columns > 1:
            break
        rows = -(-count // columns)
        lines = height // rows - CARD_CHROME_HEIGHT
        if lines < MIN_CARD_LINES:
            continue
        shown = min(card_width - CARD_CHROME_WIDTH, pane[0]) * min(lines, pane[1])
        score = shown * count // (columns * rows)  # empty places in the last row are wasted
        if best is None or score > best[0]:
            best = (score, columns)
    if best is not None:
        columns = best[1]
        rows = -(-count // columns)
        base, extra = divmod(height, rows)
        return GridPlan(columns, tuple(base + (i < extra) for i in range(rows)), compact=False)
    columns = max(1, min(width // MIN_ROW_WIDTH, -(-count // max(1, height))))
    return GridPlan(columns, (1,), compact=True)


class AgentGrid(ScrollView, can_focus=True, inherit_bindings=False):
    """A grid of AgentCards, one per agent, in the order agents appear in the state."""

    COMPONENT_CLASSES = {
        "agent-card", "agent-card--focused",
        "agent-card--compact-focused", *(f"agent-card--compact-{s}" for s in MARKED),
        "agent-card--border", "agent-card--border-focused", *(f"agent-card--border-{s}" for s in MARKED),
        "agent-card--name", "agent-card--task", "agent-card--meta", "agent-card--time",
        "agent-card--badge", *(f"agent-card--badge-{status}" for status in STATUSES),
    }

    DEFAULT_CSS = """
    AgentGrid { overflow-x: hidden; }
    AgentGrid > .agent-card { background: $surface; }
    AgentGrid > .agent-card--focused { background: $boost; }
    AgentGrid > .agent-card--compact-waiting { background: $warning 15%; }
    AgentGrid > .agent-card--compact-stalled { background: $error 15%; }
    AgentGrid > .agent-card--compact-focused { background: $primary 35%; }
    AgentGrid > .agent-card--border { color: $panel-lighten-2; }
    AgentGrid > .agent-card--border-focused { color: $primary; }
    AgentGrid > .agent-card--border-waiting { color: $warning; }
    AgentGrid > .agent-card--border-stalled { color: $error; }

    AgentGrid > .agent-card--name { text-style: bold; }
    AgentGrid > .agent-card--task { color: $accent; text-style: bold; }
    AgentGrid > .agent-card--meta { color: $text-muted; }
    AgentGrid > .agent-card--time { color: $text-muted; }
    AgentGrid > .agent-card--badge { background: $panel-lighten-2; color: auto 90%; text-style: bold; }
    AgentGrid > .agent-card--badge-starting { background: $secondary; }
    AgentGrid > .agent-card--badge-working { background: $success; }
    AgentGrid > .agent-card--badge-idle { background: $primary 60%; }
    AgentGrid > .agent-card--badge-waiting { background: $warning; }
    AgentGrid > .agent-card--badge-stalled { background: $error; }
    AgentGrid > .agent-card--badge-paused { background: $secondary 60%; }
    AgentGrid > .agent-card--badge-exited { background: $panel-lighten-2; }
    AgentGrid > .agent-card--badge-lost { background: $error 60%; }
    AgentGrid > .agent-card--badge-unreachable { background: $warning 60%; }
    AgentGrid > .agent-card--badge-done { background: $success 50%; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._cards: dict[str, AgentCard] = {}
        self._renderer = AnsiRenderer()
        #: Each agent's branch and overlap labels, made again only when events came (not each tick).
        self._labels: tuple[tuple[int, int], dict[str, tuple[str, str]]] = ((0, -1), {})
        self._plan: GridPlan | None = None
        self._pane = DEFAULT_PANE
        #: The agent whose card has the cursor (shown focused while the grid has focus).
        self._cursor: str | None = None
        #: Top of each grid row (virtual y), and the cards of each row, left to right.
        self._tops: list[int] = []
        self._rows: list[list[AgentCard]] = []
        #: The width the slots were made for.
        self._width = 0
        #: Looks by (card variant), chained styles by component names; what they were made from.
        self._looks: dict[tuple[object, ...], CardLook] = {}
        self._chains: dict[tuple[str, ...], tuple[Color, Style]] = {}
        self._look_source: tuple[object, ...] | None = None

    @property
    def columns(self) -> int:
        """How many cards a row holds now."""
        return self._plan.columns if self._plan else 1

    @property
    def plan(self) -> GridPlan | None:
        """The layout in force (None before the grid has a size and cards)."""
        return self._plan

    @property
    def pane_size(self) -> tuple[int, int]:
        """The largest agent pane (columns, rows) the layout is made for."""
        return self._pane

    @property
    def cards(self) -> dict[str, AgentCard]:
        """The cards by agent name (do not modify)."""
        return self._cards

    @property
    def cursor(self) -> str | None:
        """The agent whose card has the cursor, focused or not (kept while the grid is hidden)."""
        return self._cursor

    # Layout ---------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Lay the cards out for the grid's size and their number (only when that changes)."""
        width, height = self.size
        if not width or not height or not self._cards:
            return
        plan = plan_grid(width, height, len(self._cards), self._pane)
        rows = -(-len(self._cards) // plan.columns)
        if plan.compact and rows > height:  # the list scrolls: its scrollbar takes room
            width = max(1, width - self.styles.scrollbar_size_vertical)
        if (plan, width) == (self._plan, self._width):
            return
        self._plan, self._width = plan, width
        self.set_class(plan.compact, "-compact")
        self._place()

    def _place(self) -> None:
        """Give every card its slot in the plan in force; repaint all."""
        plan, width = self._plan, self._width
        if plan is None:
            return
        columns = plan.columns
        xs = [width * i // columns for i in range(columns + 1)]
        cards = list(self._cards.values())
        self._tops, self._rows, top = [], [], 0
        for row in range(-(-len(cards) // columns)):
            height = plan.row_heights[row % len(plan.row_heights)]
            members = cards[row * columns: (row + 1) * columns]
            for column, card in enumerate(members):
                slot = Region(xs[column], top, xs[column + 1] - xs[column], height)
                if slot != card.slot:
                    card.slot = slot
                    card.restyle()
            self._tops.append(top)
            self._rows.append(members)
            top += height
        self.virtual_size = Size(width, top)
        self.refresh()

    def sync(self, state: FleetState, now: float) -> int:
        """Add and remove cards to match ``state``'s agents, update every card; return how
        many cards changed. Only changed rows repaint."""
        agents = state.agents
        gone = [name for name in self._cards if name not in agents]
        new = [name for name in agents if name not in self._cards]
        for name in gone:
            del self._cards[name]
        if gone and self._cursor in gone:
            self._cursor = None
        if new:
            self._cards = {name: self._cards.get(name) or AgentCard(name, self._renderer, self)
                           for name in agents}
        pane = (max((a.width for a in agents.values()), default=0) or DEFAULT_PANE[0],
                max((a.height for a in agents.values()), default=0) or DEFAULT_PANE[1])
        if new or gone or pane != self._pane:
            self._pane = pane
            self._plan = None
            self._fit()
        seen = (id(state), state.events)
        if self._labels[0] != seen:
            self._labels = (seen, {name: (workspace_summary(state, name), overlap_label(state, name))
                                   for name in agents})
        labels = self._labels[1]
        return sum(self._cards[name].update_agent(agent, now, *labels.get(name, ("", "")))
                   for name, agent in agents.items())

    # Drawing --------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        top = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        row = bisect_right(self._tops, top) - 1
        if row < 0 or not self._rows or top >= self.virtual_size.height:
            return Strip.blank(width, self._chain()[1])
        segments, used = [], 0
        for card in self._rows[row]:
            segments += card.slot_line(top - card.slot.y)
            used += card.slot.width
        if used < width:  # the empty places of the last row
            segments.append(Segment(" " * (width - used), self._chain()[1]))
        return Strip(segments, max(used, width)).crop(0, width)

    def refresh_card(self, card: AgentCard, rows: set[int] | None) -> None:
        """Repaint rows of ``card``'s slot (None: all of them)."""
        slot = card.slot
        if not slot.area:
            return
        offset = round(self.scroll_offset.y)
        if rows is None or len(rows) > slot.height // 2:
            self.refresh(slot.translate((0, -offset)))
        else:
            self.refresh(*(Region(slot.x, slot.y + row - offset, slot.width, 1) for row in rows))

    def card_screen_region(self, card: AgentCard) -> Region:
        return card.slot.translate(self.content_region.offset).translate((0, -round(self.scroll_offset.y)))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            source = (self.app.theme, self.rich_style, self.background_colors)
            if source != self._look_source:  # not for a mere focus or hover of the grid
                self._look_source = source
                self._looks.clear()
                self._chains.clear()
                for card in self._cards.values():
                    card.restyle()
                self.refresh()

    def _chain(self, *names: str) -> tuple[Color, Style]:
        """The background and Rich style of components ``names`` nested in that order under
        the grid (as ``DOMNode.rich_style`` composes a widget's ancestors)."""
        hit = self._chains.get(names)
        if hit is not None:
            return hit
        background, color, style, opacity = Color(0, 0, 0, 0), Color(255, 255, 255, 0), Style(), 1.0
        layers = [node.styles for node in reversed(self.ancestors_with_self)]
        layers += [self.get_component_styles(name) for name in names]
        for styles in layers:
            opacity *= styles.opacity
            text_background = background
            if styles.has_rule("background"):
                tinted = styles.background.tint(styles.background_tint)
                text_background = background + tinted
                background += tinted.multiply_alpha(opacity)
            if styles.has_rule("color"):
                color = styles.color
            style += styles.text_style
            if styles.has_rule("auto_color") and styles.auto_color:
                color = text_background.get_contrast_text(color.a)
        style += Style.from_color((background + color).rich_color if (background.a or color.a) else None,
                                  background.rich_color if background.a else None)
        hit = self._chains[names] = (background, style)
        return hit

    def card_look(self, card: AgentCard) -> CardLook:
        focused, compact, status = self.card_has_focus(card), card.slot.height <= 1, card.status
        key = (focused, compact, status)
        look = self._looks.get(key)
        if look is not None:
            return look
        if compact:
            body = ("agent-card--compact-focused" if focused else
                    f"agent-card--compact-{status}" if status in MARKED else "agent-card")
        else:
            body = "agent-card--focused" if focused else "agent-card"
        base = self._chain(body)[1]

        def style(name: str, fallback: str) -> Style:
            if name in self.COMPONENT_CLASSES or not fallback:
                return self._chain(body, name)[1]
            return self._chain(body, fallback)[1]

        border, border_style = "", Style()
        if not compact:
            border = "heavy" if focused else "dashed" if status in ENDED else "round"
            edge = f"agent-card--border-{status}" if status in MARKED else (
                "agent-card--border-focused" if focused else "agent-card--border")
            under = self._chain()[0]  # the border's colour is laid on the grid's background
            colour = under + self.get_component_styles(edge).color
            border_style = Style.from_color(colour.rich_color, self._chain(body)[0].rich_color)
        pad = Style.from_color(None, self._chain(body)[0].rich_color)
        look = self._looks[key] = CardLook(base, style, border, border_style, int(compact), pad)
        return look

    # Focus ----------------------------------------------------------------------------------

    def card_has_focus(self, card: AgentCard) -> bool:
        return self.has_focus and card.agent_name == self._cursor

    def focused_agent(self) -> str | None:
        """The name of the agent whose card has focus, if any."""
        return self._cursor if self.app.focused is self else None

    def focus_agent(self, name: str) -> None:
        """Give ``name``'s card the cursor and the grid focus; scroll it into view."""
        card = self._cards.get(name)
        if card is None:
            return
        old = self._cards.get(self._cursor or "")
        self._cursor = name
        if self.app.focused is not self:
            self.screen.set_focus(self)
        for changed in {old, card} - {None}:
            assert changed is not None
            changed.restyle()
            self.refresh_card(changed, None)
        if card.slot.area:
            self.scroll_to_region(card.slot, animate=False, immediate=True)

    def focus_neighbour(self, dx: int, dy: int) -> str | None:
        """Move the cursor ``dx`` columns and ``dy`` rows away (clamped to the grid); with no
        cursor, to the first card. Focuses the grid; returns the agent now focused."""
        names = list(self._cards)
        if not names:
            return None
        if self._cursor in self._cards:
            columns = self.columns
            row, column = divmod(names.index(self._cursor), columns)
            column = min(max(column + dx, 0), columns - 1)
            target = names[min(max(row + dy, 0) * columns + column, len(names) - 1)]
        else:
            target = names[0]
        self.focus_agent(target)
        return target

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self._repaint_cursor()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self._repaint_cursor()

    def _repaint_cursor(self) -> None:
        card = self._cards.get(self._cursor or "")
        if card is not None:
            card.restyle()
            self.refresh_card(card, None)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x, y = offset.x, offset.y + round(self.scroll_offset.y)
        row = bisect_right(self._tops, y) - 1
        for card in self._rows[row] if 0 <= row < len(self._rows) else ():
            if card.slot.contains(x, y):
                self.focus_agent(card.agent_name)
