"""AgentGrid: every agent's card at once, laid out to fill the area the grid has.

Owns the cards' layout (``plan_grid``: how many columns, how high each row, cards or one-row
list), keeping cards in step with a FleetState (``sync``), and moving focus between cards.
The layout follows the grid's own size and the number of cards, whenever either changes: the
columns and row heights that show the most of each agent's pane (the largest pane's size
counts, more does not) without leaving places empty, cards never narrower
than ``MIN_CARD_WIDTH`` nor with fewer than ``MIN_CARD_LINES`` lines of output. When no such
layout fits, the grid becomes a compact list (class ``-compact``): one row per agent (name,
status badge, task, last output line), in as few columns as fit the height; only then can
the grid scroll.

The grid binds no keys (the app binds arrows/hjkl to ``focus_neighbour``) and never takes focus
itself, so keys reach the app's bindings from a focused card.
"""

from __future__ import annotations

from typing import NamedTuple

from textual import events
from textual.containers import VerticalScroll

from fleet_tui.core.state import FleetState
from fleet_tui.ui.agent_card import AgentCard
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


class AgentGrid(VerticalScroll, can_focus=False, inherit_bindings=False):
    """A grid of AgentCards, one per agent, in the order agents appear in the state."""

    DEFAULT_CSS = """
    AgentGrid {
        layout: grid;
        grid-size: 2;
        grid-rows: 8;
        grid-gutter: 0;
    }
    AgentGrid.-compact > AgentCard { border: none !important; height: 1; padding-right: 1; }
    AgentGrid.-compact > AgentCard.-waiting { background: $warning 15%; }
    AgentGrid.-compact > AgentCard.-stalled { background: $error 15%; }
    AgentGrid.-compact > AgentCard:focus { background: $primary 35%; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._cards: dict[str, AgentCard] = {}
        self._renderer = AnsiRenderer()
        self._plan: GridPlan | None = None
        self._pane = DEFAULT_PANE

    @property
    def columns(self) -> int:
        """How many cards a row holds now."""
        return self.styles.grid_size_columns

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

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Lay the cards out for the grid's size and their number (only when that changes)."""
        width, height = self.size
        if not width or not height or not self._cards:
            return
        plan = plan_grid(width, height, len(self._cards), self._pane)
        if plan == self._plan:
            return
        self._plan = plan
        self.set_class(plan.compact, "-compact")
        self.styles.grid_size_columns = plan.columns
        self.styles.grid_rows = " ".join(map(str, plan.row_heights))

    def sync(self, state: FleetState, now: float) -> int:
        """Add and remove cards to match ``state``'s agents, update every card; return how
        many cards changed. Only changed cards repaint."""
        agents = dict(state.agents)
        with self.app.batch_update():
            gone = [name for name in self._cards if name not in agents]
            for name in gone:
                card = self._cards.pop(name)
                if self.app.focused is card:  # a removed widget must not keep the keys
                    self.screen.set_focus(None)
                card.remove()
            new = [AgentCard(name, self._renderer) for name in agents if name not in self._cards]
            for card in new:
                self._cards[card.agent_name] = card
            if new:
                self.mount_all(new)
            pane = (max((a.width for a in agents.values()), default=0) or DEFAULT_PANE[0],
                    max((a.height for a in agents.values()), default=0) or DEFAULT_PANE[1])
            if new or gone or pane != self._pane:
                self._pane = pane
                self._fit()
            return sum(self._cards[name].update_agent(agent, now, workspace_summary(state, name),
                                                      overlap_label(state, name))
                       for name, agent in agents.items())

    def focused_agent(self) -> str | None:
        """The name of the agent whose card has focus, if any."""
        focused = self.app.focused
        if isinstance(focused, AgentCard) and focused.parent is self:
            return focused.agent_name
        return None

    def focus_neighbour(self, dx: int, dy: int) -> str | None:
        """Focus the card ``dx`` columns and ``dy`` rows away (clamped to the grid); with no
        card focused, focus the first. Returns the newly focused agent's name."""
        cards = list(self._cards.values())
        if not cards:
            return None
        focused = self.app.focused
        if focused in cards:
            columns = self.columns
            row, column = divmod(cards.index(focused), columns)
            column = min(max(column + dx, 0), columns - 1)
            target = cards[min(max(row + dy, 0) * columns + column, len(cards) - 1)]
        else:
            target = cards[0]
        self.screen.set_focus(target)
        return target.agent_name
