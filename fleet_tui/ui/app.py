"""The Textual app: a live view of the fleet's FleetState.

This is the first, minimal screen: a header with the fleet's counts and a table of agents
(status, task, the last line of each pane). Keys turn into orchestrator commands, run in
worker threads so the UI never waits on tmux or disk.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, Static

from fleet_tui.core.state import FleetState
from fleet_tui.orchestrator import Orchestrator
from fleet_tui.ui.themes import ThemeError, discover_themes

STATUS_STYLE = {
    "working": "bold green",
    "idle": "cyan",
    "waiting": "bold black on yellow",
    "stalled": "bold white on red",
    "paused": "magenta",
    "exited": "dim",
    "lost": "bold red",
    "starting": "yellow",
    "done": "green",
}


def last_line(screen: list[str]) -> Text:
    for line in reversed(screen):
        text = Text.from_ansi(line)
        if text.plain.strip():
            return text
    return Text("")


def header_text(state: FleetState) -> Text:
    counts = state.status_counts()
    parts = [Text(f" {state.fleet or 'fleet'} ", style="bold reverse")]
    for status in ("working", "idle", "waiting", "stalled", "paused", "exited"):
        if counts.get(status):
            parts.append(Text(f" {counts[status]} {status}", style=STATUS_STYLE[status]))
    parts.append(Text(f"  tasks {state.open_tasks()} open"))
    approvals = len(state.pending_approvals())
    if approvals:
        parts.append(Text(f"  {approvals} to approve", style="bold yellow"))
    parts.append(Text(f"  ${state.cost.usd:.2f}  events {state.events}", style="dim"))
    return Text.assemble(*parts)


class QuitScreen(ModalScreen[str]):
    """Ask how to quit: agents keep running in tmux unless the user says otherwise."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Label("Quit fleet-tui? The agents keep running in tmux;\n"
                        "run fleet-tui again to come back to them.")
            with Horizontal():
                yield Button("Quit", variant="primary", id="quit")
                yield Button("Kill all and quit", variant="error", id="kill")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class FleetApp(App[int]):
    CSS = """
    #header { height: 1; background: $panel; }
    #agents { height: 1fr; }
    #status-line { height: 1; color: $text-muted; }
    QuitScreen { align: center middle; }
    #quit-dialog { width: 60; height: auto; border: thick $accent; padding: 1 2;
                   background: $surface; }
    #quit-dialog Horizontal { height: auto; margin-top: 1; }
    #quit-dialog Button { margin-right: 1; }
    """
    BINDINGS = [Binding("q", "quit_fleet", "Quit", id="quit")]

    def __init__(self, orchestrator: Orchestrator, spawn: bool = True) -> None:
        super().__init__()
        self.orchestrator = orchestrator
        self.spawn = spawn
        self._shown_events = -1
        self._theme_problem = ""
        try:
            for theme in discover_themes().values():
                self.register_theme(theme)
        except ThemeError as exc:
            self._theme_problem = str(exc)
        wanted = orchestrator.config.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self._theme_problem = self._theme_problem or f"unknown theme {wanted!r}"

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield DataTable(id="agents", cursor_type="row", zebra_stripes=True)
        yield Static("starting the fleet…", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("agent", "role", "status", "task", "last output")
        self.title = f"fleet-tui: {self.orchestrator.config.fleet}"
        if self._theme_problem:
            self.notify(self._theme_problem, title="theme", severity="warning")
        self.start_fleet()
        self.set_interval(0.25, self.refresh_view)

    @work(thread=True, exit_on_error=False)
    def start_fleet(self) -> None:
        try:
            self.orchestrator.start(spawn=self.spawn)
        except Exception as exc:  # shown to the user, not a traceback
            self.call_from_thread(self._set_status, f"could not start the fleet: {exc}")
            return
        note = f"session {self.orchestrator.session_id}"
        if self.orchestrator.warnings:
            note += f"  ({len(self.orchestrator.warnings)} warnings reading the log)"
        self.call_from_thread(self._set_status, note)

    def _set_status(self, text: str) -> None:
        self.query_one("#status-line", Static).update(text)

    def refresh_view(self) -> None:
        state = self.orchestrator.state
        self.query_one("#header", Static).update(header_text(state))
        if state.events == self._shown_events:
            return
        self._shown_events = state.events
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for agent in list(state.agents.values()):
            table.add_row(
                agent.name, agent.role,
                Text(agent.status, style=STATUS_STYLE.get(agent.status, "")),
                agent.task or "", last_line(agent.screen), key=agent.name,
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def action_quit_fleet(self) -> None:
        def done(choice: str | None) -> None:
            if choice in ("quit", "kill"):
                self.shut_down(kill=choice == "kill")

        self.push_screen(QuitScreen(), done)

    @work(thread=True, exit_on_error=False)
    def shut_down(self, kill: bool) -> None:
        self.call_from_thread(self._set_status, "stopping…")
        self.orchestrator.stop(kill_agents=kill)
        self.call_from_thread(self.exit, 0)
