"""Text made safe to draw or export: the one escape-sequence grammar and the one sanitiser.

Everything an agent, a hook, the inbox, fleet.yaml or a log file says is hostile input. Before
it reaches a terminal (a widget, a notice, a CLI line) or an export (Markdown, CSV, asciicast)
it goes through one of these:

- ``safe_line``: one line for a timeline row, a card title, a board row, a table cell. SGR
  colour codes are dropped; every other control character, escape sequence (CSI, OSC, DCS,
  APC, PM, SOS, lone ESC, C1 controls such as U+009B) and invisible format character (bidi
  overrides and isolates, zero-width characters, line separators, lone surrogates) is shown
  escaped as visible text (``\\x1b]52;...``), so nothing reaches the terminal raw and the user
  sees that something was tried. Tabs and line breaks become spaces; zero-width joiners
  (inside emoji) are dropped.
- ``safe_text``: the same, keeping ``\\n`` and ``\\t`` (``\\r\\n`` becomes ``\\n``) for fields
  shown on several lines.
- ``safe_code``: one line of a file's content (a diff): as ``safe_line``, but SGR codes are
  shown escaped as well, since in a file they are content.
- ``pane_text``: a captured pane row keeping only its SGR colour codes (what the asciicast
  export writes); ``strip_ansi``: a row without any escape sequence (for matching).
- ``spreadsheet_cell``: a CSV cell that no spreadsheet reads as a formula.

``ESCAPE`` and ``UNSAFE_CHARS`` are also what ``fleet_tui.ui.ansi`` parses pane rows with. Clean
text costs one ``str.isprintable`` call; other text is sanitised once and cached.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: One escape sequence: CSI (group 1 = parameters, group 2 = final byte), OSC / DCS / SOS / PM /
#: APC strings up to BEL or ST (or the end of the text), any other ESC + one character.
ESCAPE = re.compile(
    r"\x1b(?:\[([0-?]*)[ -/]*([@-~])|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)",
    re.DOTALL,
)

# Every character of Unicode categories Cc (C0, DEL, C1), Cf (format: bidi, zero-width, BOM,
# soft hyphen, tags), Zl, Zp and Cs (lone surrogates, which cannot even be encoded). A test
# checks this list against ``unicodedata``.
_UNSAFE_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD),
    (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F),
    (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)

#: ``str.translate`` table that deletes every unsafe character (pane rows, where an escaped
#: form would shift the columns).
UNSAFE_CHARS: dict[int, None] = dict.fromkeys(
    cp for low, high in _UNSAFE_RANGES for cp in range(low, high + 1)
)


def _char_class(ranges: tuple[tuple[int, int], ...], keep: str = "") -> re.Pattern[str]:
    parts = []
    for low, high in ranges:
        for cp in range(low, high + 1):
            if chr(cp) in keep:
                if low < cp:
                    parts.append((low, cp - 1))
                low = cp + 1
        if low <= high:
            parts.append((low, high))
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in parts) + "]")


_UNSAFE_BUT_ESC = {cp: None for cp in UNSAFE_CHARS if cp != 0x1B}
_UNSAFE_IN_LINE = _char_class(_UNSAFE_RANGES)
_UNSAFE_IN_TEXT = _char_class(_UNSAFE_RANGES, keep="\n\t")
_JOINERS = dict.fromkeys((0x200C, 0x200D))
_LINE_BREAK = re.compile(r"\r\n|[\r\n\t]")
_FORMULA_START = ("=", "+", "-", "@")


def _visible(match: re.Match[str]) -> str:
    cp = ord(match.group())
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _without_sgr(match: re.Match[str]) -> str:
    return "" if is_sgr(match) else match.group()


def is_sgr(match: re.Match[str]) -> bool:
    """Whether an ``ESCAPE`` match is an SGR (colour and attribute) sequence."""
    params = match.group(1)
    return match.group(2) == "m" and not params.startswith(("<", "=", ">", "?"))


@lru_cache(maxsize=2048)
def _sanitise(text: str, multiline: bool) -> str:
    if "\x1b" in text:
        text = ESCAPE.sub(_without_sgr, text)
    text = text.translate(_JOINERS)
    if multiline:
        return _UNSAFE_IN_TEXT.sub(_visible, text.replace("\r\n", "\n"))
    return _UNSAFE_IN_LINE.sub(_visible, _LINE_BREAK.sub(" ", text))


def safe_line(text: str) -> str:
    """``text`` as one line the terminal only displays (see the module docstring)."""
    if text.isprintable():
        return text
    return _sanitise(text, False)


def safe_text(text: str) -> str:
    """``text`` keeping its line breaks and tabs, otherwise as ``safe_line``."""
    if text.isprintable():
        return text
    return _sanitise(text, True)


def safe_code(text: str) -> str:
    """One line of a file's content (a diff) as ``safe_line`` makes it, except that colour
    codes are shown escaped too: in a file they are content a reviewer must see."""
    if text.isprintable():
        return text
    return _UNSAFE_IN_LINE.sub(_visible, _LINE_BREAK.sub(" ", text.translate(_JOINERS)))


def strip_ansi(text: str) -> str:
    """Text without escape sequences (control characters are left as they are)."""
    if "\x1b" not in text:
        return text
    return ESCAPE.sub("", text)


def _sgr_only(match: re.Match[str]) -> str:
    return match.group() if is_sgr(match) else ""


def pane_text(row: str) -> str:
    """A captured pane row with its SGR colour codes and nothing else a terminal acts on:
    other escape sequences and unsafe characters are removed."""
    if row.isprintable():
        return row
    # After the substitution every ESC left starts an SGR sequence.
    return ESCAPE.sub(_sgr_only, row).translate(_UNSAFE_BUT_ESC)


def spreadsheet_cell(text: str) -> str:
    """A safe one-line CSV cell; one that a spreadsheet would read as a formula (starting
    with ``= + - @``) gets a leading apostrophe."""
    text = safe_line(text)
    return "'" + text if text.startswith(_FORMULA_START) else text
