"""Table tests for the pure screen diff / keyframe policy (core/screen.py) and the heuristic
status rules (core/status_rules.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_tui.core.screen import (
    diff_screens,
    fit_screen,
    keyframe_changes,
    last_lines,
    needs_keyframe,
    scroll_diff,
    scroll_screen,
    strip_ansi,
)
from fleet_tui.core.state import DONE, EXITED, IDLE, STALLED, WAITING, WORKING
from fleet_tui.core.status_rules import (
    NO_MATCH,
    ScreenMatch,
    compile_from,
    compile_patterns,
    decide_status,
    match_screen,
    screen_tail,
)

RED = "\x1b[31m"
RESET = "\x1b[0m"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([], [], []),
        (["a", "b"], ["a", "b"], []),
        (["a", "b"], ["a", "c"], [(1, "c")]),
        (["a", "b", "c"], ["x", "b", "z"], [(0, "x"), (2, "z")]),
        ([], ["a", ""], [(0, "a"), (1, "")]),
        (["a"], ["a", "b"], [(1, "b")]),
        (["a", "b", "c"], ["a", "b"], []),  # shrinking is a keyframe's job
        ([f"{RED}a{RESET}"], ["a"], [(0, "a")]),  # colour alone is a change
        (["a "], ["a"], [(0, "a")]),
    ],
)
def test_diff_screens(old: list[str], new: list[str], expected: list[tuple[int, str]]) -> None:
    assert diff_screens(old, new) == expected


def test_diff_applied_to_old_gives_new() -> None:
    old = [f"row {i}" for i in range(24)]
    new = list(old)
    new[3], new[20] = f"{RED}changed{RESET}", ""
    patched = list(old)
    for row, text in diff_screens(old, new):
        patched[row] = text
    assert patched == new


def _lines(*numbers: int) -> list[str]:
    return [f"{RED}line {n}{RESET} some output" if n >= 0 else "" for n in numbers]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a full screen printing one more line: one row, not all of them
        (_lines(0, 1, 2, 3), _lines(1, 2, 3, 4), (1, [(3, _lines(4)[0])])),
        # three lines at once
        (_lines(0, 1, 2, 3), _lines(3, 4, 5, 6), (3, list(enumerate(_lines(4, 5, 6), 1)))),
        # output scrolling above a fixed status line: the line, and the status line again
        ([*_lines(0, 1, 2), "status"], [*_lines(1, 2, 3), "status"],
         (1, [(2, _lines(3)[0]), (3, "status")])),
        # a screen filling up from the top does not scroll
        (_lines(0, 1, -1, -1), _lines(0, 1, 2, -1), (0, [(2, _lines(2)[0])])),
        # nothing in common: plain changes
        (_lines(0, 1, 2), _lines(7, 8, 9), (0, list(enumerate(_lines(7, 8, 9))))),
        # a different height is never a scroll
        (_lines(0, 1, 2), _lines(1, 2, 3, 4), (0, [(0, _lines(1)[0]), (1, _lines(2)[0]),
                                                   (2, _lines(3)[0]), (3, _lines(4)[0])])),
    ],
)
def test_scroll_diff(old: list[str], new: list[str],
                     expected: tuple[int, list[tuple[int, str]]]) -> None:
    assert scroll_diff(old, new) == expected


def test_scroll_screen() -> None:
    assert scroll_screen(["a", "b", "c"], 2) == ["c", "", ""]
    assert scroll_screen(["a", "b"], 5) == ["", ""]
    assert scroll_screen(["a", "b"], 0) == ["a", "b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "b", "c", "d", "e"]), min_size=1, max_size=12),
       st.integers(0, 12), st.lists(st.sampled_from(["", "a", "x", "y"]), max_size=12),
       st.lists(st.tuples(st.integers(0, 11), st.sampled_from(["", "q", "a"])), max_size=3))
def test_scroll_diff_applied_to_old_gives_new(old: list[str], shift: int, tail: list[str],
                                             edits: list[tuple[int, str]]) -> None:
    new = (old[shift:] + tail + [""] * len(old))[:len(old)]
    for row, text in edits:
        if row < len(new):
            new[row] = text
    scroll, changes = scroll_diff(old, new)
    patched = scroll_screen(old, scroll)
    for row, text in changes:
        patched[row] = text
    assert patched == new
    assert len(changes) <= len(diff_screens(old, new))


@pytest.mark.parametrize(
    ("rows", "height", "expected"),
    [
        (["a"], 3, ["a", "", ""]),
        (["a", "b", "c"], 2, ["a", "b"]),
        (["a", "b"], 2, ["a", "b"]),
        ([], 2, ["", ""]),
        (["a"], 0, ["a"]),
    ],
)
def test_fit_screen(rows: list[str], height: int, expected: list[str]) -> None:
    assert fit_screen(rows, height) == expected


@pytest.mark.parametrize(
    ("has_previous", "last_kf", "now", "old_size", "new_size", "expected"),
    [
        (False, 0.0, 100.0, (0, 0), (80, 24), True),  # first capture
        (True, 90.0, 100.0, (80, 24), (80, 24), False),  # 10 s after the last keyframe
        (True, 70.0, 100.0, (80, 24), (80, 24), True),  # 30 s: time for one
        (True, 99.0, 100.0, (80, 24), (100, 24), True),  # width changed
        (True, 99.0, 100.0, (80, 24), (80, 30), True),  # height changed
    ],
)
def test_needs_keyframe(has_previous: bool, last_kf: float, now: float,
                        old_size: tuple[int, int], new_size: tuple[int, int],
                        expected: bool) -> None:
    assert needs_keyframe(has_previous=has_previous, last_keyframe_at=last_kf, now=now,
                          old_size=old_size, new_size=new_size) is expected


def test_keyframe_changes_cover_every_row() -> None:
    assert keyframe_changes(["a", "", "c"]) == [(0, "a"), (1, ""), (2, "c")]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("plain", "plain"),
        (f"{RED}red{RESET} text", "red text"),
        ("\x1b[38;2;10;20;30mrgb\x1b[39m", "rgb"),
        ("\x1b]0;title\x07after", "after"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b[2K\x1b[1Gline", "line"),
    ],
)
def test_strip_ansi(text: str, plain: str) -> None:
    assert strip_ansi(text) == plain


def test_last_lines_skips_blank_rows_and_banner() -> None:
    screen = ["one", "", f"{RED}two{RESET}   ", "three", "", "Pane is dead (status 3)", ""]
    assert last_lines(screen, 10, skip=("Pane is dead",)) == ["one", "two", "three"]
    assert last_lines(screen, 2, skip=("Pane is dead",)) == ["two", "three"]
    assert last_lines([], 5) == []


# --- status rules ---------------------------------------------------------------------------

PATTERNS = compile_patterns(
    waiting=[r"\((?:y/n)\)", r"Do you want to proceed"],
    working=[r"esc to interrupt"],
    idle=[r"^> ?$"],
    done=[r"^All done"],
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["Allow this action? (y/n)"], ScreenMatch(waiting=r"\((?:y/n)\)")),
        ([f"{RED}Allow{RESET} this? (y/n)", "", ""], ScreenMatch(waiting=r"\((?:y/n)\)")),
        (["* Thinking (esc to interrupt)"], ScreenMatch(working="esc to interrupt")),
        (["All done.", ">"], ScreenMatch(idle="^> ?$", done="^All done")),
        (["nothing here"], NO_MATCH),
        # only the bottom rows count: a prompt scrolled far up does not match
        (["Allow this action? (y/n)", *[f"line {i}" for i in range(12)]], NO_MATCH),
    ],
)
def test_match_screen(rows: list[str], expected: ScreenMatch) -> None:
    assert match_screen(rows, PATTERNS) == expected


def test_screen_tail_keeps_last_non_blank_rows() -> None:
    rows = ["a", "", "b", f"{RED}c{RESET}", "", ""]
    assert screen_tail(rows, 2) == "b\nc"


W = ScreenMatch(waiting="w")
K = ScreenMatch(working="k")
D = ScreenMatch(done="d")
I = ScreenMatch(idle="i")  # noqa: E741


@pytest.mark.parametrize(
    ("match", "quiet", "alive", "holds", "stall", "expected"),
    [
        (NO_MATCH, 0.5, True, False, None, WORKING),  # changing screen
        (NO_MATCH, 5.0, True, False, None, IDLE),  # quiet, nothing matches
        (I, 5.0, True, False, None, IDLE),
        (W, 0.1, True, False, None, WAITING),  # a prompt wins over a changing screen
        (W, 900.0, True, True, 60.0, WAITING),  # ... and over a stall: a person is needed
        (K, 5.0, True, False, None, WORKING),  # static working hint
        (D, 5.0, True, False, None, DONE),
        (D, 0.5, True, False, None, WORKING),  # still changing: not done yet
        (NO_MATCH, 61.0, True, True, 60.0, STALLED),
        (K, 61.0, True, True, 60.0, STALLED),  # a frozen spinner is a stall
        (NO_MATCH, 61.0, True, False, 60.0, IDLE),  # no task, no stall
        (NO_MATCH, 59.0, True, True, 60.0, IDLE),
        (NO_MATCH, 61.0, True, True, None, IDLE),  # stall detection off
        (W, 0.1, False, True, 60.0, EXITED),
    ],
)
def test_decide_status(match: ScreenMatch, quiet: float, alive: bool, holds: bool,
                       stall: float | None, expected: str) -> None:
    status, reason = decide_status(match, now=1000.0, last_change=1000.0 - quiet, alive=alive,
                                   holds_task=holds, stall_after=stall)
    assert status == expected
    assert reason


def test_classify_end_to_end() -> None:
    rows = ["output", "Allow this action? (y/n)", "", ""]
    def classify(screen: list[str], last_change: float) -> str:
        return decide_status(match_screen(screen, PATTERNS), now=10.0, last_change=last_change)[0]

    assert classify(rows, 0.0) == WAITING
    assert classify(["x"], 9.0) == WORKING
    assert classify(["x"], 0.0) == IDLE


def test_compile_from_objects_dicts_and_bad_patterns() -> None:
    class Spec:
        waiting = [r"\(y/n\)"]
        working: list[str] = []
        idle: list[str] = []
        done: list[str] = []

    assert compile_from(Spec()).waiting[0].pattern == r"\(y/n\)"
    assert compile_from(None).empty
    bad = compile_from({"waiting": ["(unclosed", "ok"]})
    assert [p.pattern for p in bad.waiting] == ["ok"]
    assert bad.errors and "(unclosed" in bad.errors[0]
