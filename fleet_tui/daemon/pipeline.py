"""The event pipeline: every change to the fleet is appended to the log, folded into the
state, then settled by the pure rules (``core.rules.settle``), in that order and under one
lock, so the log and the state always agree. The rules' commands (tmux I/O) are queued for
the command runner in order, never carried out under the lock.

Events a person causes carry ``source: user`` and the client they came through: the control
server sets ``acting_client`` while it runs a request, and every user event recorded in that
context is stamped with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar

from fleet_tui.adapters.eventlog import EventLogWriter
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold
from fleet_tui.core.rules import Command, FleetPolicy, settle
from fleet_tui.core.state import FleetState

#: The client a request being carried out came from ("ui pid 123"), or "" outside requests.
acting_client: ContextVar[str] = ContextVar("acting_client", default="")


class ServiceError(Exception):
    """A command that cannot be carried out; the message is one line for the user."""


class EventPipeline:
    def __init__(self, rules: FleetPolicy, clock: Callable[[], float],
                 on_commands: Callable[[list[Command]], None]) -> None:
        self.state = FleetState()
        self.rules = rules
        self.clock = clock
        self.lock = threading.RLock()
        self.log: EventLogWriter | None = None
        #: Agents the user is stopping (kill, restart): their exit is not a failure.
        self.stopping: set[str] = set()
        #: Told about every event recorded (under the lock: they must not block or submit).
        self.listeners: list[Callable[[ev.Event], None]] = []
        self._on_commands = on_commands

    def submit(self, event: ev.Event) -> ev.Event:
        """Log, fold and settle one event. Safe from any thread."""
        with self.lock:
            if self.log is None:
                raise ServiceError("the fleet is not started")
            self.record(event)
            commands = settle(self.state, self.rules, event, self.record, stopping=self.stopping)
            if commands:  # queued in order, carried out by the runner outside the lock
                self._on_commands(commands)
        return event

    def record(self, event: ev.Event) -> None:
        """Append and fold one event, without the rules (call with the lock held)."""
        if not event.ts:
            event.ts = self.clock()
        if event.source == ev.SOURCE_USER and not event.client:
            event.client = acting_client.get()
        assert self.log is not None
        self.log.append(event)
        fold(self.state, event)
        for listener in self.listeners:
            listener(event)
