"""The names of the app's actions, as used by fleet.yaml ``keymap`` (action -> key)."""

from __future__ import annotations

ACTIONS: tuple[str, ...] = (
    "spawn", "pause", "kill", "restart", "attach", "prompt", "zoom",
    "focus_left", "focus_right", "focus_up", "focus_down",
    "cycle_area", "show_grid", "show_board", "show_timeline",
    "new_task", "move_task", "assign_task", "approve", "deny",
    "filter", "help", "quit", "command_palette",
)
