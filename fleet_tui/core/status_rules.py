"""Heuristic agent status from what its pane shows and when it last changed.

Pure: no I/O, no clock. The pane monitor calls ``match_screen`` when a capture changes the
screen (regexes run once per change, not per tick) and ``decide_status`` on every capture and
status tick with the current time.

Rules, first match wins:

1. ``exited``  - the pane is dead;
2. ``waiting`` - a *waiting* pattern matches the bottom of the screen (a prompt for input);
3. ``working`` - the screen changed within ``working_for`` seconds;
4. ``stalled`` - the agent holds a task and the screen has not changed for ``stall_after``;
5. ``working`` - a *working* pattern matches (e.g. a static "esc to interrupt" line);
6. ``done``    - a *done* pattern matches;
7. ``idle``    - an *idle* pattern matches (the agent is at its prompt);
8. ``starting``- the agent has idle patterns but none has matched since it started: it is
   still loading (a quiet screen is not a prompt yet, and routing must not type into it);
9. ``idle``    - otherwise (the screen is quiet).

Patterns are matched against the last ``TAIL_ROWS`` non-blank rows, ANSI stripped, joined with
newlines, with ``re.MULTILINE`` (so ``^``/``$`` anchor on rows). Dialog boxes are taken off:
a row of box lines only (``╭────╮``, ``│      │``) counts as blank and the side borders of a
boxed row are dropped, so ``^`` anchors on what the box holds (Gemini CLI draws its menus in
boxes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from fleet_tui.core.sanitize import strip_ansi
from fleet_tui.core.state import DONE, EXITED, IDLE, STALLED, STARTING, WAITING, WORKING

#: How many non-blank rows from the bottom the patterns see.
TAIL_ROWS = 10

#: A screen change keeps an agent ``working`` for this long (seconds).
WORKING_FOR = 2.0

_KINDS = ("waiting", "working", "idle", "done")


@dataclass(frozen=True)
class CompiledPatterns:
    """The four pattern lists of a ``StatusPatterns``, compiled. ``errors`` lists patterns
    that did not compile (they are left out)."""

    waiting: tuple[re.Pattern[str], ...] = ()
    working: tuple[re.Pattern[str], ...] = ()
    idle: tuple[re.Pattern[str], ...] = ()
    done: tuple[re.Pattern[str], ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.waiting or self.working or self.idle or self.done)


NO_PATTERNS = CompiledPatterns()


def compile_patterns(
    waiting: Iterable[str] = (),
    working: Iterable[str] = (),
    idle: Iterable[str] = (),
    done: Iterable[str] = (),
) -> CompiledPatterns:
    errors: list[str] = []

    def comp(sources: Iterable[str]) -> tuple[re.Pattern[str], ...]:
        out = []
        for src in sources:
            try:
                out.append(re.compile(src, re.MULTILINE))
            except re.error as exc:
                errors.append(f"{src!r}: {exc}")
        return tuple(out)

    return CompiledPatterns(
        waiting=comp(waiting), working=comp(working), idle=comp(idle), done=comp(done),
        errors=tuple(errors),
    )


def compile_from(spec: Any) -> CompiledPatterns:
    """Compile anything with ``waiting``/``working``/``idle``/``done`` lists (a config
    ``StatusPatterns``, a dict, or None for no patterns)."""
    if spec is None:
        return NO_PATTERNS
    if isinstance(spec, CompiledPatterns):
        return spec
    if isinstance(spec, dict):
        return compile_patterns(**{k: spec.get(k, ()) for k in _KINDS})
    return compile_patterns(**{k: getattr(spec, k, ()) or () for k in _KINDS})


class ScreenMatch(msgspec.Struct, frozen=True):
    """Which pattern of each kind matched the screen ("" when none did)."""

    waiting: str = ""
    working: str = ""
    idle: str = ""
    done: str = ""


NO_MATCH = ScreenMatch()


#: Box-drawing characters: any of them in a row means it may need unboxing.
_BOX_CHARS = "─━═╭╮╰╯┌┐└┘├┤┬┴┼╌╍┄┅▔▁│┃║"
_HAS_BOX = re.compile(f"[{_BOX_CHARS}]")
_BOX_ONLY = re.compile(f"[\\s{_BOX_CHARS}]*")
_SIDES = "│┃║"


def unbox(text: str) -> str:
    """A row without its box: "" for a row of box lines only, else without side borders
    (nested boxes too). Linear in the row's length: this runs on every captured change."""
    if not _HAS_BOX.search(text):
        return text
    if _BOX_ONLY.fullmatch(text):
        return ""
    out = text.strip()
    if out[0] in _SIDES or out[-1] in _SIDES:
        while out and out[0] in _SIDES:
            out = out[1:].strip()
        while out and out[-1] in _SIDES:
            out = out[:-1].rstrip()
        return out
    return text.rstrip()


def screen_tail(rows: list[str], tail: int = TAIL_ROWS) -> str:
    """The text the patterns see: the last ``tail`` non-blank rows, ANSI stripped, unboxed."""
    out: list[str] = []
    for row in reversed(rows):
        text = unbox(strip_ansi(row).rstrip())
        if text:
            out.append(text)
            if len(out) >= tail:
                break
    out.reverse()
    return "\n".join(out)


def match_screen(rows: list[str], patterns: CompiledPatterns, tail: int = TAIL_ROWS) -> ScreenMatch:
    if patterns.empty:
        return NO_MATCH
    text = screen_tail(rows, tail)

    def first(pats: tuple[re.Pattern[str], ...]) -> str:
        for p in pats:
            if p.search(text):
                return p.pattern
        return ""

    return ScreenMatch(
        waiting=first(patterns.waiting), working=first(patterns.working),
        idle=first(patterns.idle), done=first(patterns.done),
    )


def decide_status(
    match: ScreenMatch,
    *,
    now: float,
    last_change: float,
    alive: bool = True,
    holds_task: bool = False,
    stall_after: float | None = None,
    working_for: float = WORKING_FOR,
    prompt_seen: bool = True,
) -> tuple[str, str]:
    """``(status, reason)`` by the rules in the module docstring. ``prompt_seen``: false while
    the agent has idle patterns and none has matched since it started (see ``prompt_seen``)."""
    if not alive:
        return EXITED, "the pane is dead"
    if match.waiting:
        return WAITING, f"waiting pattern /{match.waiting}/ matches"
    quiet = now - last_change
    if quiet < working_for:
        return WORKING, "the screen is changing"
    if holds_task and stall_after is not None and stall_after > 0 and quiet >= stall_after:
        return STALLED, f"no screen change for {int(quiet)}s while holding a task"
    if match.working:
        return WORKING, f"working pattern /{match.working}/ matches"
    if match.done:
        return DONE, f"done pattern /{match.done}/ matches"
    if match.idle:
        return IDLE, f"idle pattern /{match.idle}/ matches"
    if not prompt_seen:
        return STARTING, "no prompt seen yet"
    return IDLE, "the screen is quiet"


def prompt_seen(seen: bool, match: ScreenMatch, patterns: CompiledPatterns) -> bool:
    """Whether an agent has shown its prompt since it started, after a new screen ``match``:
    always for patterns without an idle list (nothing to wait for); else once one matched."""
    return seen or not patterns.idle or bool(match.idle)
