"""Past sessions on disk: find them and summarise each (start, duration, agents, events).

The summary streams the log with a decoder that only reads ``type``, ``ts`` and ``agent`` (and
pane output's compact records), so listing many large sessions stays quick.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from fleet_tui.adapters import paths
from fleet_tui.adapters.eventlog import is_being_written
from fleet_tui.adapters.eventlog_read import line_blocks
from fleet_tui.adapters.output_records import RECORD, as_event


class SessionSummary(msgspec.Struct):
    id: str
    path: Path
    fleet: str = ""
    started: float = 0.0
    ended: float = 0.0
    agents: int = 0
    events: int = 0
    live: bool = False

    @property
    def duration(self) -> float:
        return max(0.0, self.ended - self.started)


class _Head(msgspec.Struct):
    type: str = ""
    ts: float = 0.0
    agent: str | None = None
    fleet: str = ""


def summarise(events_file: Path) -> SessionSummary:
    decoder = msgspec.json.Decoder(_Head | RECORD)
    summary = SessionSummary(id=events_file.parent.name, path=events_file)
    agents: set[str] = set()
    for block, _rest in line_blocks(events_file):
        for line in block.splitlines():
            try:
                head = decoder.decode(line)
                if type(head) is list:
                    head = _Head(type="agent.output", ts=as_event(head).ts)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            summary.events += 1
            if head.type == "log.header":
                summary.fleet = head.fleet
                summary.started = head.ts
            elif head.type == "agent.spawned" and head.agent:
                agents.add(head.agent)
            if not summary.started:
                summary.started = head.ts
            summary.ended = max(summary.ended, head.ts)
    summary.agents = len(agents)
    summary.live = is_being_written(events_file)
    return summary


def list_sessions(root: Path | None = None) -> list[SessionSummary]:
    """Sessions under ``root`` (default: the fleet home's), oldest first."""
    root = root or paths.sessions_dir()
    if not root.is_dir():
        return []
    found = sorted(p / paths.EVENTS_FILE for p in root.iterdir() if (p / paths.EVENTS_FILE).is_file())
    return [summarise(p) for p in found]
