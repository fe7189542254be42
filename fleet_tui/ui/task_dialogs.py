"""Board dialogs: ``t`` new task (title, role, stage, description) and ``m`` move a task to
another column. Each returns its answer through ``dismiss`` (None when cancelled)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option

from fleet_tui.ui.dialogs import DIALOG_CSS, plain


class NewTask(msgspec.Struct, frozen=True):
    title: str
    role: str
    column: str
    description: str


class NewTaskScreen(ModalScreen[NewTask | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="NewTaskScreen") + """
    NewTaskScreen > Vertical { padding: 0 1; }
    NewTaskScreen TextArea { height: 4; }
    NewTaskScreen Select { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("ctrl+d", "create", "Create", priority=True)]

    def __init__(self, roles: Sequence[str], columns: Sequence[str], column: str) -> None:
        super().__init__()
        self.roles, self.columns, self.column = list(roles), list(columns), column

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "new task (ctrl+d creates, escape cancels)"
            yield Input(placeholder="title", id="title")
            with Horizontal():
                yield Select([(r, r) for r in self.roles], prompt="role (any)", id="role")
                yield Select([(c, c) for c in self.columns], value=self.column, allow_blank=False,
                             id="column")
            yield Label("description")
            yield TextArea(id="description", soft_wrap=True)
            with Horizontal():
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def action_create(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.notify("a task needs a title", severity="warning")
            return
        role = self.query_one("#role", Select).value
        self.dismiss(NewTask(
            title=title,
            role="" if role is Select.BLANK else str(role),
            column=str(self.query_one("#column", Select).value),
            description=self.query_one("#description", TextArea).text,
        ))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_create()
        else:
            self.dismiss(None)


class MoveTaskScreen(ModalScreen[str | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="MoveTaskScreen") + """
    MoveTaskScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, task_id: str, columns: Sequence[str], current: str) -> None:
        super().__init__()
        self.task_id, self.columns, self.current = task_id, list(columns), current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(f"move {self.task_id} from {self.current} to… "
                              "(enter picks, escape cancels)"))
            yield OptionList(*(Option(plain(c), id=c, disabled=c == self.current)
                               for c in self.columns))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
