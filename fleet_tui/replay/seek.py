"""Seek targets a user types in replay (the ``g`` prompt) or passes on the command line.

Pure: text in, a target out; the cursor resolves a target against a session.

=============  ===========================================================================
``#1234``      the event with seq 1234 (the ``seq`` column of the timeline and of CSV exports)
``1234``       the same: a bare whole number is always a seq, never a time
``12:30``      12 min 30 s after the session started (``m:ss``); ``1:02:03`` is ``h:mm:ss``
``90s``        90 s after the session started; units ``h``, ``m``, ``s`` combine: ``1m30s``
``+90s``       90 s later than now; ``-10s``, ``+1:30``, ``-2m`` and ``+90`` (seconds) too
=============  ===========================================================================
"""

from __future__ import annotations

import re

import msgspec


class SeekError(ValueError):
    """The text is not a seek target; the message says what is accepted."""


class Seq(msgspec.Struct, frozen=True):
    """The event whose ``seq`` is ``seq`` (or the first one after it)."""

    seq: int


class Offset(msgspec.Struct, frozen=True):
    """``seconds`` after the session's first event."""

    seconds: float


class Relative(msgspec.Struct, frozen=True):
    """``seconds`` (negative: back) from the current play time."""

    seconds: float


SeekTarget = Seq | Offset | Relative

_SEQ = re.compile(r"#?(\d+)")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)")
_UNITS = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_PLAIN_SECONDS = re.compile(r"\d+(?:\.\d+)?")

HELP = "expected #SEQ, SEQ, M:SS, H:MM:SS, 90s, 1m30s, or +/- one of those times (e.g. -10s)"


def _seconds(text: str, *, signed: bool) -> float | None:
    """Seconds in ``text`` (clock or unit form; a plain number only after a sign)."""
    if match := _CLOCK.fullmatch(text):
        hours, minutes, seconds = match.groups()
        if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
            return None
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    if text and (match := _UNITS.fullmatch(text)):
        hours, minutes, seconds = (float(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    if signed and _PLAIN_SECONDS.fullmatch(text):
        return float(text)
    return None


def parse_seek(text: str) -> SeekTarget:
    """The target ``text`` names; raises ``SeekError`` for anything else."""
    text = text.strip().lower()
    if match := _SEQ.fullmatch(text):
        return Seq(int(match.group(1)))
    if text.startswith(("+", "-")):
        seconds = _seconds(text[1:], signed=True)
        if seconds is not None:
            return Relative(-seconds if text[0] == "-" else seconds)
    else:
        seconds = _seconds(text, signed=False)
        if seconds is not None:
            return Offset(seconds)
    raise SeekError(f"cannot seek to {text!r}: {HELP}")
