"""Modal dialogs: confirm, quit, send a prompt, filter the timeline.

Each returns its answer through ``dismiss`` (None when cancelled with escape).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 70; max-width: 95%; height: auto; max-height: 100%; overflow-y: auto;
                     border: thick $primary; padding: 1 2; background: $surface; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 1; }}
"""


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel"), Binding("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button(self.yes, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QuitScreen(ModalScreen[str]):
    """Quitting leaves the fleet (daemon and agents) running unless the user stops it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="QuitScreen")
    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Quit fleet-tui? The fleet goes on without you: agents, routing,\n"
                        "gates and the log keep running; run fleet-tui again to come back.")
            with Horizontal():
                yield Button("Quit", variant="primary", id="quit")
                yield Button("Stop the fleet and quit", variant="error", id="stop")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class PromptScreen(ModalScreen[str | None]):
    """Multi-line text for an agent; ctrl+s is unsafe over SSH, so sending is ctrl+d or the button."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PromptScreen") + """
    PromptScreen TextArea { height: 8; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("ctrl+d", "send", "Send", priority=True)]

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Prompt for {self.agent} (ctrl+d sends, escape cancels)")
            yield TextArea(id="text", soft_wrap=True)
            with Horizontal():
                yield Button("Send", variant="primary", id="send")
                yield Button("Cancel", id="cancel")

    def action_send(self) -> None:
        text = self.query_one(TextArea).text.strip()
        self.dismiss(text or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        else:
            self.dismiss(None)


FILTER_HELP = "Filter the timeline: words match agent or type; agent:NAME, type:task"


class FilterScreen(ModalScreen[str | None]):
    """One line of text: the timeline's filter, replay's seek target."""

    DEFAULT_CSS = DIALOG_CSS.format(name="FilterScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: str, label: str = FILTER_HELP) -> None:
        super().__init__()
        self.current, self.label = current, label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.label)
            yield Input(self.current, id="filter")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
