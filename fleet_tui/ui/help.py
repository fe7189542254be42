"""The ``?`` help screen: every key binding with its keys (after fleet.yaml's ``keymap``), its
id (the name ``keymap`` uses) and what it does. Keys come from fleet.yaml: drawn safe, never as
markup."""

from __future__ import annotations

from collections.abc import Iterable

from rich.markup import escape
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from fleet_tui.core.sanitize import safe_line
from fleet_tui.ui.keys import key_display, keys_for


def bindings_table(bindings: Iterable[Binding], keymap: dict[str, str], note: str = "") -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does")
    table.add_column("keymap id", style="dim", no_wrap=True)
    for b in bindings:
        table.add_row(escape(safe_line(key_display(keys_for(b, keymap)))), b.description, b.id or "")
    if note:
        table.caption = note
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
                                  border: thick $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, bindings: Iterable[Binding], keymap: dict[str, str], note: str = "") -> None:
        super().__init__()
        self._table = bindings_table(bindings, keymap, note)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "keys (escape closes; remap in fleet.yaml keymap: {id: key})"
            yield Static(self._table)
