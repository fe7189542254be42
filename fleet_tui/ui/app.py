"""The Textual app: the fleet's grid of agents, its task board and its event timeline.

A client of the fleet daemon: over a ``LiveFleet`` it shows the fold of the daemon's event
log and turns keys (``keys.py``) into requests to the daemon. Requests run in thread workers,
so the UI never waits on them; the view refreshes on a timer (``REFRESH_HZ``), repainting only
what changed, and at once when a request comes back or a happening is logged (``POLL_HZ``). Quitting
leaves the fleet running. Over a ``RecordedFleet`` (replay, snapshot tests), or a live fleet
opened with ``read_only`` (``--read-only``), the same screen is read-only: commands that would
act on agents or tasks explain why they do nothing.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static, Tab, Tabs

from fleet_tui.client.live import LiveFleet
from fleet_tui.config.errors import ConfigError
from fleet_tui.config.loader import load_config
from fleet_tui.core.attention import Attention
from fleet_tui.core.sanitize import safe_line, safe_text
from fleet_tui.core.state import MERGED
from fleet_tui.ui import keys
from fleet_tui.ui.agent_actions import AgentActions
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.attention import ring
from fleet_tui.ui.away import AwayScreen, away_lines
from fleet_tui.ui.board import TaskBoard
from fleet_tui.ui.board_actions import BoardActions
from fleet_tui.ui.dialogs import FilterScreen, QuitScreen
from fleet_tui.ui.diff_actions import DiffActions
from fleet_tui.ui.footer import KeyFooter
from fleet_tui.ui.header import header_text
from fleet_tui.ui.help import HelpScreen
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.themes import ThemeError, discover_themes
from fleet_tui.ui.timeline import Timeline
from fleet_tui.ui.workspace_line import task_files

REFRESH_HZ = 8
#: How often the log is looked at between frames: a happening (anything but pane output) is
#: drawn at once, not at the next frame.
POLL_HZ = 25
#: How often a live UI checks that the daemon still answers for the session it follows.
DAEMON_CHECK_SECONDS = 2.0
#: Seconds the header's "need you" count flashes after a new call.
FLASH_SECONDS = 3.0
#: How often a live UI checks that its terminal is still there.
TERMINAL_CHECK_SECONDS = 0.5
#: How often fleet.yaml is checked for a new theme or keymap.
CONFIG_CHECK_SECONDS = 2.0
AREAS = ("grid", "board", "timeline")

def terminal_device() -> str:
    """The path of this process's terminal ("" when it has none)."""
    for stream in (sys.__stdin__, sys.__stdout__):
        try:
            if stream is not None and os.isatty(stream.fileno()):
                return os.ttyname(stream.fileno())
        except (OSError, ValueError):
            continue
    return ""


class AreaTabs(Tabs, can_focus=False):
    """The area tabs, shown for orientation; never focused, so arrows move between agents."""


