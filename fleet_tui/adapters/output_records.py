"""Schema 2 of the log: pane output as compact records, and DEL standing for ESC.

Pane output is most of a log, and a scrolling agent logs one event per line it prints, so the
record's fixed part counts more than anything else (``bench/outputlog.py``). An ``AgentOutput``
event is written as a JSON array instead of an object::

    ["o", seq, ts, agent, changes, scroll, pane, keyframe, width, height]

trailing fields at their default (0, "", false) left off, so a line that scrolled the screen is
``["o",812,1764445713.123,"dev",[[23,"..."]],1]``; ``ts`` is kept to the millisecond (the writer
rounds the event's own ``ts``, so the event it holds is the event read back). ``pane`` is named
on every keyframe and whenever it is not the pane this log last named for the agent; left off,
it means that pane (``EventLogWriter`` keeps what it named: ``OutputEncoder``; the fold keeps
what it read: ``FleetState.output_panes``), so output of a replaced pane is still told apart. An
event whose ``source``, ``ref`` or ``client`` is not the default (the monitor never sets them),
or whose text holds a DEL, is written in full, as the ``agent.output`` object schema 1 wrote.

ESC, which JSON can only write as the six bytes ``\\u001b`` (a fifth of a coloured agent's
screen), is written in compact records as a raw DEL byte (0x7f; a pane capture holds none), and
every other record writes a DEL as ``\\u007f``. So every raw DEL byte of a schema-2 log is an
ESC, and the reader turns them back before it decodes a block (``restore_esc``: one bytes
replace, nothing per record).

A log keeps the schema it began with (``compact_log``): one whose header says schema 0 or 1 is
still written and read as before (every event an object, DEL as itself); a new log, or one
without a header, is schema 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import msgspec

from fleet_tui.core.events import EVENT_TYPES, SOURCE_ORCHESTRATOR, AgentOutput, Event, UnknownEvent

TAG = "o"
#: The first schema whose logs hold compact records.
COMPACT_SCHEMA = 2
ESC, DEL = "\x1b", "\x7f"
_Item = Union[str, int, float, bool, list[tuple[int, str]]]  # noqa: UP007
#: A compact record as decoded (rows of ``changes`` come out as ``(row, text)`` tuples).
RECORD = list[_Item]
#: What a log line decodes to: an event, or a compact record (``as_event`` turns it).
LINE_TYPE = Union[(*EVENT_TYPES, RECORD)]  # type: ignore[valid-type]
#: The type of each field, and the value of those that may be left off.
_TYPES = (str, int, float, str, list, int, str, bool, int, int)
_DELTA = _TYPES[:6]  # most records: a scroll, in the pane named before
_DEFAULTS = (TAG, 0, 0.0, "", [], 0, "", False, 0, 0)
_REQUIRED = 5
#: Bytes read to find a log's header.
_HEAD_BYTES = 1 << 16


class _Header(msgspec.Struct):
    type: str = ""
    schema: int = 1  # schema 1's writers left out what was then the default


def compact_log(path: Path) -> bool:
    """Whether the log at ``path`` is of schema 2 or later (or will be: a new or empty log)."""
    try:
        with open(path, "rb") as f:
            first = f.read(_HEAD_BYTES).split(b"\n", 1)[0]
        head = msgspec.json.decode(first, type=_Header)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return True
    return head.type != "log.header" or head.schema >= COMPACT_SCHEMA


def escape_del(buf: bytearray, start: int) -> None:
    """Write the raw DEL bytes of the record at ``buf[start:]`` as ``\\u007f``."""
    if buf.find(b"\x7f", start) >= 0:
        buf[start:] = buf[start:].replace(b"\x7f", b"\\u007f")


def restore_esc(block: bytes) -> bytes:
    """A block of a schema-2 log with each raw DEL byte back to the ESC it stands for."""
    return block.replace(b"\x7f", b"\\u001b")


class OutputEncoder:
    """Encodes output events for one writer of a schema-2 log, remembering the pane it last
    named per agent."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._panes: dict[str, str] = {}

    def encode_into(self, event: AgentOutput, buf: bytearray) -> None:
        """Append ``event``'s record (no newline) to ``buf``; rounds ``event.ts`` to the
        millisecond. Raises what ``msgspec`` raises for what cannot be encoded, with ``buf``
        unchanged and nothing remembered."""
        event.ts = round(event.ts, 3)
        start = len(buf)
        try:
            record = self._record(event)
            if record is None:
                self._encoder.encode_into(event, buf, -1)
                escape_del(buf, start)
            else:
                self._encoder.encode_into(record, buf, -1)
        except BaseException:
            del buf[start:]
            raise
        if event.pane:
            self._panes[event.agent] = event.pane

    def _record(self, event: AgentOutput) -> list | None:
        """The compact record of ``event``, or None when it must be written in full."""
        if event.source != SOURCE_ORCHESTRATOR or event.ref or event.client:
            return None
        changes = []
        for row, text in event.changes:
            if DEL in text:
                return None
            changes.append((row, text.replace(ESC, DEL)))
        pane = event.pane
        if not event.keyframe and pane == self._panes.get(event.agent):
            pane = ""
        tail = [event.scroll, pane, event.keyframe, event.width, event.height]
        while tail and not tail[-1]:  # each one's default is its only false value
            tail.pop()
        return [TAG, event.seq, event.ts, event.agent, changes, *tail]


def as_event(item: Event | UnknownEvent | RECORD) -> Event | UnknownEvent:
    """A decoded log line as an event: compact records become ``AgentOutput`` (pane "" where
    the record left it off); a malformed one raises ``msgspec.ValidationError``."""
    if type(item) is not list:
        return item  # type: ignore[return-value]
    types = tuple(map(type, item))
    if types == _DELTA and item[0] == TAG:
        return AgentOutput(seq=item[1], ts=item[2], agent=item[3], changes=item[4], scroll=item[5])
    n = len(item)
    if n < _REQUIRED or item[0] != TAG or types != _TYPES[:n]:
        fields = ", ".join(t.__name__ for t in types[:12])
        raise msgspec.ValidationError(f"not an output record: [{fields}]")
    _, seq, ts, agent, changes, scroll, pane, keyframe, width, height = (*item, *_DEFAULTS[n:])
    return AgentOutput(seq=seq, ts=ts, agent=agent, changes=changes, scroll=scroll, pane=pane,
                       keyframe=keyframe, width=width, height=height)


def as_events(items: list[Event | UnknownEvent | RECORD]) -> list[Event | UnknownEvent]:
    """``as_event`` of each decoded line of a block."""
    return [as_event(i) if type(i) is list else i for i in items]  # type: ignore[misc]
