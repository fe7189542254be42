"""Keeps the session's replay index cached beside the log while the daemon writes it, so a
client opening the session (the UI, ``fleet-tui ls``, a replay) finds the index ready or only a
short extension away, however long the session: building it for a million events costs seconds
of CPU, extending it for the last minute's events a few milliseconds.

A low-priority thread extends the cache every ``EVERY`` seconds once the log has grown, and
once more when the daemon stops. A cache that cannot be written is tried again later.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from fleet_tui.adapters.eventlog import EventLogError
from fleet_tui.replay.index import open_index

#: Seconds between extensions of the cached index.
EVERY = 20.0


class IndexKeeper:
    def __init__(self, log: Path) -> None:
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._size = -1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="index-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.refresh()

    def _run(self) -> None:
        if hasattr(os, "sched_setscheduler"):  # Linux: only when nothing else wants the CPU
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        self.refresh()
        while not self._stop.wait(EVERY):
            self.refresh()

    def refresh(self) -> None:
        """Extend (or build) the cached index if the log grew since the last time."""
        try:
            size = self.log.stat().st_size
            if size == self._size:
                return
            open_index(self.log, skip_corrupt=True).close()
            self._size = size
        except (OSError, EventLogError):
            pass  # the log is being repaired or the disk is full: next time
