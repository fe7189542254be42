"""Starts the app for a loaded fleet config (the ``fleet-tui run`` command)."""

from __future__ import annotations

from fleet_tui.config.loader import LoadedConfig
from fleet_tui.orchestrator import Orchestrator
from fleet_tui.ui.app import FleetApp


def run_app(loaded: LoadedConfig, spawn: bool = True, skip_corrupt: bool = False) -> int:
    orchestrator = Orchestrator(loaded, skip_corrupt=skip_corrupt)
    app = FleetApp(orchestrator, spawn=spawn)
    try:
        result = app.run()
    finally:
        orchestrator.stop()  # closes the log if the app ended any other way; agents live on
    return result or 0