class FleetApp(AgentActions, DiffActions, BoardActions, App[int]):
    CSS = """
    #header { height: 1; background: $panel; }
    #areas { height: 1fr; }
    #status-line { height: 1; color: $text-muted; }
    Tabs { height: 2; }
    """
    BINDINGS = keys.BINDINGS

    def __init__(self, fleet: LiveFleet | RecordedFleet,
                 clock: Callable[[], float] = time.time, read_only: bool = False) -> None:
        super().__init__()
        self.fleet = fleet
        self.read_only = fleet.read_only or read_only
        self._read_only_why = "this is a replay" if fleet.read_only else "this view is read-only"
        self.clock = clock
        self._shown_events = -1
        #: Alerts the user has seen: as many as there were when the timeline was last shown.
        self._alerts_seen = 0
        self._shown_header: object = None
        self._terminal = ""
        #: Who needs the person now (new calls ring), and until when the header flashes.
        self._attention = Attention()
        self._flash_until = 0.0
        self._config_stamp: int | None = None
        self._problems: list[str] = []
        self._checking = threading.Lock()  # held while a check_daemon worker runs
        try:
            for theme in discover_themes().values():
                self.register_theme(theme)
        except ThemeError as exc:
            self._problems.append(str(exc))
        self._apply_config_look()

    def _apply_config_look(self) -> None:
        """Theme and keymap from fleet.yaml (at start and whenever the file changes)."""
        config = self.fleet.config
        if config.theme in self.available_themes:
            self.theme = config.theme
        else:
            self._problems.append(f"unknown theme {config.theme!r}")
        self.set_keymap(dict(config.keymap))

    def _report_problems(self) -> None:
        for problem in self._problems:
            self.notify(problem, title="theme", severity="warning")
        self._problems.clear()

    @property
    def main(self) -> Screen:
        """The main screen (grid, board, timeline), also while a dialog is on top of it."""
        return self.screen_stack[0]

    @property
    def keymap(self) -> dict[str, str]:
        return dict(self.fleet.config.keymap)

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield AreaTabs(Tab("1 Agents", id="grid"), Tab("2 Board", id="board"),
                       Tab("3 Timeline", id="timeline"))
        with ContentSwitcher(initial="grid", id="areas"):
            yield AgentGrid(id="grid")
            yield TaskBoard(self._stages(), id="board")
            yield Timeline(id="timeline")
        yield from self.compose_bottom()
        yield Static("starting the fleet…", id="status-line")
        yield KeyFooter()

    def compose_bottom(self) -> ComposeResult:
        """Widgets between the areas and the status line (replay's controls)."""
        yield from ()

    def _stages(self) -> list[str]:
        merged = [MERGED] if self.fleet.config.merge is not None else []
        return [s.name for s in self.fleet.config.routing.stages] + merged

    def on_mount(self) -> None:
        self.title = f"fleet-tui: {self.fleet.config.fleet}"
        self._report_problems()
        self._compact(self.size.width, self.size.height)
        self.start_fleet()
        self.set_interval(1 / REFRESH_HZ, self.refresh_view)
        if not (self.read_only and self.fleet.read_only):  # not a replay (a read-only view is live)
            self.set_interval(1 / POLL_HZ, self.poll_log)
            self.check_config()  # notes the file's current stamp
            self.set_interval(CONFIG_CHECK_SECONDS, self.check_config)
            # A terminal that goes away (SSH drop, closed window) ends this UI, not the fleet:
            # on SIGHUP, or once the terminal's device is gone (a child of `make` gets no
            # SIGHUP and Textual's input thread then spins on EIO).
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
            self._terminal = terminal_device()
            if self._terminal:
                self.set_interval(TERMINAL_CHECK_SECONDS, self.check_terminal)

    def check_terminal(self) -> None:
        if not os.path.exists(self._terminal):
            self.exit(0)

    def on_resize(self, event: events.Resize) -> None:
        self._compact(event.size.width, event.size.height)  # self.size follows later

    def _compact(self, width: int, height: int) -> None:
        self.main.query_one(KeyFooter).compact = width < 100

    # --- state to screen ------------------------------------------------------------------

    @work(thread=True, exit_on_error=False)
    def start_fleet(self) -> None:
        try:
            self.fleet.start(progress=lambda text: self.call_from_thread(self.set_status, text))
        except Exception as exc:  # shown to the user, not a traceback
            self.call_from_thread(self.set_status, f"could not open the fleet: {exc}")
            return
        # What exists now lives as long as the app: keep it out of the collector's full passes,
        # which otherwise grow with it and stall the event loop (bench/ui.py: slow keys).
        gc.collect()
        gc.freeze()
        note = f"session {self.fleet.session_id}"
        if self.fleet.warnings:
            note += f"  ({len(self.fleet.warnings)} warnings reading the log)"
        self.call_from_thread(self.set_status, note)
        self.call_from_thread(self._connected)

    def _connected(self) -> None:
        """The fleet is open: say what happened while this UI was away, watch the daemon."""
        self.refresh_view()
        if self.read_only and self.fleet.read_only:  # a replay
            return
        self._alerts_seen = self.fleet.state.alerts  # what came while away: the summary's
        lines = away_lines(self.fleet.state, self.fleet.seen_before)
        if lines:
            self.push_screen(AwayScreen(lines))
        self.set_interval(DAEMON_CHECK_SECONDS, self.check_daemon)

    @work(thread=True, exclusive=True, exit_on_error=False, group="daemon")
    def check_daemon(self) -> None:
        # One check at a time: a thread cannot be cancelled, and a check that starts the daemon
        # again waits up to 30 s, polling; the ticks meanwhile would each start one more.
        if not self._checking.acquire(blocking=False):
            return
        try:
            note = self.fleet.check()
        except Exception as exc:
            note = f"the fleet daemon is not answering: {exc}"
        finally:
            self._checking.release()
        if note:
            self.call_from_thread(self.set_status, note)

    def set_status(self, text: str) -> None:
        self.main.query_one("#status-line", Static).update(Text(safe_line(text)))

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notices echo errors and event text: always plain text, safe to draw."""
        super().notify(safe_text(message), title=safe_line(title), severity=severity,
                       timeout=timeout, markup=False)

    def poll_log(self) -> None:
        """Fold what the log gained; draw now if that includes a happening."""
        timeline = self.fleet.state.timeline
        last = timeline[-1].seq if timeline else 0
        if self.fleet.poll() and timeline and timeline[-1].seq != last:
            self.refresh_view()

    def refresh_view(self) -> None:
        try:
            header = self.main.query_one("#header", Static)
        except (NoMatches, IndexError):  # closing: its screens or widgets are gone, a tick may come
            return
        self.fleet.poll()
        state = self.fleet.state
        now = self.clock()
        changed = state.events != self._shown_events  # what follows from events only then
        if changed and self.fleet.session_id:
            calls = self._attention.update(state)
            if calls and not self.read_only:
                ring(self, self.fleet.config.notify, calls)
                self._flash_until = now + FLASH_SECONDS
        area = self.main.query_one(ContentSwitcher).current
        with self.batch_update():
            if area == "timeline":
                self._alerts_seen = state.alerts
            shown = (state.events, self._alerts_seen, now < self._flash_until)
            if shown != self._shown_header:  # one row whatever it says: no layout pass
                self._shown_header = shown
                header.update(header_text(state, unseen_alerts=state.alerts - self._alerts_seen,
                                          needing_you=self._attention.needing, flash=shown[2]),
                              layout=False)
            grid = self.main.query_one(AgentGrid)
            if area == "grid":  # a hidden grid of busy cards would cost frames for nothing
                grid.sync(state, now)
                if grid.cards and grid.focused_agent() is None and len(self.screen_stack) == 1:
                    grid.focus_neighbour(0, 0)  # e.g. at start, when Textual focused a hidden widget
            if changed:
                self._shown_events = state.events
                self.main.query_one(TaskBoard).sync(state.tasks, task_files(state),
                                                    [state.merge.current, *state.merge.queue])
                self.main.query_one(Timeline).sync(state.timeline, state.agents)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config")
    def check_config(self) -> None:
        """Reload fleet.yaml's theme and keymap when the file changes (other changes need a
        restart: agents and routing are the daemon's)."""
        loaded = self.fleet.loaded
        try:
            stamp = loaded.path.stat().st_mtime_ns
        except OSError:
            return
        if self._config_stamp is None or stamp == self._config_stamp:
            self._config_stamp = stamp
            return
        self._config_stamp = stamp
        try:
            config = load_config(loaded.path).config
        except ConfigError as exc:
            self.call_from_thread(self.notify, str(exc), title="fleet.yaml", severity="error")
            return
        self.call_from_thread(self._take_look, config.theme, dict(config.keymap))

    def _take_look(self, theme: str, keymap: dict[str, str]) -> None:
        config = self.fleet.config
        if (theme, keymap) == (config.theme, dict(config.keymap)):
            return
        config.theme, config.keymap = theme, keymap
        self._apply_config_look()
        self._report_problems()
        self.notify("fleet.yaml changed: theme and keys reloaded")

    # --- areas and focus ------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self.main.query_one(ContentSwitcher).current = event.tab.id

    def action_show(self, area: str) -> None:
        self.main.query_one(Tabs).active = area
        self.main.query_one(ContentSwitcher).current = area
        target = self.main.query_one(f"#{area}")
        if area == "grid":
            self.refresh_view()  # the grid is not kept up to date while hidden
            self.main.query_one(AgentGrid).focus_neighbour(0, 0)  # the card focused last
        elif area == "board":
            self.main.query_one(TaskBoard).query("BoardColumn").first().focus()
        else:
            target.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # tab is a priority binding so it works from any widget of the main screen; in a
        # dialog it must stay the dialog's own (next field / button).
        return not (action == "cycle_area" and len(self.screen_stack) > 1)

    def action_cycle_area(self) -> None:
        current = self.main.query_one(ContentSwitcher).current or "grid"
        self.action_show(AREAS[(AREAS.index(current) + 1) % len(AREAS)])

    def action_focus_move(self, dx: int, dy: int) -> None:
        if self.main.query_one(ContentSwitcher).current == "grid":
            self.main.query_one(AgentGrid).focus_neighbour(dx, dy)
        elif dx:
            self.screen.focus_next() if dx > 0 else self.screen.focus_previous()

    def focus_agent(self, name: str) -> None:
        self.action_show("grid")
        self.main.query_one(AgentGrid).focus_agent(name)

    def focused_agent(self) -> str | None:
        """The agent whose card has focus, else the last one focused (the board's ``A``)."""
        grid = self.main.query_one(AgentGrid)
        agent = grid.focused_agent() or grid.cursor
        if agent is None or agent not in self.fleet.state.agents:
            self.notify("focus an agent first (arrows or hjkl on the grid)", severity="warning")
            return None
        return agent

    # --- commands -------------------------------------------------------------------------

    def _writable(self, what: str) -> bool:
        if self.read_only:
            self.notify(f"{self._read_only_why}: nothing here can {what}", severity="warning")
        return not self.read_only

    @work(thread=True, exit_on_error=False, group="commands")
    def run_command(self, label: str, command: str, *args: object, done: str = "") -> None:
        """Send a request to the daemon off the UI thread; show its events at once, or the
        failure as a notice (and ``done`` as one on success)."""
        try:
            getattr(self.fleet, command)(*args)
        except Exception as exc:  # the user sees one line, the app keeps running
            self.call_from_thread(self.notify, f"{label}: {exc}", severity="error")
            return
        self.call_from_thread(self.refresh_view)
        if done:
            self.call_from_thread(self.notify, done)

    # --- timeline, help, palette, quit ----------------------------------------------------

    def action_filter(self) -> None:
        timeline = self.main.query_one(Timeline)

        def apply(text: str | None) -> None:
            if text is not None:
                timeline.set_filter(text)
                self.action_show("timeline")

        self.push_screen(FilterScreen(timeline.filter_text), apply)

    def action_help(self) -> None:
        kind = "replay" if self.fleet.read_only else "read-only view"
        note = f"{kind}: commands that act on agents are off" if self.read_only else ""
        self.push_screen(HelpScreen(self.BINDINGS, self.keymap, note))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: every binding, "focus agent X" and "switch theme X"."""
        for b in self.BINDINGS:
            if b.id != "command_palette":
                yield SystemCommand(b.description, f"{keys.key_display(keys.keys_for(b, self.keymap))}"
                                    f"  ({b.id})", lambda action=b.action: self.run_action(action))
        for name in self.fleet.state.agents:
            yield SystemCommand(f"focus agent {safe_line(name)}", "show its card in the grid",
                                lambda name=name: self.focus_agent(name))
        for theme in sorted(self.available_themes):
            yield SystemCommand(f"switch theme {theme}", "for this run (fleet.yaml theme: keeps it)",
                                lambda theme=theme: setattr(self, "theme", theme))

    def action_quit_fleet(self) -> None:
        if self.read_only:
            self.exit(0)
            return

        def done(choice: str | None) -> None:
            if choice == "quit":
                self.exit(0)
            elif choice == "stop":
                self.stop_fleet()

        self.push_screen(QuitScreen(), done)

    @work(thread=True, exit_on_error=False)
    def stop_fleet(self) -> None:
        self.call_from_thread(self.set_status, "stopping the fleet: agents and daemon…")
        try:
            self.fleet.stop_fleet(kill_agents=True)
        except Exception as exc:
            self.call_from_thread(self.notify, f"stop: {exc}", severity="error")
            return
        self.call_from_thread(self.exit, 0)
