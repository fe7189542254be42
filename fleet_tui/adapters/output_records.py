"""The compact log record of pane output: what an ``AgentOutput`` event looks like in the log.

Pane output is most of a log, and a scrolling agent logs one event per line it prints, so the
record's fixed part counts more than anything else (``bench/outputlog.py``). An output event is
written as a JSON array instead of an object::

    ["o", seq, ts, agent, changes, scroll, pane, keyframe, width, height]

trailing fields at their default (0, "", false) left off, so a line that scrolled the screen is
``["o",812,1764445713.123,"dev",[[23,"..."]],1]``; ``ts`` is kept to the millisecond (the writer
rounds the event's own ``ts``, so the event it holds is the event read back). In the text, ESC
(which JSON can only write as the six bytes ``\u001b``: a fifth of a coloured agent screen) is
written as DEL (0x7f, one byte; a pane capture holds none). ``pane`` is named
on every keyframe and whenever it is not the pane this log last named for the agent; left off,
it means that pane (``EventLogWriter`` keeps what it named: ``OutputEncoder``; the fold keeps
what it read: ``FleetState.output_panes``), so output of a replaced pane is still told apart. An
event whose text holds a DEL, or whose ``source``, ``ref`` or ``client`` is not the default (the
monitor never sets them), is written in full, as the ``agent.output`` object every log before
schema 2 holds.

Reading: ``RECORD`` is what a log line decodes to besides the events; ``as_event`` turns a
compact record into its ``AgentOutput`` (pane "" where the record left it off) and refuses
a malformed one with ``msgspec.ValidationError``, as a bad object record is refused.
"""

from __future__ import annotations

from typing import Union

import msgspec

from fleet_tui.core.events import SOURCE_ORCHESTRATOR, AgentOutput, Event, UnknownEvent

TAG = "o"
ESC, DEL = "\x1b", "\x7f"
_Item = Union[str, int, float, bool, list[tuple[int, str]]]  # noqa: UP007
#: A compact record as decoded (rows of ``changes`` come out as ``(row, text)`` tuples).
RECORD = list[_Item]
#: The type of each field, and the value of those that may be left off.
_TYPES = (str, int, float, str, list, int, str, bool, int, int)
_DEFAULTS = (TAG, 0, 0.0, "", [], 0, "", False, 0, 0)
_REQUIRED = 5


class OutputEncoder:
    """Encodes output events for one log writer, remembering the pane it last named per agent."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._panes: dict[str, str] = {}

    def encode_into(self, event: AgentOutput, buf: bytearray) -> None:
        """Append ``event``'s record (no newline) to ``buf``; rounds ``event.ts`` to the
        millisecond. Raises what ``msgspec`` raises for what cannot be encoded, with ``buf``
        unchanged and nothing remembered."""
        event.ts = round(event.ts, 3)
        pane = event.pane
        start = len(buf)
        try:
            self._encoder.encode_into(self._record(event) or event, buf, -1)
        except BaseException:
            del buf[start:]
            raise
        if pane:
            self._panes[event.agent] = pane

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
        record = [TAG, event.seq, event.ts, event.agent, changes, event.scroll, pane,
                  event.keyframe, event.width, event.height]
        while len(record) > _REQUIRED and record[-1] == _DEFAULTS[len(record) - 1]:
            record.pop()
        return record


def as_event(item: Event | UnknownEvent | RECORD) -> Event | UnknownEvent:
    """A decoded log line as an event: compact records become ``AgentOutput``."""
    if type(item) is not list:
        return item  # type: ignore[return-value]
    n = len(item)
    if n < _REQUIRED or item[0] != TAG or tuple(map(type, item)) != _TYPES[:n]:
        raise msgspec.ValidationError(f"not an output record: {_fields(item)}")
    changes = [(row, text.replace(DEL, ESC)) for row, text in item[4]]
    if n == 6:  # most records: a delta from the pane named before
        return AgentOutput(seq=item[1], ts=item[2], agent=item[3], changes=changes, scroll=item[5])
    _, seq, ts, agent, _, scroll, pane, keyframe, width, height = (*item, *_DEFAULTS[n:])
    return AgentOutput(seq=seq, ts=ts, agent=agent, changes=changes, scroll=scroll, pane=pane,
                       keyframe=keyframe, width=width, height=height)


def _fields(item: list) -> str:
    """What a bad record holds, short: the types of its fields."""
    return "[" + ", ".join(type(v).__name__ for v in item[:12]) + "]"


def as_events(items: list[Event | UnknownEvent | RECORD]) -> list[Event | UnknownEvent]:
    """``as_event`` of each decoded line of a block."""
    return [as_event(i) if type(i) is list else i for i in items]  # type: ignore[misc]
