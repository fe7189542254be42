"""The app's action names, the keys of fleet.yaml ``keymap`` (``action: key``).

The UI binds each action under this name, so a keymap entry naming anything else is a config
error (with a did-you-mean hint) rather than a binding that silently does nothing.
"""

from __future__ import annotations

KNOWN_ACTIONS: tuple[str, ...] = (
    "spawn", "pause", "kill", "restart", "attach", "prompt", "zoom", "diff", "next_needing", "reply",
    "focus_left", "focus_right", "focus_up", "focus_down",
    "cycle_area", "show_grid", "show_board", "show_timeline",
    "new_task", "move_task", "assign_task", "approve", "deny",
    "filter", "help", "quit", "command_palette",
)
