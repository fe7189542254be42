"""The dialog that tells a returning person what the fleet did while they were away."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from fleet_tui.core.away import away_lines
from fleet_tui.ui.dialogs import DIALOG_CSS

__all__ = ["AwayScreen", "away_lines"]


class AwayScreen(ModalScreen[None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="AwayScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Close"), Binding("enter", "dismiss(None)", "Close")]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("While you were away", style="bold"))
            yield Static(Text("\n".join(self.lines)))
            with Horizontal():
                yield Button("OK", variant="primary", id="ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
