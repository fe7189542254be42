"""``fleet-tui export``: find the log a user named, read it, and write it out in one format:
``asciicast`` (one agent's pane), ``markdown`` (an audit report) or ``csv`` (the timeline)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from fleet_tui.adapters import paths
from fleet_tui.adapters.eventlog_read import LogReader
from fleet_tui.replay.asciicast import asciicast_lines
from fleet_tui.replay.report import markdown_report
from fleet_tui.replay.timeline_csv import write_timeline_csv

FORMATS = ("asciicast", "markdown", "csv")


class ExportError(Exception):
    """Bad input (no such log or agent); shown as one line."""


def resolve_log(name: str) -> Path:
    """The event log ``name`` means: a log file, a session folder, or a session id."""
    path = Path(name).expanduser()
    if path.is_dir():
        path = path / paths.EVENTS_FILE
    if path.is_file():
        return path
    by_id = paths.events_path(name)
    if Path(name).name == name and by_id.is_file():
        return by_id
    raise ExportError(f"{name}: no such event log or session (`fleet-tui sessions` lists them)")


def export(name: str, fmt: str, out: TextIO, *, agent: str | None = None,
           skip_corrupt: bool = False) -> list[str]:
    """Write the log ``name`` to ``out`` as ``fmt``; return warnings met reading it. The log is
    only read: a torn tail is reported, not cut off."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "asciicast" and not agent:
        raise ExportError("--format asciicast needs --agent NAME")
    path = resolve_log(name)
    reader = LogReader(path, skip_corrupt=skip_corrupt, repair=False)
    if fmt == "asciicast":
        try:
            lines = asciicast_lines(reader, agent or "", title=f"{agent} ({path.parent.name})")
        except ValueError as exc:
            raise ExportError(f"{path}: {exc}") from None
        out.write("\n".join(lines) + "\n")
    elif fmt == "markdown":
        out.write(markdown_report(reader, log=str(path)))
    else:
        write_timeline_csv(reader, out)
    return reader.warnings
