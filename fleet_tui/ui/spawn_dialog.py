"""The ``n`` dialog: spawn an agent from one of fleet.yaml's agent templates, with an optional
name and first prompt. Returns ``(template, name, prompt)``; ctrl+d or the button spawns."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, TextArea

from fleet_tui.ui.dialogs import DIALOG_CSS

SpawnRequest = tuple[str, str, str]


class SpawnScreen(ModalScreen[SpawnRequest | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="SpawnScreen") + """
    SpawnScreen > Vertical { padding: 0 1; }
    SpawnScreen TextArea { height: 4; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("ctrl+d", "spawn", "Spawn", priority=True)]

    def __init__(self, templates: Sequence[str]) -> None:
        super().__init__()
        self.templates = list(templates)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "spawn an agent (ctrl+d spawns, escape cancels)"
            yield Label("template")
            yield Select([(t, t) for t in self.templates], value=self.templates[0],
                         allow_blank=False, id="template")
            yield Label("name (empty: the template's name, numbered if taken)")
            yield Input(placeholder="auto", id="name")
            yield Label("first prompt (optional)")
            yield TextArea(id="prompt", soft_wrap=True)
            with Horizontal():
                yield Button("Spawn", variant="primary", id="spawn")
                yield Button("Cancel", id="cancel")

    def action_spawn(self) -> None:
        template = str(self.query_one("#template", Select).value)
        name = self.query_one("#name", Input).value.strip()
        prompt = self.query_one("#prompt", TextArea).text.strip()
        self.dismiss((template, name, prompt))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_spawn()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "spawn":
            self.action_spawn()
        else:
            self.dismiss(None)
