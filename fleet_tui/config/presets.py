"""Status patterns known for common agent CLIs, so waiting-for-input shows without hooks.

Each preset is a ``StatusPatterns``: regular expressions meant to be searched (with
``re.MULTILINE``) in the bottom rows of the agent's screen, ANSI codes removed, in the order
waiting, working, idle, the first list with a match giving the status. Claude Code, for one,
shows its input box even while it works, so an idle pattern may match a working screen.

- ``waiting``: a question only a person can answer (permission prompts, yes/no).
- ``working``: a spinner or an "esc to interrupt" hint.
- ``idle``: the empty input prompt, waiting for the next task.

``patterns_for`` overlays an agent's own ``status_patterns``: each non-empty list there
replaces the preset's list. Preset ``none`` has only the generic waiting signs (a numbered
menu with a cursor, a yes/no question or "press enter" at the bottom; ``GENERIC_WAITING``).
``infer_preset`` names the preset an agent gets when its fleet.yaml sets none: the one its
program is known by (``claude``, ``codex``, ``aider``, ``gemini``, ``opencode``, a shell).
"""

from __future__ import annotations

import re

from fleet_tui.config.schema import StatusPatterns

#: A yes/no question as the last thing on the screen: ``(y/n)``, ``[Y/n]``, ``(yes/no)``,
#: aider's ``(Y)es/(N)o [Yes]:`` (and ``(Y)es/(N)o/(D)on't ask again``). Anchored at the end:
#: once it is answered, the answer and whatever follows sit below it. (Greedy and bounded, so
#: a screen full of questions costs a scan, not a backtracking search per question.)
_YES_NO = (r"[(\[](?:[yY]/[nN][)\]]|yes/no\))(?:\s*\[\w+\])?\s*[:?]?\s*\Z"
           r"|\(Y\)es/\(N\)o[^\n]{0,80}\Z")
#: Cursors that mark the chosen item of a menu (``> 2. Sign in``, ``● 1. Trust``, and the
#: arrow quotes claude and codex draw).
_CURSOR = r"[>›❯●▶▸→]"
_ITEM = r"[ \t]*\d{1,2}\.[ \t]+\S"


def _menu(cursor: str = _CURSOR) -> str:
    """A numbered menu with ``cursor`` on one item next to another numbered item: sign-in,
    trust and permission menus alike."""
    return (rf"^[ \t]*{cursor}{_ITEM}.*(?:\n.*){{0,3}}\n{_ITEM}"
            rf"|^{_ITEM}.*(?:\n.*){{0,3}}\n[ \t]*{cursor}{_ITEM}")


#: "Press enter to continue", "Enter to confirm", "(Use Enter to select)", "Press Enter to submit".
#: (One alternation starting with "[Ee]nter": the regex engine then scans for that letter
#: instead of trying every position, ten times faster on a full screen.)
_PRESS_ENTER = r"[Ee]nter(?:(?<=[Pp]ress [Ee]nter)\b| to (?:confirm|continue|select|submit|save)\b)"

#: What any interactive program shows when only a person can go on: the patterns a program
#: with no preset gets, and the base every agent CLI's own waiting patterns add to.
GENERIC_WAITING = [_menu(), _YES_NO, _PRESS_ENTER]

PRESETS: dict[str, StatusPatterns] = {
    # Claude Code (2.1): permission dialogs ("Do you want to proceed?" / "Do you want to create
    # notes.md?" over a "1. Yes" menu with a cursor), trust and login menus, "Not logged in · Run /login"
    # and "Unable to connect to Anthropic services" (nothing works until a person acts); the
    # "✽ Wibbling…" spinner with "esc to interrupt"; the input box between two rules.
    "claude": StatusPatterns(
        # Its menus' cursor only: "●" starts its replies, and a reply may be a numbered list.
        waiting=[r"Do you want to (?:proceed|make this edit|create|run|allow)", _menu("[❯>]"),
                 _YES_NO, _PRESS_ENTER,
                 r"Not logged in|Please run /login|Unable to connect to Anthropic services|"
                 r"Invalid API key"],
        working=[r"esc to interrupt", r"^[✻✽✢·✶*]\s+\w+…"],
        idle=[r"^[│|]?\s*[>❯](?:\s|$)"],
    ),
    # Codex CLI (0.171): "Would you like to run the following command?" approvals, the sign-in
    # and trust menus ("1. Trust and continue", "Press enter to continue"), "Working (5s • esc
    # to interrupt)" / "Reconnecting... (4s • esc to interrupt)", the composer.
    "codex": StatusPatterns(
        waiting=[r"Would you like to (?:run the following command|make the following edits|"
                 r"grant these permissions|send input)", r"Allow command\?", *GENERIC_WAITING],
        working=[r"esc to interrupt", r"Working \("],
        idle=[r"^\s*[›▌]"],
    ),
    # Gemini CLI (0.61): "Do you trust the files in this folder?", the auth menu ("● 1. Sign in
    # with Google", "(Use Enter to select)"), the API key box ("Press Enter to submit"),
    # tool confirmations ("Allow execution"), "⠸ Thinking... (esc to cancel, 1s)", its ">" box.
    "gemini": StatusPatterns(
        waiting=[r"Do you trust the files in this folder\?|Allow execution|Apply this change\?",
                 *GENERIC_WAITING],
        working=[r"esc to cancel", r"esc to interrupt"],
        idle=[r"^\s*>\s"],
    ),
    # opencode: its permission prompts ("Allow once"), spinner hint, and the generic menus.
    "opencode": StatusPatterns(
        waiting=[r"Allow once|Permission required", *GENERIC_WAITING],
        working=[r"esc to interrupt", r"esc interrupt"],
    ),
    # aider (0.86): "(Y)es/(N)o [Yes]:" questions, "Waiting for <model>" and its retries while it
    # streams, its "> " prompt (or "ask> ", "architect> " in other chat modes).
    "aider": StatusPatterns(
        waiting=[*GENERIC_WAITING],
        working=[r"Waiting for \S+", r"^Retrying in [\d.]+ seconds"],
        idle=[r"^\w*>\s*$"],
    ),
    # A plain shell: at its prompt (ending in $, # or %) it is idle and can take a task; a
    # question on its last line (``read -p "... [y/N]"``) waits for a person.
    "shell": StatusPatterns(
        waiting=[_YES_NO, _PRESS_ENTER],
        idle=[r"[$#%>]\s*\Z"],
    ),
    # fleet-tui's bundled demo agent (fleet_tui/demo_agent.py).
    "demo": StatusPatterns(
        waiting=[r"Allow this action\? \(y/n\)"],
        working=[r"working…", r"esc to interrupt"],
        idle=[r"^demo>\s*$"],
    ),
    # No preset: only the generic signs that a person is needed (hooks say the rest).
    "none": StatusPatterns(waiting=list(GENERIC_WAITING)),
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
