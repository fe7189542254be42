"""Starts the app as a client of the fleet's daemon (the ``fleet-tui run`` command): the daemon
is started first when none runs; quitting the app leaves the fleet running. A browser tab's
client (``--client web``) runs on ``ServedDriver``."""

from __future__ import annotations

from fleet_tui.client.live import LiveFleet
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.ui.app import FleetApp


def run_app(loaded: LoadedConfig, spawn: bool = True, skip_corrupt: bool = False,
            read_only: bool = False, client: str = "ui") -> int:
    fleet = LiveFleet(loaded, spawn=spawn, skip_corrupt=skip_corrupt, client=client)
    app = FleetApp(fleet, read_only=read_only)
    if client == "web":  # a browser tab's, under textual-serve
        from fleet_tui.ui.served_driver import ServedDriver

        app.driver_class = ServedDriver
    try:
        result = app.run()
    finally:
        fleet.stop()  # remembers what this UI saw; the fleet lives on
    return result or 0
