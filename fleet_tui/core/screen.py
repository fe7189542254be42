"""Pane screens as lists of rows: diffs between captures (scrolls detected), the keyframe
policy, last lines.

Pure: no I/O and no clock (times come in as arguments). A screen is a list of strings, one
per row, each keeping the pane's ANSI SGR codes as ``capture-pane -e`` printed them.
``fleet_tui.adapters.monitor`` uses these to turn captures into ``AgentOutput`` events.
"""

from __future__ import annotations

from fleet_tui.core.sanitize import strip_ansi

#: A full screen is sent at least this often per agent (seconds), even if only rows change.
KEYFRAME_INTERVAL = 30.0
#: What tmux prints on a dead pane's last row (``remain-on-exit``): not the agent's output.
DEAD_PANE_BANNER = "Pane is dead"

def fit_screen(rows: list[str], height: int) -> list[str]:
    """Pad with blank rows (captures may drop trailing blank rows) or cut to ``height``."""
    if height <= 0:
        return list(rows)
    if len(rows) >= height:
        return rows[:height]
    return rows + [""] * (height - len(rows))


def diff_screens(old: list[str], new: list[str]) -> list[tuple[int, str]]:
    """The ``(row, text)`` pairs of ``new`` that differ from ``old``.

    Rows past the end of ``old`` count as changed. Rows that ``new`` no longer has cannot be
    expressed as changes: a screen that shrinks needs a keyframe (see ``needs_keyframe``)."""
    n_old = len(old)
    return [
        (i, row) for i, row in enumerate(new) if i >= n_old or old[i] != row
    ]


def scroll_screen(screen: list[str], lines: int) -> list[str]:
    """``screen`` scrolled up by ``lines`` rows: the top rows gone, blank rows at the bottom."""
    lines = max(0, min(lines, len(screen)))
    return screen[lines:] + [""] * lines if lines else list(screen)


def _cost(changes: list[tuple[int, str]]) -> int:
    """About what ``changes`` take in the log: the text, plus a few bytes a row."""
    return sum(len(text) + 8 for _, text in changes)


def scroll_diff(old: list[str], new: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """The cheapest way from ``old`` to ``new`` of the same height: scroll ``old`` up by ``k``
    rows (0: no scroll), then the ``(row, text)`` changes against that (fewest bytes). A terminal that printed
    ``k`` lines then costs those ``k`` rows plus whatever else changed (a status line), not
    every row of the screen.

    Scroll amounts tried are those that line a non-blank row of ``new`` up with the same row
    further down ``old``; the one whose changes are the smallest wins (ties: no scroll, then
    the smallest ``k``)."""
    height = len(new)
    plain = diff_screens(old, new)
    if len(old) != height or len(plain) <= 1:
        return 0, plain
    best, best_cost = (0, plain), _cost(plain)
    where: dict[str, list[int]] = {}
    for i, row in enumerate(old):
        if row:
            where.setdefault(row, []).append(i)
    tried: set[int] = set()
    for i, row in enumerate(new):
        for j in where.get(row, ()):
            k = j - i
            if k <= 0 or k in tried:
                continue
            tried.add(k)
            changes = diff_screens(scroll_screen(old, k), new)
            cost = _cost(changes)
            if cost < best_cost or (cost == best_cost and 0 < k < best[0]):
                best, best_cost = (k, changes), cost
        if len(tried) >= 8:
            break
    return best


def needs_keyframe(
    *,
    has_previous: bool,
    last_keyframe_at: float,
    now: float,
    old_size: tuple[int, int],
    new_size: tuple[int, int],
    interval: float = KEYFRAME_INTERVAL,
) -> bool:
    """Whether a changed capture goes out as a full keyframe instead of a diff: the first
    capture, a size change, or ``interval`` seconds since the last keyframe."""
    if not has_previous:
        return True
    if old_size != new_size:
        return True
    return now - last_keyframe_at >= interval


def keyframe_changes(screen: list[str]) -> list[tuple[int, str]]:
    """All rows of a screen as changes (what a keyframe carries)."""
    return list(enumerate(screen))


def last_lines(screen: list[str], n: int = 10, skip: tuple[str, ...] = ()) -> list[str]:
    """The last ``n`` non-blank rows, ANSI stripped and right-trimmed, oldest first.
    Rows starting with one of ``skip`` (after stripping) are left out."""
    out: list[str] = []
    for row in reversed(screen):
        text = strip_ansi(row).rstrip()
        if not text or (skip and text.startswith(skip)):
            continue
        out.append(text)
        if len(out) >= n:
            break
    out.reverse()
    return out
