"""Whether an event would read back from the log as the event it was: the log writer's guard.

msgspec writes a NaN or infinite float as ``null``, which no float field reads back; a string
with a lone surrogate cannot be encoded at all; a field holding a value of the wrong type is
written but fails validation on reading. ``ReadBack.encode_into`` appends one event's JSON to
a buffer and raises ``UnreadableEvent`` (leaving the buffer as it was) for any of these.

Rare events are checked by decoding what was written into their own type. Chatty events
(pane output, statuses: most of the log) are checked cheaply instead: their float fields must
be finite, and encoding itself refuses what is not UTF-8; they come from fleet-tui's own
monitor, whose field types are fixed.

For a log of schema 2 (``compact``: see ``output_records.py``) pane output is encoded as its
compact record, a DEL in any other record as ``\u007f``, and a ``log.header`` says so: its
``schema`` is set to ``SCHEMA_VERSION``. A log that began in schema 1 is encoded as before.
"""

from __future__ import annotations

import math

import msgspec

from fleet_tui.adapters.output_records import OutputEncoder, escape_del
from fleet_tui.core.events import EVENT_TYPES, SCHEMA_VERSION, AgentOutput, Event, LogHeader

_ENCODE_ERRORS = (TypeError, ValueError, OverflowError, msgspec.EncodeError)


class UnreadableEvent(Exception):
    """The event would not read back; the message says why, in one line."""


def _float_fields(cls: type[Event]) -> tuple[str, ...]:
    return tuple(f.name for f in msgspec.structs.fields(cls) if f.type is float)


class ReadBack:
    """Encodes events for the log, refusing those that would not read back."""

    def __init__(self, *, compact: bool = True) -> None:
        self.compact = compact
        self._encoder = msgspec.json.Encoder()
        self._decoders = {cls: msgspec.json.Decoder(cls) for cls in EVENT_TYPES if not cls.chatty}
        self._floats = {cls: _float_fields(cls) for cls in EVENT_TYPES if cls.chatty}
        self._outputs = OutputEncoder()

    def encode_into(self, event: Event, buf: bytearray) -> None:
        """Append ``event``'s JSON (no newline) to ``buf``; raise ``UnreadableEvent`` if it
        would not read back, with ``buf`` unchanged."""
        floats = self._floats.get(type(event))
        start = len(buf)
        if floats is None:
            self._encode_checked(event, buf, start)
            return
        for name in floats:
            if not math.isfinite(getattr(event, name)):
                raise UnreadableEvent(f"{name} is {getattr(event, name)} (only finite numbers "
                                      "can be logged)")
        try:
            if not self.compact:
                self._encoder.encode_into(event, buf, -1)
            elif type(event) is AgentOutput:
                self._outputs.encode_into(event, buf)
            else:
                self._encoder.encode_into(event, buf, -1)
                escape_del(buf, start)
        except _ENCODE_ERRORS as exc:
            del buf[start:]
            raise UnreadableEvent(f"cannot be encoded: {exc}") from None

    def _encode_checked(self, event: Event, buf: bytearray, start: int) -> None:
        """The rare events: encoded, then decoded into their own type."""
        decoder = self._decoders.get(type(event))
        if decoder is None:  # a type outside EVENT_TYPES: it could never be read
            raise UnreadableEvent(f"{type(event).__name__} is not a known event type")
        if type(event) is LogHeader and self.compact:
            event.schema = SCHEMA_VERSION  # what this encoder writes
        try:
            self._encoder.encode_into(event, buf, -1)
        except _ENCODE_ERRORS as exc:
            del buf[start:]
            raise UnreadableEvent(f"cannot be encoded: {exc}") from None
        reason = None
        with memoryview(buf) as view:
            try:
                decoder.decode(view[start:])
            except msgspec.DecodeError as exc:  # ValidationError included
                reason = _why(exc)
        if reason is None:
            if self.compact:
                escape_del(buf, start)
            return
        del buf[start:]
        raise UnreadableEvent(f"would not read back: {reason}")


def _why(exc: msgspec.DecodeError) -> str:
    reason = str(exc)
    if "got `null`" in reason:
        reason += " (a NaN or infinite number)"
    return reason
