"""How fleet-tui tells known agent CLIs their model and its hooks, through their own per-run
options: nothing of the user's (``~/.claude/settings.json``, ``~/.codex/config.toml``) is
written.

- ``model:`` becomes the CLI's ``--model`` option (claude, codex, aider, gemini, opencode),
  unless the command already sets one.
- Claude Code gets ``--settings <json>`` whose ``hooks`` run ``fleet-tui hook claude`` on
  ``SessionStart``, ``UserPromptSubmit``, ``Stop``, ``StopFailure`` (a turn ended by an API
  error, e.g. not logged in), ``Notification`` and, for file edits,
  ``PreToolUse``/``PostToolUse``; Claude merges them with the user's own hooks. A command that
  passes its own ``--settings`` (or ``--bare``, which skips hooks) is left alone.
- Codex gets ``-c notify=[..., "hook", "codex"]``, which it runs after each turn. Its newer
  lifecycle hooks are not added: Codex runs a hook only after the user has reviewed and trusted
  it, so a per-run hook would never fire.

The hook runs as the Python running fleet-tui (``hook_argv``), so it works without ``PATH``.
The per-edit hooks run in the background (``async``), so no edit waits for fleet-tui; the
once-a-turn ones run in the foreground: Claude kills background hooks when it exits (seen
with claude 2.1.197 ``-p``), and their order matters.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

#: Preset -> the options its CLI accepts for the model (the first is the one fleet-tui adds).
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "claude": ("--model",),
    "codex": ("--model", "-m"),
    "aider": ("--model",),
    "gemini": ("--model", "-m"),
    "opencode": ("--model", "-m"),
}

#: Claude Code hook events fleet-tui listens to, with their tool matchers.
CLAUDE_HOOK_EVENTS: dict[str, str] = {
    "SessionStart": "",
    "UserPromptSubmit": "",
    "Notification": "",
    "Stop": "",
    "StopFailure": "",
    "PreToolUse": "Edit|Write|MultiEdit|NotebookEdit",
    "PostToolUse": "Edit|Write|MultiEdit|NotebookEdit",
}


def hook_argv() -> list[str]:
    """``fleet-tui hook`` as the running interpreter runs it (add the tool's name)."""
    return [sys.executable, "-m", "fleet_tui.cli", "hook"]


def has_option(command: list[str], names: tuple[str, ...]) -> bool:
    return any(arg in names or any(arg.startswith(f"{n}=") for n in names if n.startswith("--"))
               for arg in command[1:])


def claude_settings(hook: list[str] | None = None) -> dict[str, Any]:
    """The ``hooks`` block of Claude Code settings that report to fleet-tui."""
    command = shlex.join([*(hook or hook_argv()), "claude"])
    blocks: dict[str, Any] = {}
    for event, matcher in CLAUDE_HOOK_EVENTS.items():
        handler: dict[str, Any] = {"type": "command", "command": command, "timeout": 10}
        if matcher:  # per tool call: in the background, so an edit never waits for fleet-tui
            handler["async"] = True
        block: dict[str, Any] = {"hooks": [handler]}
        if matcher:
            block = {"matcher": matcher, **block}
        blocks[event] = [block]
    return {"hooks": blocks}


def codex_notify(hook: list[str] | None = None) -> str:
    """Codex's ``notify`` value: a TOML array of strings (JSON strings are TOML strings)."""
    return json.dumps([*(hook or hook_argv()), "codex"])


def hooks_added(preset: str, command: list[str]) -> bool:
    """Whether fleet-tui adds its hooks to this command (its own ``--settings``, ``--bare``
    or ``notify`` keep them out)."""
    if preset == "claude":
        return not has_option(command, ("--settings", "--bare"))
    if preset == "codex":
        return not any(a.replace(" ", "").startswith("notify=") for a in command)
    return False


def launch_argv(preset: str, command: list[str], model: str = "",
                hook: list[str] | None = None) -> list[str]:
    """``command`` with the model option and hooks its preset's CLI takes, right after the
    program name; other commands unchanged."""
    if not command:
        return []
    added: list[str] = []
    if model and preset in MODEL_OPTIONS and not has_option(command, MODEL_OPTIONS[preset]):
        added += [MODEL_OPTIONS[preset][0], model]
    if preset == "claude" and hooks_added(preset, command):
        added += ["--settings", json.dumps(claude_settings(hook), separators=(",", ":"))]
    if preset == "codex" and hooks_added(preset, command):
        added += ["-c", f"notify={codex_notify(hook)}"]
    return [command[0], *added, *command[1:]]
