"""A session's timeline as CSV: one row per event the timeline shows (pane output is left out),
with its seq, UTC time (ISO 8601), source, type, agent, task and one-line summary. Text cells
are made safe to draw and never start a spreadsheet formula (``core.sanitize.spreadsheet_cell``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import spreadsheet_cell
from fleet_tui.core.summary import summarize
from fleet_tui.replay.index import in_timeline

COLUMNS = ("seq", "time", "source", "type", "agent", "task", "summary")


def write_timeline_csv(events: Iterable[ev.Event | ev.UnknownEvent], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in events:
        if not in_timeline(e):
            continue
        texts = (
            e.source,  # type: ignore[union-attr]
            e.type_name,
            getattr(e, "agent", None) or "",
            getattr(e, "task", None) or "",
            summarize(e),
        )
        writer.writerow((
            e.seq,
            datetime.fromtimestamp(e.ts, UTC).isoformat(timespec="milliseconds"),
            *(spreadsheet_cell(str(text)) for text in texts),
        ))
