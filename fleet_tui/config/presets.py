"""Status patterns known for common agent CLIs, so waiting-for-input shows without hooks.

Each preset is a ``StatusPatterns``: regular expressions matched (with ``re.MULTILINE``)
against the bottom rows of the agent's screen, ANSI codes removed. ``patterns_for`` overlays
an agent's own ``status_patterns``: each non-empty list there replaces the preset's list.
"""

from __future__ import annotations

from fleet_tui.config.schema import StatusPatterns

_YES_NO = r"\((?:y/n|Y/n|y/N|yes/no)\)|\[(?:y/n|Y/n|y/N)\]"

PRESETS: dict[str, StatusPatterns] = {
    # Claude Code: permission dialogs, the spinner line, the empty input box.
    "claude": StatusPatterns(
        waiting=[r"Do you want to (?:proceed|make this edit|create|run)", r"❯\s*1\.\s*Yes",
                 _YES_NO],
        working=[r"esc to interrupt", r"[✻✽✢·✶*]\s+\w+…"],
        idle=[r"^\s*>\s*$", r"^│\s*>\s"],
    ),
    # Codex CLI: approval prompts and its working indicator.
    "codex": StatusPatterns(
        waiting=[r"Allow command\?", r"Approve\?", r"\[y\]es", _YES_NO],
        working=[r"esc to interrupt", r"Working", r"Thinking"],
        idle=[r"^\s*▌", r"send\s+[⏎↵]"],
    ),
    # aider: its (Y)es/(N)o questions and its prompt.
    "aider": StatusPatterns(
        waiting=[r"\(Y\)es/\(N\)o", _YES_NO],
        working=[r"Waiting for .*LLM", r"Tokens:"],
        idle=[r"^\S*>\s*$"],
    ),
    # A plain shell: its prompt at the end of the screen means it waits for you.
    "shell": StatusPatterns(
        waiting=[r"[$#%]\s*$", _YES_NO],
    ),
    # fleet-tui's bundled demo agent.
    "demo": StatusPatterns(
        waiting=[r"Allow this action\? \(y/n\)"],
        working=[r"working…", r"esc to interrupt"],
        idle=[r"^demo>\s*$"],
    ),
    "none": StatusPatterns(),
}


def patterns_for(preset: str, override: StatusPatterns | None = None) -> StatusPatterns:
    base = PRESETS.get(preset, PRESETS["none"])
    if override is None:
        return base
    return StatusPatterns(
        waiting=override.waiting or base.waiting,
        working=override.working or base.working,
        idle=override.idle or base.idle,
        done=override.done or base.done,
    )
