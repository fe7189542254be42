"""AgentGrid: every agent's card at once, in as many columns as the width allows.

Owns the cards' layout, keeping cards in step with a FleetState (``sync``), and moving focus
between cards. Columns are ``width // MIN_CARD_WIDTH`` (2 at 80 columns, 5 at 200); cards share
the height, never shorter than ``MIN_CARD_HEIGHT`` (the grid scrolls then). The class
``-compact`` (for 80x24) makes every card one row: name, status badge, task, last output line.

The grid binds no keys (the app binds arrows/hjkl to ``focus_neighbour``) and never takes focus
itself, so keys reach the app's bindings from a focused card.
"""

from __future__ import annotations

from textual import events
from textual.containers import VerticalScroll

from fleet_tui.core.state import FleetState
from fleet_tui.ui.agent_card import AgentCard
from fleet_tui.ui.ansi import AnsiRenderer

#: Narrowest card, border included.
MIN_CARD_WIDTH = 38
#: Shortest card, border included: title and 5 rows of pane (30 agents fit 200x60).
MIN_CARD_HEIGHT = 8


class AgentGrid(VerticalScroll, can_focus=False, inherit_bindings=False):
    """A scrolling grid of AgentCards, one per agent, in the order agents appear in the state."""

    DEFAULT_CSS = """
    AgentGrid {
        layout: grid;
        grid-size: 2;
        grid-rows: 8;
        grid-gutter: 0;
    }
    AgentGrid.-compact > AgentCard { border: none; height: 1; padding-right: 1; }
    AgentGrid.-compact > AgentCard.-waiting { background: $warning 15%; }
    AgentGrid.-compact > AgentCard.-stalled { background: $error 15%; }
    AgentGrid.-compact > AgentCard:focus { background: $primary 35%; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._cards: dict[str, AgentCard] = {}
        self._renderer = AnsiRenderer()
        self._row_height = MIN_CARD_HEIGHT

    @property
    def columns(self) -> int:
        """How many cards a row holds now."""
        return self.styles.grid_size_columns

    @property
    def cards(self) -> dict[str, AgentCard]:
        """The cards by agent name (do not modify)."""
        return self._cards

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Columns for the width; rows share the height when the cards fit without scrolling."""
        columns = max(1, self.size.width // MIN_CARD_WIDTH)
        if columns != self.columns:
            self.styles.grid_size_columns = columns
        rows = max(1, -(-len(self._cards) // columns))
        height = 1 if self.has_class("-compact") else max(MIN_CARD_HEIGHT, self.size.height // rows)
        if height != self._row_height:
            self._row_height = height
            self.styles.grid_rows = str(height)

    def set_compact(self, compact: bool) -> None:
        """One row per agent (80x24) or full cards."""
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            self._fit()

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
            if new or gone:
                self._fit()
            return sum(self._cards[name].update_agent(agent, now) for name, agent in agents.items())

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
