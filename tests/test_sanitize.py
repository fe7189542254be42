"""Everything drawn is safe (core/sanitize.py): the sanitiser on the hostile corpus, the SGR
parser of pane rows, and the exports (Markdown report, CSV timeline, asciicast) of a session
that carries the corpus in every text field."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.sanitize import (
    UNSAFE_CHARS,
    pane_text,
    safe_line,
    safe_text,
    spreadsheet_cell,
    strip_ansi,
)
from fleet_tui.core.summary import subject, summarize
from fleet_tui.replay.asciicast import asciicast_lines
from fleet_tui.replay.report import markdown_report
from fleet_tui.replay.timeline_csv import COLUMNS, write_timeline_csv
from fleet_tui.ui.ansi import AnsiRenderer
from fleet_tui.ui.board import task_row
from fleet_tui.ui.header import header_text
from tests.hostile import AGENT, HOSTILE, UNSAFE_CATEGORIES, assert_safe, hostile_events

# --- the function ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_line_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    line = safe_line(text)
    assert_safe(line)
    assert "\n" not in line
    assert safe_line(line) == line  # idempotent: what it returns is clean


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_text_keeps_only_line_breaks_and_tabs(text: str) -> None:
    assert_safe(safe_text(text), keep="\n\t")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("plain text, café, 日本語", "plain text, café, 日本語"),
        ("a\x1b]52;c;ZXZpbA==\x07b", "a\\x1b]52;c;ZXZpbA==\\x07b"),  # shown, not obeyed
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
        ("\x1b[1;31mred\x1b[0m", "red"),  # colours are dropped silently
        ("x\u202eexe.txt", "x\\u202eexe.txt"),
        ("\x9b2J", "\\x9b2J"),
        ("nul\x00", "nul\\x00"),
        ("esc\x1b", "esc\\x1b"),
        ("a\nb\r\nc\td", "a b c d"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("\ud800", "\\ud800"),
        ("dev 👩\u200d💻", "dev 👩💻"),  # joiners are dropped
    ],
)
def test_safe_line(text: str, line: str) -> None:
    assert safe_line(text) == line


def test_safe_text_keeps_lines() -> None:
    assert safe_text("one\r\ntwo\n\tthree\x1b[2J\u2028") == "one\ntwo\n\tthree\\x1b[2J\\u2028"


def test_clean_text_is_returned_as_is() -> None:
    text = "T3 Login form @dev-1 ⚑ approve? 日本"
    assert safe_line(text) is text and safe_text(text) is text and pane_text(text) is text


def test_unsafe_table_is_every_control_format_and_separator_character() -> None:
    missing, extra = [], []
    for cp in range(0x110000):
        category = unicodedata.category(chr(cp))
        if category in UNSAFE_CATEGORIES and cp not in UNSAFE_CHARS:
            missing.append(hex(cp))
        elif cp in UNSAFE_CHARS and category not in (*UNSAFE_CATEGORIES, "Cn"):
            extra.append(hex(cp))
    assert not missing and not extra


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("\x1b[]P^_X;:0123456789mJH?\x07\\\x9b\x9c\u202e\n\ta日")))
def test_any_mix_of_escape_pieces_comes_out_safe(text: str) -> None:
    assert_safe(safe_line(text))
    assert_safe(safe_text(text), keep="\n\t")
    assert_safe(strip_ansi(pane_text(text)))


@pytest.mark.parametrize("text", HOSTILE)
def test_pane_text_keeps_only_sgr(text: str) -> None:
    row = pane_text(text)
    assert_safe(re.sub(r"\x1b\[[0-9;:]*m", "", row))


def test_pane_text() -> None:
    row = "\x1b[1;32mok\x1b[0m \x1b]52;c;eA==\x07\x1b[2J\u202egone\x9b\x00"
    assert pane_text(row) == "\x1b[1;32mok\x1b[0m gone"


@pytest.mark.parametrize(
    ("text", "cell"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("a=b", "a=b"),
     ("\x1b]0;t\x07", "\\x1b]0;t\\x07"), ("\t=1", " =1")],
)
def test_spreadsheet_cell(text: str, cell: str) -> None:
    assert spreadsheet_cell(text) == cell


# --- pane rows (the SGR parser) ------------------------------------------------------------------


def test_pane_rows_reach_the_screen_without_escapes_controls_or_bidi() -> None:
    strips, _ = AnsiRenderer().render(HOSTILE, 80)
    for strip in strips:
        assert_safe("".join(segment.text for segment in strip))
    [red], _ = AnsiRenderer().render(["\x1b[31mred\x1b[0m"])
    assert red.text == "red" and next(iter(red)).style.color.name == "color(1)"


# --- text widgets draw ---------------------------------------------------------------------------


def test_summaries_subjects_header_and_board_rows_are_safe() -> None:
    events = hostile_events()
    state = fold_all(events)
    for event in events:
        assert_safe(summarize(event))
        assert_safe(subject(event))
    assert_safe(header_text(state).plain)
    assert "\\x1b]0;owned" in header_text(state).plain
    assert state.tasks
    for task in state.tasks.values():
        row = task_row(task)
        assert_safe(row.plain)
        assert "\n" not in row.plain


# --- exports -----------------------------------------------------------------------------------


def test_markdown_report_is_safe_and_keeps_its_tables() -> None:
    report = markdown_report(hostile_events(), log="/tmp/\x1b]0;x\x07/events.jsonl")
    assert_safe(report, keep="\n")
    assert "\\x1b]52;c;ZXZpbA==" in report  # the attempt is visible
    lines = report.splitlines()
    errors = lines.index("## Errors and alerts")
    table = lines[errors + 2:]
    assert len(table) == 2 + 2 * len(HOSTILE)  # header, rule, one row per alert and error
    assert table[1] == "|" + "---|" * 6
    assert all(line.startswith("| ") and line.endswith(" |") and line.count(" | ") == 5
               for line in table[:1] + table[2:])


def test_csv_timeline_is_safe_and_has_no_formulas() -> None:
    events = hostile_events()
    out = io.StringIO()
    write_timeline_csv(events, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + sum(type(e) is not ev.AgentOutput for e in events)
    for row in rows[1:]:
        for cell in row:
            assert_safe(cell)
            assert not cell.startswith(("=", "+", "-", "@"))
    assert any(row[2].startswith("'=HYPERLINK") for row in rows)  # source, neutralised


def test_asciicast_keeps_only_sgr_from_pane_output() -> None:
    lines = asciicast_lines(hostile_events(), AGENT, title="evil \x1b]0;owned\x07")
    header = json.loads(lines[0])
    assert_safe(header["title"])
    frames = [json.loads(line) for line in lines[1:]]
    assert frames
    # What the exporter itself writes: cursor moves, clears, resets, cursor hiding.
    own = re.compile(r"\x1b\[(?:\d+;1H|2K|2J|H|\?25l|[0-9;:]*m)")
    for _, kind, data in frames:
        assert kind == "o"
        assert_safe(own.sub("", data))
    screen = "".join(data for _, _, data in frames)
    assert "bidi usertxt.exe" in screen and "ZXZpbA==" not in screen  # text stays, escapes go
