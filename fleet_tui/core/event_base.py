"""The fields every event has (``Event``) and who can cause one (sources): the base that
``events.py`` (the tagged union) and ``workspace_events.py`` build on.

Each event is a msgspec Struct tagged by ``type`` (a dotted name). Every event carries
``seq`` (monotonic per log, set by the log writer), ``ts`` (seconds since the epoch, set by
whoever observed the event: the core never reads a clock) and ``source`` (``user``,
``orchestrator``, ``agent:<name>`` or ``hook:<name>``).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

SCHEMA_VERSION = 2

#: Event sources (``agent:<name>`` and ``hook:<name>`` are built with the helpers below).
SOURCE_USER = "user"
SOURCE_ORCHESTRATOR = "orchestrator"
#: The pane monitor's reading of an agent's screen (its ``agent.status`` events).
SOURCE_SCREEN = "screen"


def agent_source(name: str) -> str:
    return f"agent:{name}"


def hook_source(name: str) -> str:
    return f"hook:{name}"


class Event(msgspec.Struct, kw_only=True, tag_field="type", omit_defaults=True):
    """Fields every event has. Subclasses set ``tag`` to their dotted type name."""

    seq: int = 0
    ts: float = 0.0
    source: str = SOURCE_ORCHESTRATOR
    #: The inbox message this event came from (empty for everything else): makes ingestion
    #: idempotent across restarts.
    ref: str = ""

    #: The client (UI, command line, browser) through which a person caused this event; empty
    #: for everything the daemon, agents and hooks cause.
    client: str = ""

    #: Chatty events are group-committed; everything else is fsynced before append returns.
    chatty: ClassVar[bool] = False
    #: What the event means to the rest of the system: whether the timeline keeps it, and
    #: whether the rules react to it (pane contents do neither: they are not happenings).
    in_timeline: ClassVar[bool] = True
    reacts: ClassVar[bool] = True

    @property
    def type_name(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]
