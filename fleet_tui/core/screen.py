"""Pane screens as lists of rows: diffs between captures, the keyframe policy, last lines.

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
