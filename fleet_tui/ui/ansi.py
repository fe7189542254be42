"""Captured pane rows (``tmux capture-pane -p -e``) to Textual Strips: a small cached SGR parser.

Owns the SGR state model, the Style cache and the per-line cache. ``capture-pane -e`` carries
colour state from one row to the next (it never resets at a line end), so a row's rendering
depends on the state it starts in: the line cache is keyed on (incoming state, row) and returns
(Strip, outgoing state). The renderer returns the same Strip object for the same key, and each
Strip caches its own crops, so re-rendering unchanged rows costs a dictionary lookup.

Handled SGR codes: 0, 1, 2, 3, 4, 7, 9, 22-24, 27, 29, 30-37, 90-97, 40-47, 100-107, 38/48 with
``5;n`` or ``2;r;g;b`` (semicolon or colon forms), 39, 49; others (58 with its arguments) are
skipped. Other escape sequences (CSI, OSC, DCS, two-byte ESC), control characters and
invisible format characters (bidi overrides) are dropped: the grammar and the character set
are ``fleet_tui.core.sanitize``'s. Nothing here raises on garbage input.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from fleet_tui.core.sanitize import ESCAPE, UNSAFE_CHARS, is_sgr

#: SGR state: (foreground, background, attribute bits). A colour is ``DEFAULT_COLOR``, a palette
#: index 0-255, or ``RGB | 0xRRGGBB``.
SGRState = tuple[int, int, int]
DEFAULT_COLOR = -1
RGB = 1 << 24
DEFAULT_STATE: SGRState = (DEFAULT_COLOR, DEFAULT_COLOR, 0)

BOLD, DIM, ITALIC, UNDERLINE, REVERSE, STRIKE = 1, 2, 4, 8, 16, 32
_SET = {1: BOLD, 2: DIM, 3: ITALIC, 4: UNDERLINE, 7: REVERSE, 9: STRIKE}
_CLEAR = {22: BOLD | DIM, 23: ITALIC, 24: UNDERLINE, 27: REVERSE, 29: STRIKE}


def _number(param: str) -> int:
    return int(param) if param.isascii() and param.isdigit() and len(param) < 10 else 0


def _extended_colour(args: Sequence[str]) -> tuple[int | None, int]:
    """The colour after a 38/48 and how many of ``args`` it used (None: malformed)."""
    kind = _number(args[0]) if args else 0
    if kind == 5 and len(args) >= 2:
        index = _number(args[1])
        return (index if index < 256 else None), 2
    if kind == 2 and len(args) >= 4:
        r, g, b = (_number(a) for a in args[1:4])
        if max(r, g, b) < 256:
            return RGB | r << 16 | g << 8 | b, 4
        return None, 4
    return None, len(args)


def apply_sgr(params: str, state: SGRState) -> SGRState:
    """The state after ``ESC [ params m``."""
    fg, bg, attrs = state
    codes = params.split(";")
    i = 0
    while i < len(codes):
        fields = codes[i].split(":")
        i += 1
        code = _number(fields[0])
        if code in (38, 48, 58):  # 58: underline colour, parsed to skip its arguments
            if len(fields) > 1:  # colon form: 38:5:n, 38:2:r:g:b or 38:2:colourspace:r:g:b
                args = fields[1:]
                if len(args) == 5:
                    del args[1]
                colour, _ = _extended_colour(args)
            else:
                colour, used = _extended_colour(codes[i : i + 4])
                i += used
            if colour is not None and code == 38:
                fg = colour
            elif colour is not None and code == 48:
                bg = colour
        elif code == 0:
            fg, bg, attrs = DEFAULT_STATE
        elif code in _SET:
            if code == 4 and len(fields) > 1 and _number(fields[1]) == 0:  # 4:0 = no underline
                attrs &= ~UNDERLINE
            else:
                attrs |= _SET[code]
        elif code in _CLEAR:
            attrs &= ~_CLEAR[code]
        elif 30 <= code <= 37:
            fg = code - 30
        elif 90 <= code <= 97:
            fg = code - 82
        elif code == 39:
            fg = DEFAULT_COLOR
        elif 40 <= code <= 47:
            bg = code - 40
        elif 100 <= code <= 107:
            bg = code - 92
        elif code == 49:
            bg = DEFAULT_COLOR
    return fg, bg, attrs


def _rich_color(colour: int) -> Color | None:
    if colour == DEFAULT_COLOR:
        return None
    if colour >= RGB:
        return Color.from_rgb(colour >> 16 & 0xFF, colour >> 8 & 0xFF, colour & 0xFF)
    return Color.from_ansi(colour)


@lru_cache(maxsize=4096)
def style_for(state: SGRState) -> Style | None:
    """The Rich Style of an SGR state (None for the default state: the widget's own style)."""
    if state == DEFAULT_STATE:
        return None
    fg, bg, attrs = state
    return Style(
        color=_rich_color(fg),
        bgcolor=_rich_color(bg),
        bold=bool(attrs & BOLD) or None,
        dim=bool(attrs & DIM) or None,
        italic=bool(attrs & ITALIC) or None,
        underline=bool(attrs & UNDERLINE) or None,
        reverse=bool(attrs & REVERSE) or None,
        strike=bool(attrs & STRIKE) or None,
    )


def parse_line(line: str, state: SGRState = DEFAULT_STATE) -> tuple[Strip, SGRState]:
    """One row to an uncropped Strip, and the SGR state at its end (not cached)."""
    segments: list[Segment] = []
    pos = 0
    for match in ESCAPE.finditer(line):
        text = line[pos : match.start()].translate(UNSAFE_CHARS)
        if text:
            segments.append(Segment(text, style_for(state)))
        if is_sgr(match):
            state = apply_sgr(match.group(1), state)
        pos = match.end()
    text = line[pos:].translate(UNSAFE_CHARS)
    if text:
        segments.append(Segment(text, style_for(state)))
    return Strip(segments).simplify(), state


class AnsiRenderer:
    """Renders captured rows to Strips, caching each (incoming state, row) it has seen.

    One renderer can be shared by many cards: identical rows (blank ones, prompts) hit the
    same cache entries.
    """

    def __init__(self, max_lines: int = 2048) -> None:
        self.line = lru_cache(maxsize=max_lines)(parse_line)
        """``line(row, state) -> (Strip, outgoing state)``, cached."""

    def cache_info(self):
        """Hits, misses and size of the line cache."""
        return self.line.cache_info()

    def state_after(self, rows: Sequence[str], state: SGRState = DEFAULT_STATE) -> SGRState:
        """The SGR state at the end of ``rows``, starting in ``state``."""
        line = self.line
        for row in rows:
            state = line(row, state)[1]
        return state

    def render(
        self, rows: Sequence[str], width: int | None = None, state: SGRState = DEFAULT_STATE
    ) -> tuple[list[Strip], SGRState]:
        """Strips for ``rows`` (cropped or padded to ``width`` cells if given) and the end state."""
        strips: list[Strip] = []
        line = self.line
        for row in rows:
            strip, state = line(row, state)
            strips.append(strip if width is None else strip.adjust_cell_length(width))
        return strips, state
