"""Replay: the live app's screen over a recorded session, read-only, with playback controls.

``ReplayFleet`` is a RecordedFleet whose state is the fold of the session's first ``k`` events
(a ``ReplayCursor``); ``ReplayApp`` adds the ReplayBar and the replay keys. Commands that would
act on agents or tasks are hidden from the footer and explain themselves when pressed. Arrows
left/right step through events here; hjkl still move between agents.
"""

from __future__ import annotations

import dataclasses
import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches

from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.schema import FleetConfig
from fleet_tui.replay.cursor import ReplayCursor, change_speed
from fleet_tui.replay.seek import SeekError, parse_seek
from fleet_tui.ui import keys
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.dialogs import FilterScreen
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.replay_bar import ReplayBar

REPLAY_ACTIONS = frozenset({"play", "speed", "skip_idle", "step", "jump", "seek_home", "seek_end",
                            "seek_prompt", "agent_event", "trouble"})


class ReplayFleet(RecordedFleet):
    def __init__(self, config: FleetConfig, cursor: ReplayCursor, *, session_id: str = "",
                 loaded: LoadedConfig | None = None, warnings: list[str] | None = None) -> None:
        super().__init__(config, cursor.state, session_id=session_id, loaded=loaded,
                         warnings=warnings or [])
        self.cursor = cursor

    def sync(self) -> None:
        """Show the cursor's state (call after every move)."""
        self.state = self.cursor.state


class ReplayApp(FleetApp):
    BINDINGS = [
        *(dataclasses.replace(b, show=False) if b.id in keys.COMMANDS else b for b in keys.BINDINGS),
        Binding("space", "play", "Play/pause", id="replay_play"),
        Binding("plus", "speed(1)", "Faster", id="replay_faster", show=False),
        Binding("minus", "speed(-1)", "Slower", id="replay_slower", show=False),
        Binding("i", "skip_idle", "Skip idle", id="replay_skip_idle"),
        Binding("left", "step(-1)", "Back one event", id="replay_back", show=False, priority=True),
        Binding("right", "step(1)", "On one event", id="replay_on", show=False, priority=True),
        Binding("shift+left", "jump(-10)", "Back 10 s", id="replay_back_10s", show=False),
        Binding("shift+right", "jump(10)", "On 10 s", id="replay_on_10s", show=False),
        Binding("home", "seek_home", "Start", id="replay_home", show=False, priority=True),
        Binding("end", "seek_end", "End", id="replay_end", show=False, priority=True),
        Binding("colon", "seek_prompt", "Seek", id="replay_seek"),
        Binding("right_square_bracket", "agent_event(1)", "Agent's next event", id="replay_agent_next",
                show=False),
        Binding("left_square_bracket", "agent_event(-1)", "Agent's previous event",
                id="replay_agent_previous", show=False),
        Binding("e", "trouble", "Next error/stall/exit", id="replay_trouble"),
    ]

    def __init__(self, fleet: ReplayFleet) -> None:
        super().__init__(fleet, clock=lambda: fleet.cursor.clock)
        self.fleet = fleet
        self._last_tick = time.monotonic()

    def compose_bottom(self) -> ComposeResult:
        yield ReplayBar(self.fleet.cursor, id="replay-bar")

    def on_mount(self) -> None:
        for warning in self.fleet.warnings:
            self.notify(warning, title="reading the log", severity="warning", timeout=10)

    def start_fleet(self) -> None:
        """Nothing to start: say what this is."""
        self.title = f"fleet-tui replay: {self.fleet.session_id}"
        self.set_status(f"replay of session {self.fleet.session_id}: read-only")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS and len(self.screen_stack) > 1:
            return False  # a dialog's own keys (the seek field's arrows) stay the dialog's
        return super().check_action(action, parameters)

    # --- playback ---------------------------------------------------------------------------

    @property
    def bar(self) -> ReplayBar:
        return self.main.query_one(ReplayBar)

    def refresh_view(self) -> None:
        """Play on by the time since the last frame (when playing), then draw as live does:
        one timer, shared with the live app, draws both."""
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        try:
            bar = self.bar
        except NoMatches:  # closing
            return
        if bar.playing:
            self.fleet.cursor.advance(elapsed, bar.speed, bar.skip_idle)
            bar.playing = not self.fleet.cursor.at_end
        self.fleet.sync()
        bar.refresh()
        super().refresh_view()

    def action_play(self) -> None:
        bar = self.bar
        if self.fleet.cursor.at_end and not bar.playing:
            self.fleet.cursor.home()
        bar.playing = not bar.playing
        self._last_tick = time.monotonic()
        self.refresh_view()

    def action_speed(self, steps: int) -> None:
        self.bar.speed = change_speed(self.bar.speed, steps)
        self.bar.refresh()

    def action_skip_idle(self) -> None:
        self.bar.skip_idle = not self.bar.skip_idle
        self.bar.refresh()

    def action_step(self, n: int) -> None:
        self.fleet.cursor.step(n)
        self.refresh_view()

    def action_jump(self, seconds: float) -> None:
        self.fleet.cursor.jump_seconds(seconds)
        self.refresh_view()

    def action_seek_home(self) -> None:
        self.fleet.cursor.home()
        self.refresh_view()

    def action_seek_end(self) -> None:
        self.fleet.cursor.end()
        self.refresh_view()

    def action_seek_prompt(self) -> None:
        def seek(text: str | None) -> None:
            if not text:
                return
            try:
                self.fleet.cursor.seek_target(parse_seek(text))
            except SeekError as exc:
                self.notify(str(exc), severity="error")
                return
            self.refresh_view()

        self.push_screen(FilterScreen("", label="Seek to: 12:30 (from the start), +90s, -10s, #SEQ"),
                         seek)

    def action_agent_event(self, direction: int) -> None:
        agent = self.focused_agent()
        if agent is None:
            return
        found = self.fleet.cursor.agent_event(agent, forward=direction > 0)
        if found is None:
            self.notify(f"no {'later' if direction > 0 else 'earlier'} event of {agent}")
            return
        self.fleet.cursor.seek_event(found)
        self.refresh_view()

    def action_trouble(self) -> None:
        found = self.fleet.cursor.trouble_event()
        if found is None:
            self.notify("no error, stall or exit after this point")
            return
        self.fleet.cursor.seek_event(found)
        self.refresh_view()
