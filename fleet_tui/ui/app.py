"""The Textual app: the fleet's grid of agents, its task board and its event timeline.

It renders ``FleetState`` and turns keys into orchestrator commands. Commands that talk to
tmux or disk run in thread workers, so the UI never waits on them; the view is refreshed from
the state on a timer (``REFRESH_HZ``), repainting only what changed.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import ContentSwitcher, Footer, Static, Tab, Tabs

from fleet_tui.core.state import FleetState
from fleet_tui.orchestrator import Orchestrator
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.board import TaskBoard
from fleet_tui.ui.dialogs import ConfirmScreen, FilterScreen, PromptScreen, QuitScreen
from fleet_tui.ui.themes import ThemeError, discover_themes
from fleet_tui.ui.timeline import Timeline

REFRESH_HZ = 8
AREAS = ("grid", "board", "timeline")

STATUS_STYLE = {
    "working": "bold green",
    "idle": "cyan",
    "waiting": "bold black on yellow",
    "stalled": "bold white on red",
    "paused": "magenta",
    "exited": "dim",
}


def header_text(state: FleetState) -> Text:
    counts = state.status_counts()
    parts = [Text(f" {state.fleet or 'fleet'} ", style="bold reverse")]
    for status, style in STATUS_STYLE.items():
        count = counts.get(status, 0) + (counts.get("lost", 0) if status == "exited" else 0)
        if count:
            parts.append(Text(f" {count} {status}", style=style))
    parts.append(Text(f"  {state.open_tasks()} open tasks"))
    approvals = len(state.pending_approvals())
    if approvals:
        parts.append(Text(f"  ⚑ {approvals} to approve", style="bold yellow"))
    parts.append(Text(f"  ${state.cost.usd:.2f}", style="bold"))
    return Text.assemble(*parts)


class AreaTabs(Tabs, can_focus=False):
    """The area tabs, shown for orientation; never focused, so arrows move between agents."""


class FleetApp(App[int]):
    CSS = """
    #header { height: 1; background: $panel; }
    #areas { height: 1fr; }
    #status-line { height: 1; color: $text-muted; }
    Tabs { height: 2; }
    """
    BINDINGS = [
        Binding("q", "quit_fleet", "Quit", id="quit"),
        Binding("p", "pause", "Pause/resume", id="pause"),
        Binding("x", "kill", "Kill", id="kill"),
        Binding("r", "restart", "Restart", id="restart"),
        Binding("s", "prompt", "Prompt", id="prompt"),
        Binding("enter", "attach", "Attach", id="attach"),
        Binding("tab", "cycle_area", "Next area", id="cycle_area", show=False, priority=True),
        Binding("1", "show('grid')", "Grid", id="show_grid", show=False),
        Binding("2", "show('board')", "Board", id="show_board", show=False),
        Binding("3", "show('timeline')", "Timeline", id="show_timeline", show=False),
        Binding("left,h", "focus_move(-1, 0)", "Left", id="focus_left", show=False),
        Binding("right,l", "focus_move(1, 0)", "Right", id="focus_right", show=False),
        Binding("up,k", "focus_move(0, -1)", "Up", id="focus_up", show=False),
        Binding("down,j", "focus_move(0, 1)", "Down", id="focus_down", show=False),
        Binding("a", "approve", "Approve", id="approve"),
        Binding("D", "deny", "Deny", id="deny"),
        Binding("slash", "filter", "Filter", id="filter", show=False),
    ]

    def __init__(self, orchestrator: Orchestrator, spawn: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.orchestrator = orchestrator
        self.spawn = spawn
        self.clock = clock
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
        yield AreaTabs(Tab("1 Agents", id="grid"), Tab("2 Board", id="board"),
                   Tab("3 Timeline", id="timeline"))
        stages = [s.name for s in self.orchestrator.config.routing.stages]
        with ContentSwitcher(initial="grid", id="areas"):
            yield AgentGrid(id="grid")
            yield TaskBoard(stages, id="board")
            yield Timeline(id="timeline")
        yield Static("starting the fleet…", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"fleet-tui: {self.orchestrator.config.fleet}"
        if self._theme_problem:
            self.notify(self._theme_problem, title="theme", severity="warning")
        self._compact(self.size.width, self.size.height)
        self.start_fleet()
        self.set_interval(1 / REFRESH_HZ, self.refresh_view)

    def on_resize(self, event: object) -> None:
        self._compact(self.size.width, self.size.height)

    def _compact(self, width: int, height: int) -> None:
        self.query_one(AgentGrid).set_class(width < 100 or height < 30, "-compact")

    # --- state to screen ------------------------------------------------------------------

    @work(thread=True, exit_on_error=False)
    def start_fleet(self) -> None:
        try:
            self.orchestrator.start(spawn=self.spawn)
        except Exception as exc:  # shown to the user, not a traceback
            self.call_from_thread(self.set_status, f"could not start the fleet: {exc}")
            return
        note = f"session {self.orchestrator.session_id}"
        if self.orchestrator.warnings:
            note += f"  ({len(self.orchestrator.warnings)} warnings reading the log)"
        self.call_from_thread(self.set_status, note)

    def set_status(self, text: str) -> None:
        self.query_one("#status-line", Static).update(text)

    def refresh_view(self) -> None:
        state = self.orchestrator.state
        now = self.clock()
        with self.batch_update():
            self.query_one("#header", Static).update(header_text(state))
            grid = self.query_one(AgentGrid)
            grid.sync(state, now)
            if self.focused is None and grid.cards and self.query_one(ContentSwitcher).current == "grid":
                grid.focus_neighbour(0, 0)
            if state.events != self._shown_events:
                self._shown_events = state.events
                self.query_one(TaskBoard).sync(state.tasks)
                self.query_one(Timeline).sync(state.timeline)

    # --- areas and focus ------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self.query_one(ContentSwitcher).current = event.tab.id

    def action_show(self, area: str) -> None:
        self.query_one(Tabs).active = area
        self.query_one(ContentSwitcher).current = area
        target = self.query_one(f"#{area}")
        if area == "grid":
            self.query_one(AgentGrid).focus_neighbour(0, 0)
        elif area == "board":
            self.query_one(TaskBoard).query("BoardColumn").first().focus()
        else:
            target.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # tab is a priority binding so it works from any widget of the main screen; in a
        # dialog it must stay the dialog's own (next field / button).
        return not (action == "cycle_area" and len(self.screen_stack) > 1)

    def action_cycle_area(self) -> None:
        current = self.query_one(ContentSwitcher).current or "grid"
        self.action_show(AREAS[(AREAS.index(current) + 1) % len(AREAS)])

    def action_focus_move(self, dx: int, dy: int) -> None:
        if self.query_one(ContentSwitcher).current == "grid":
            self.query_one(AgentGrid).focus_neighbour(dx, dy)
        elif dx:
            self.screen.focus_next() if dx > 0 else self.screen.focus_previous()

    def focused_agent(self) -> str | None:
        agent = self.query_one(AgentGrid).focused_agent()
        if agent is None:
            self.notify("focus an agent first (arrows or hjkl on the grid)", severity="warning")
        return agent

    # --- commands -------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="commands")
    def run_command(self, label: str, command: str, *args: object) -> None:
        """Run an orchestrator command off the UI thread; report failures as notices."""
        try:
            getattr(self.orchestrator, command)(*args)
        except Exception as exc:  # the user sees one line, the app keeps running
            self.call_from_thread(self.notify, f"{label}: {exc}", severity="error")

    def action_pause(self) -> None:
        if agent := self.focused_agent():
            self.run_command("pause", "toggle_pause", agent)

    def action_kill(self) -> None:
        if not (agent := self.focused_agent()):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_command("kill", "kill", agent)

        self.push_screen(ConfirmScreen(f"Kill {agent}? Its process tree is stopped.", "Kill"),
                         confirmed)

    def action_restart(self) -> None:
        if agent := self.focused_agent():
            self.run_command("restart", "restart", agent)

    def action_prompt(self) -> None:
        if not (agent := self.focused_agent()):
            return

        def send(text: str | None) -> None:
            if text:
                self.run_command("prompt", "prompt", agent, text)

        self.push_screen(PromptScreen(agent), send)

    def action_attach(self) -> None:
        if self.query_one(ContentSwitcher).current != "grid" or not (agent := self.focused_agent()):
            return
        argv = self.orchestrator.attach_argv(agent)
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}  # tmux refuses nested attach
        with self.suspend():
            subprocess.run(argv, env=env, check=False)

    def _selected_approval(self) -> tuple[str, str] | None:
        task_id = self.query_one(TaskBoard).selected_task()
        tasks = self.orchestrator.state.tasks
        candidates = [tasks[task_id]] if task_id in tasks else list(tasks.values())
        for task in candidates:
            if task.pending_approvals:
                return task.id, task.pending_approvals[0].id
        self.notify("no pending approval on the selected task", severity="warning")
        return None

    def action_approve(self) -> None:
        if chosen := self._selected_approval():
            self.run_command("approve", "decide", chosen[0], chosen[1], True, "")

    def action_deny(self) -> None:
        if not (chosen := self._selected_approval()):
            return

        def deny(comment: str | None) -> None:
            if comment is not None:
                self.run_command("deny", "decide", chosen[0], chosen[1], False, comment)

        self.push_screen(PromptScreen(f"denying {chosen[0]}: why?"), deny)

    def action_filter(self) -> None:
        timeline = self.query_one(Timeline)

        def apply(text: str | None) -> None:
            if text is not None:
                timeline.set_filter(text)
                self.action_show("timeline")

        self.push_screen(FilterScreen(timeline.filter_text), apply)

    def action_quit_fleet(self) -> None:
        def done(choice: str | None) -> None:
            if choice in ("quit", "kill"):
                self.shut_down(kill=choice == "kill")

        self.push_screen(QuitScreen(), done)

    @work(thread=True, exit_on_error=False)
    def shut_down(self, kill: bool) -> None:
        self.call_from_thread(self.set_status, "stopping…" + (" killing agents" if kill else ""))
        self.orchestrator.stop(kill_agents=kill)
        self.call_from_thread(self.exit, 0)
