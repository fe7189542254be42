"""Status patterns known for common agent CLIs, so waiting-for-input shows without hooks.

Each preset is a ``StatusPatterns``: regular expressions meant to be searched (with
``re.MULTILINE``) in the bottom rows of the agent's screen, ANSI codes removed, in the order
waiting, working, idle, the first list with a match giving the status. Claude Code, for one,
shows its input box even while it works, so an idle pattern may match a working screen.

- ``waiting``: a question only a person can answer (permission prompts, yes/no).
- ``working``: a spinner or an "esc to interrupt" hint.
- ``idle``: the empty input prompt, waiting for the next task.

``patterns_for`` overlays an agent's own ``status_patterns``: each non-empty list there
replaces the preset's list. Preset ``none`` has no patterns (statuses come from hooks only).
``infer_preset`` names the preset an agent gets when its fleet.yaml sets none: the one its
program is known by (``claude``, ``codex``, ``aider``, ``gemini``, ``opencode``, a shell).
"""

from __future__ import annotations

import re

from fleet_tui.config.schema import StatusPatterns

#: ``(y/n)``, ``[Y/n]``, ``(yes/no)`` and their cases.
_YES_NO = r"\((?:[yY]/[nN]|yes/no)\)|\[[yY]/[nN]\]"

PRESETS: dict[str, StatusPatterns] = {
    # Claude Code: permission dialogs ("Do you want to proceed?" over a "1. Yes" menu), the
    # "✻ Thinking…" spinner with "esc to interrupt", the "> " input box.
    "claude": StatusPatterns(
        waiting=[r"Do you want to (?:proceed|make this edit|create|run)", r"❯\s*1\.\s*Yes", _YES_NO],
        working=[r"esc to interrupt", r"[✻✽✢·✶*]\s+\w+…"],
        idle=[r"^[│|]?\s*>\s"],
    ),
    # Codex CLI: "Allow command?" approvals, "Working (5s • esc to interrupt)", the "▌" composer.
    "codex": StatusPatterns(
        waiting=[r"Allow command\?", r"Approve\?", _YES_NO],
        working=[r"esc to interrupt", r"Working \(", r"Thinking"],
        idle=[r"^\s*▌"],
    ),
    # aider: "(Y)es/(N)o" questions, "Waiting for <model>" while it streams, its "> " prompt
    # (or "ask> ", "architect> " in other chat modes).
    "aider": StatusPatterns(
        waiting=[r"\(Y\)es/\(N\)o", _YES_NO],
        working=[r"Waiting for \S+"],
        idle=[r"^\w*>\s*$"],
    ),
    # A plain shell: a prompt ending in $, # or % as the last thing on the screen.
    "shell": StatusPatterns(
        waiting=[r"[$#%]\s*\Z", _YES_NO],
    ),
    # fleet-tui's bundled demo agent (fleet_tui/demo_agent.py).
    "demo": StatusPatterns(
        waiting=[r"Allow this action\? \(y/n\)"],
        working=[r"working…", r"esc to interrupt"],
        idle=[r"^demo>\s*$"],
    ),
    "none": StatusPatterns(),
}


def patterns_for(preset: str, override: StatusPatterns | None = None) -> StatusPatterns:
    """The preset's patterns (``none`` if unknown), each list replaced by a non-empty one in
    ``override``. Always a new object: callers may change it."""
    base = PRESETS.get(preset, PRESETS["none"])
    mine = override or StatusPatterns()
    return StatusPatterns(
        waiting=list(mine.waiting or base.waiting),
        working=list(mine.working or base.working),
        idle=list(mine.idle or base.idle),
        done=list(mine.done or base.done),
    )


#: Program names (the command's first word, without folder or ``.exe``/``.cmd``) -> preset.
PROGRAM_PRESETS = {
    "claude": "claude", "codex": "codex", "aider": "aider", "gemini": "gemini",
    "opencode": "opencode",
    **{shell: "shell" for shell in ("sh", "bash", "zsh", "fish", "dash", "ksh", "mksh", "tcsh",
                                    "csh", "nu", "xonsh", "pwsh")},
}


def infer_preset(command: list[str]) -> str:
    """The preset for an agent that names none: its program's (``none`` if not known).
    A login shell's ``-bash`` counts as ``bash``."""
    if not command:
        return "none"
    program = re.split(r"[/\\]", command[0])[-1].lstrip("-").lower()
    program = re.sub(r"\.(exe|cmd|bat|js|mjs)$", "", program)
    return PROGRAM_PRESETS.get(program, "none")
