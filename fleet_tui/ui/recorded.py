"""RecordedFleet: a read-only fleet over a recorded state, for the app's replay mode and for
snapshot tests. It offers what the app reads from a ``LiveFleet`` (``config``, ``state``,
``session_id``, ``warnings``, ``start``/``poll``/``stop``) and nothing that acts on agents."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import FleetState


class RecordedFleet:
    read_only = True

    def __init__(self, config: FleetConfig, state: FleetState, *, session_id: str = "",
                 loaded: LoadedConfig | None = None, warnings: Iterable[str] = ()) -> None:
        self.config = config
        self.loaded = loaded
        self.state = state
        self.session_id = session_id or state.session
        self.warnings = list(warnings)

    @classmethod
    def from_events(cls, loaded: LoadedConfig, events: Iterable[ev.Event]) -> RecordedFleet:
        return cls(loaded.config, fold_all(events), loaded=loaded)

    def start(self, progress: Callable[[str], None] = lambda text: None) -> None:
        """Nothing to start: the state is already there."""

    def poll(self) -> int:
        """Nothing new ever arrives."""
        return 0

    def stop(self) -> None:
        """Nothing to stop."""

    def pane_rows(self, agent: str) -> list[str]:
        """The agent's pane as recorded (replay has no scrollback beyond the screen)."""
        state = self.state.agents.get(agent)
        return list(state.screen) if state else []
