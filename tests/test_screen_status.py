"""Table tests for the pure screen diff / keyframe policy (core/screen.py) and the heuristic
status rules (core/status_rules.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_tui.config.presets import patterns_for
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
from fleet_tui.core.state import DONE, EXITED, IDLE, STALLED, STARTING, WAITING, WORKING
from fleet_tui.core.status_rules import (
    NO_MATCH,
    ScreenMatch,
    compile_from,
    compile_patterns,
    decide_status,
    match_screen,
    prompt_seen,
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


@pytest.mark.parametrize(
    ("match", "quiet", "expected"),
    [
        (NO_MATCH, 5.0, STARTING),  # still loading: a quiet screen is not its prompt yet
        (I, 5.0, IDLE),  # the prompt is there
        (W, 5.0, WAITING),  # a question while starting (aider's "Add .aider* to .gitignore?")
        (K, 5.0, WORKING),
        (NO_MATCH, 0.5, WORKING),
    ],
)
def test_before_the_prompt_is_seen(match: ScreenMatch, quiet: float, expected: str) -> None:
    status, _ = decide_status(match, now=1000.0, last_change=1000.0 - quiet, prompt_seen=False)
    assert status == expected


def test_prompt_seen_once_an_idle_pattern_matched() -> None:
    with_idle = compile_patterns(idle=["^> $"])
    assert not prompt_seen(False, NO_MATCH, with_idle)
    assert prompt_seen(False, ScreenMatch(idle="^> $"), with_idle)
    assert prompt_seen(True, NO_MATCH, with_idle)  # seen once is enough
    assert prompt_seen(False, NO_MATCH, compile_patterns(waiting=["y/n"]))  # nothing to wait for


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


# --- screens captured from the real CLIs (tests/data/screens/<cli>/<what>.txt) ---------------
# Each was captured in a 120x40 tmux pane (plain and with ANSI, ``<what>.ansi.txt``); see
# ``bench/real_agents.sh``. The pattern tables in ``config/presets.py`` are pinned by them.

SCREENS = Path(__file__).parent / "data" / "screens"

REAL_SCREENS = [
    # (cli, screen, status with its own preset)
    ("claude", "trust_folder", WAITING),
    ("claude", "custom_api_key_menu", WAITING),
    ("claude", "login_menu", WAITING),
    ("claude", "permission_bash", WAITING),
    ("claude", "permission_create_file", WAITING),
    ("claude", "prompt_not_logged_in", WAITING),
    ("claude", "reply_not_logged_in", WAITING),
    ("claude", "fatal_unable_to_connect", WAITING),  # exited when the pane is dead, see below
    ("claude", "working_spinner", WORKING),
    ("claude", "answered_idle", IDLE),
    ("codex", "signin_menu", WAITING),
    ("codex", "signin_menu_cursor_2", WAITING),
    ("codex", "signin_other_way", WAITING),
    ("codex", "api_key_entry", WAITING),
    ("codex", "trust_folder", WAITING),
    ("codex", "working_reconnecting", WORKING),
    ("codex", "composer_idle", IDLE),
    ("codex", "interrupted_idle", IDLE),
    ("gemini", "trust_folder", WAITING),
    ("gemini", "auth_menu", WAITING),
    ("gemini", "api_key_entry", WAITING),
    ("gemini", "working", WORKING),
    ("gemini", "prompt_idle", IDLE),
    ("gemini", "permission_shell", WAITING),
    ("gemini", "permission_write_file", WAITING),
    ("gemini", "answered_idle", IDLE),
    ("gemini", "declined_idle", IDLE),  # the write was refused with esc
    ("aider", "yes_no_gitignore", WAITING),
    ("aider", "yes_no_openrouter", WAITING),
    ("aider", "yes_no_dont_ask", WAITING),
    ("aider", "yes_no_create_file", WAITING),
    ("aider", "yes_no_run_output", WAITING),
    ("aider", "working_retrying", WORKING),
    ("aider", "prompt_idle", IDLE),
    ("aider", "prompt_with_file", IDLE),  # the question above it was answered
    ("aider", "exited_no_model", IDLE),  # answered questions; the pane is dead (exited) anyway
    ("bash", "prompt_idle", IDLE),
    ("bash", "read_yes_no", WAITING),
]
PRESET_OF = {"claude": "claude", "codex": "codex", "gemini": "gemini", "aider": "aider",
             "bash": "shell"}


def screen_rows(cli: str, what: str, ansi: bool = False) -> list[str]:
    name = f"{what}.ansi.txt" if ansi else f"{what}.txt"
    return (SCREENS / cli / name).read_text(encoding="utf-8").split("\n")


def quiet_status(rows: list[str], preset: str, alive: bool = True) -> str:
    """The status of a screen that has not changed for a minute, with ``preset``'s patterns."""
    match = match_screen(rows, compile_from(patterns_for(preset)))
    return decide_status(match, now=1060.0, last_change=1000.0, alive=alive)[0]


def test_every_captured_screen_is_pinned() -> None:
    captured = {f"{p.parent.name}/{p.name.removesuffix('.ansi.txt').removesuffix('.txt')}"
                for p in SCREENS.glob("*/*.txt")}
    assert captured == {f"{cli}/{what}" for cli, what, _ in REAL_SCREENS}


@pytest.mark.parametrize(("cli", "what", "expected"), REAL_SCREENS,
                         ids=[f"{c}-{w}" for c, w, _ in REAL_SCREENS])
def test_real_screen_status(cli: str, what: str, expected: str) -> None:
    preset = PRESET_OF[cli]
    assert quiet_status(screen_rows(cli, what), preset) == expected
    assert quiet_status(screen_rows(cli, what, ansi=True), preset) == expected


@pytest.mark.parametrize(("cli", "what", "expected"), REAL_SCREENS,
                         ids=[f"{c}-{w}" for c, w, _ in REAL_SCREENS])
def test_real_screen_without_preset(cli: str, what: str, expected: str) -> None:
    """With no preset, the generic signs still catch the menus and questions; nothing else
    is claimed (a quiet screen is idle)."""
    generic = {"claude/prompt_not_logged_in", "claude/reply_not_logged_in",
               "claude/fatal_unable_to_connect"}  # claude's own words, not generic signs
    status = quiet_status(screen_rows(cli, what), "none")
    if expected == WAITING and f"{cli}/{what}" not in generic:
        assert status == WAITING
    else:
        assert status == IDLE


def test_real_fatal_screen_of_a_dead_pane_is_exited() -> None:
    rows = screen_rows("claude", "fatal_unable_to_connect")
    assert quiet_status(rows, "claude", alive=False) == EXITED
