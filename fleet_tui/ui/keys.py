"""The app's key bindings: one table, each binding with an id (the action names of
``config/actions.py``), its default keys and a description.

The footer, the ``?`` help screen and the command palette read this table, and fleet.yaml's
``keymap`` (``id: key``) remaps by id. No essential action uses a key that is unsafe in tmux
over SSH (ctrl+s, ctrl+h, ctrl+[, ctrl+i, ctrl+m, ctrl+enter, shift+enter), and ctrl+c is
never bound: it belongs to the agents.
"""

from __future__ import annotations

from textual.binding import Binding

#: Keys no binding may use: tmux or the terminal eat them, or they mean something else there.
UNSAFE_KEYS = frozenset({"ctrl+s", "ctrl+h", "ctrl+left_square_bracket", "ctrl+i", "ctrl+m",
                         "ctrl+enter", "shift+enter", "ctrl+c"})

#: Actions that change agents or tasks; replay disables them.
COMMANDS = frozenset({"spawn", "pause", "kill", "restart", "attach", "prompt", "new_task",
                      "move_task", "assign_task", "approve", "deny"})


def _b(key: str, action: str, description: str, id: str, show: bool = True,
       priority: bool = False) -> Binding:
    return Binding(key, action, description, show=show, id=id, priority=priority)


BINDINGS: list[Binding] = [
    _b("n", "spawn", "Spawn", "spawn"),
    _b("p", "pause", "Pause", "pause"),
    _b("x", "kill", "Kill", "kill"),
    _b("r", "restart", "Restart", "restart", show=False),
    _b("s", "prompt", "Prompt", "prompt"),
    _b("enter", "attach", "Attach", "attach"),
    _b("z", "zoom", "Zoom", "zoom"),
    _b("d", "diff", "Diff of the task's branch", "diff", show=False),
    _b("w", "next_needing", "Next needing you", "next_needing", show=False),
    _b("Y", "reply", "Reply to a waiting agent", "reply", show=False),
    _b("tab", "cycle_area", "Next area", "cycle_area", show=False, priority=True),
    _b("1", "show('grid')", "Agents", "show_grid", show=False),
    _b("2", "show('board')", "Board", "show_board", show=False),
    _b("3", "show('timeline')", "Timeline", "show_timeline", show=False),
    _b("left,h", "focus_move(-1, 0)", "Focus left", "focus_left", show=False),
    _b("right,l", "focus_move(1, 0)", "Focus right", "focus_right", show=False),
    _b("up,k", "focus_move(0, -1)", "Focus up", "focus_up", show=False),
    _b("down,j", "focus_move(0, 1)", "Focus down", "focus_down", show=False),
    _b("t", "new_task", "New task", "new_task", show=False),
    _b("m", "move_task", "Move task", "move_task", show=False),
    _b("A", "assign_task", "Assign task to focused agent", "assign_task", show=False),
    _b("a", "approve", "Approve", "approve", show=False),
    _b("D", "deny", "Deny", "deny", show=False),
    _b("slash", "filter", "Filter timeline", "filter", show=False),
    _b("question_mark", "help", "Help", "help"),
    _b("ctrl+p", "command_palette", "Commands", "command_palette", show=False, priority=True),
    _b("q", "quit_fleet", "Quit", "quit"),
]



def keys_for(binding: Binding, keymap: dict[str, str]) -> str:
    """The keys bound now: the fleet.yaml ``keymap`` entry for the binding's id, else its own."""
    return keymap.get(binding.id or "", binding.key)


def key_display(keys: str) -> str:
    """How a key list reads in help: ``left,h`` -> ``left / h``, ``question_mark`` -> ``?``."""
    names = {"question_mark": "?", "slash": "/", "ctrl+p": "ctrl+p"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))
