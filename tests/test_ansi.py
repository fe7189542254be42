"""The SGR parser: colours, attributes, state carried across rows, caching, cropping, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.color import Color
from rich.style import Style

from fleet_tui.core.screen import strip_ansi
from fleet_tui.ui.ansi import (
    BOLD,
    DEFAULT_COLOR,
    DEFAULT_STATE,
    DIM,
    ITALIC,
    REVERSE,
    RGB,
    STRIKE,
    UNDERLINE,
    AnsiRenderer,
    apply_sgr,
    parse_line,
)

D = DEFAULT_COLOR


@pytest.mark.parametrize(
    ("params", "start", "expected"),
    [
        ("31", DEFAULT_STATE, (1, D, 0)),
        ("97", DEFAULT_STATE, (15, D, 0)),
        ("42", DEFAULT_STATE, (D, 2, 0)),
        ("104", DEFAULT_STATE, (D, 12, 0)),
        ("38;5;200", DEFAULT_STATE, (200, D, 0)),
        ("48;5;17", DEFAULT_STATE, (D, 17, 0)),
        ("38;2;1;2;3", DEFAULT_STATE, (RGB | 0x010203, D, 0)),
        ("48;2;255;0;128", DEFAULT_STATE, (D, RGB | 0xFF0080, 0)),
        ("38:5:200", DEFAULT_STATE, (200, D, 0)),
        ("38:2::1:2:3", DEFAULT_STATE, (RGB | 0x010203, D, 0)),
        ("38:2:1:2:3", DEFAULT_STATE, (RGB | 0x010203, D, 0)),
        ("38;5;200;1", DEFAULT_STATE, (200, D, BOLD)),
        ("38;2;1;2;3;4", DEFAULT_STATE, (RGB | 0x010203, D, UNDERLINE)),
        ("1;2;3;4;7;9", DEFAULT_STATE, (D, D, BOLD | DIM | ITALIC | UNDERLINE | REVERSE | STRIKE)),
        ("22", (1, 2, BOLD | DIM | ITALIC), (1, 2, ITALIC)),
        ("23;24;27;29", (D, D, ITALIC | UNDERLINE | REVERSE | STRIKE), DEFAULT_STATE),
        ("4:0", (D, D, UNDERLINE), DEFAULT_STATE),
        ("4:3", DEFAULT_STATE, (D, D, UNDERLINE)),
        ("39", (5, 6, BOLD), (D, 6, BOLD)),
        ("49", (5, 6, BOLD), (5, D, BOLD)),
        ("0", (5, 6, BOLD), DEFAULT_STATE),
        ("", (5, 6, BOLD), DEFAULT_STATE),
        ("1;31;0;32", DEFAULT_STATE, (2, D, 0)),
        ("38;5;999", (7, D, 0), (7, D, 0)),
        ("38;2;300;0;0", (7, D, 0), (7, D, 0)),
        ("38;5", (7, D, 0), (7, D, 0)),
        ("5;8;53;58;5;3;31", DEFAULT_STATE, (1, D, 0)),  # unknown codes, and 58 with its colour, skipped
        ("58:2::1:2:3;32", DEFAULT_STATE, (2, D, 0)),
    ],
)
def test_apply_sgr(params: str, start: tuple[int, int, int], expected: tuple[int, int, int]) -> None:
    assert apply_sgr(params, start) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("plain", [("plain", None)]),
        ("\x1b[31mred", [("red", Style(color=Color.from_ansi(1)))]),
        ("\x1b[38;5;200mx", [("x", Style(color=Color.from_ansi(200)))]),
        ("\x1b[38;2;10;20;30mx", [("x", Style(color=Color.from_rgb(10, 20, 30)))]),
        ("\x1b[48;5;17mx", [("x", Style(bgcolor=Color.from_ansi(17)))]),
        ("\x1b[1mb\x1b[0mn", [("b", Style(bold=True)), ("n", None)]),
        ("\x1b[1;3;4;7;9ma", [
            ("a", Style(bold=True, italic=True, underline=True, reverse=True, strike=True)),
        ]),
        ("\x1b[2ma\x1b[22mb", [("a", Style(dim=True)), ("b", None)]),
        ("\x1b[31ma\x1b[31mb", [("ab", Style(color=Color.from_ansi(1)))]),
        ("a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c", [("abc", None)]),
        ("a\x1b[?25lb\x1b[2Kc\x1b[>4;2md\x1b=e", [("abcde", None)]),
        ("a\tb\rc\x07d\x00e\x9bf", [("abcdef", None)]),
        ("", []),
    ],
)
def test_parse_line(line: str, expected: list[tuple[str, Style | None]]) -> None:
    strip, _ = parse_line(line)
    assert [(segment.text, segment.style) for segment in strip] == expected


def test_state_carries_across_rows() -> None:
    strips, state = AnsiRenderer().render(["\x1b[1;31mone", "two", "\x1b[0mthree"])
    red_bold = Style(color=Color.from_ansi(1), bold=True)
    assert [s.style for s in strips[1]] == [red_bold]
    assert [s.style for s in strips[2]] == [None]
    assert state == DEFAULT_STATE


def test_state_after_matches_render() -> None:
    renderer = AnsiRenderer()
    rows = ["\x1b[32ma", "b\x1b[44m", "c"]
    assert renderer.state_after(rows) == renderer.render(rows)[1] == (2, 4, 0)


def test_cache_hit_needs_the_same_incoming_state() -> None:
    renderer = AnsiRenderer()
    first, out = renderer.line("row", DEFAULT_STATE)
    again, _ = renderer.line("row", DEFAULT_STATE)
    assert again is first
    assert out == DEFAULT_STATE
    info = renderer.cache_info()
    assert (info.hits, info.misses) == (1, 1)

    red, _ = renderer.line("row", (1, D, 0))
    assert renderer.cache_info().misses == 2
    assert [s.style for s in red] == [Style(color=Color.from_ansi(1))]


def test_unchanged_rows_hit_the_cache_when_one_row_changes() -> None:
    renderer = AnsiRenderer()
    rows = [f"\x1b[3{i % 8}mrow {i}" for i in range(24)]
    renderer.render(rows)
    rows[10] = "\x1b[0mchanged"
    renderer.render(rows)
    info = renderer.cache_info()
    # Row 11 now starts in a different state, so it is parsed again too.
    assert (info.misses, info.hits) == (24 + 2, 22)


@pytest.mark.parametrize(
    ("row", "width", "text"),
    [
        ("日本語", 5, "日本 "),
        ("日本語", 6, "日本語"),
        ("日本語", 8, "日本語  "),
        ("ab", 4, "ab  "),
        ("\x1b[31mabcdef\x1b[0m", 3, "abc"),
        ("a日b", 2, "a "),
        ("", 3, "   "),
    ],
)
def test_crop_and_pad_by_cells(row: str, width: int, text: str) -> None:
    [strip], _ = AnsiRenderer().render([row], width)
    assert strip.text == text
    assert strip.cell_length == width


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[1;31mred\x1b[0m \x1b]0;t\x07ok\x1b[?25h") == "red ok"
    assert strip_ansi("no escapes\n") == "no escapes\n"


GARBAGE = [
    "\x1b", "\x1b[", "\x1b[31", "\x1b[38;5;", "\x1b[38;2;1m", "\x1b[;;;m", "\x1b[99999999999999999999m",
    "\x1b[38:2:::::m", "\x1b]unterminated", "\x1bP dcs", "\x1b[\x1b[31mx", "\x1b[²m", "\ud800",
    "\x00\x1b\x9b[m",
]


@pytest.mark.parametrize("row", GARBAGE)
def test_garbage_does_not_raise(row: str) -> None:
    strips, _ = AnsiRenderer().render([row, row], 10)
    assert [strip.cell_length for strip in strips] == [10, 10]
    assert "\x1b" not in strip_ansi(row)


ALPHABET = "\x1b[];:m0123456789?>P\\\x07ab日\t\x00\x9b"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(ALPHABET))), st.integers(0, 20))
def test_random_input_never_raises(rows: list[str], width: int) -> None:
    strips, _ = AnsiRenderer().render(rows, width)
    assert all(strip.cell_length == width for strip in strips)
    assert not any(ch < " " or "\x7f" <= ch < "\xa0" for strip in strips for ch in strip.text)
