"""How the UI calls its person (the terminal bell, a desktop notification through the
terminal, the ``notify.command`` of fleet.yaml) and the reply mode that answers a waiting
agent from its card.

What to call about is decided in the core (``core.attention``); this module only rings.
Desktop notifications are OSC 777 and OSC 9 sequences, wrapped for tmux when the UI runs
inside it; their text is sanitised and cut, so no agent text can end the sequence early.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from fleet_tui.config.schema import Notify
from fleet_tui.core.attention import Call
from fleet_tui.core.sanitize import safe_line
from fleet_tui.ui.dialogs import DIALOG_CSS

#: Seconds a notify command may run.
COMMAND_TIMEOUT = 10.0
#: Keys the reply mode sends, and the name tmux knows each by.
REPLY_KEYS = {**{c: c for c in "ynYN0123456789"}, "enter": "Enter", "escape": "Escape",
              "up": "Up", "down": "Down"}


def desktop_sequence(title: str, body: str, in_tmux: bool) -> str:
    """OSC 777 (urxvt, foot, WezTerm...) and OSC 9 (iTerm2, Windows Terminal...) notifications."""
    title, body = (safe_line(t).replace(";", ",")[:120] for t in (title, body))
    sequence = f"\x1b]777;notify;{title};{body}\x1b\\\x1b]9;{title}: {body}\x1b\\"
    if in_tmux:  # tmux passes it on only wrapped, every ESC doubled
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def run_command(argv: list[str], message: str) -> None:
    """Run the notify command with the message as its last argument, off the UI thread."""
    def run() -> None:
        # a notifier that is missing or slow must not trouble the fleet
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([*argv, safe_line(message)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=COMMAND_TIMEOUT, check=False)

    threading.Thread(target=run, name="notify", daemon=True).start()


def ring(app: App, notify: Notify, calls: list[Call]) -> None:
    """Call the person about ``calls`` the ways fleet.yaml's ``notify:`` asks for."""
    if not calls:
        return
    if notify.bell:
        app.bell()
    message = calls[0].message if len(calls) == 1 else f"{calls[0].message} (+{len(calls) - 1} more)"
    if notify.desktop and app._driver is not None:
        app._driver.write(desktop_sequence("fleet-tui", message, bool(os.environ.get("TMUX"))))
    if notify.command:
        run_command(list(notify.command), message)


class ReplyScreen(ModalScreen[None]):
    """Answer a waiting agent without attaching: each key is sent as it is pressed."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ReplyScreen") + """
    ReplyScreen > Vertical { width: 90; }
    """
    BINDINGS = [Binding("ctrl+g", "dismiss(None)", "Done"), Binding("q", "dismiss(None)", "Done")]

    def __init__(self, agent: str, last_lines: list[str], send: Callable[[str], None]) -> None:
        super().__init__()
        self.agent = agent
        self.last_lines = last_lines
        self._send = send

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Reply to {safe_line(self.agent)}", style="bold"))
            yield Static(Text("\n".join(safe_line(line) for line in self.last_lines[-6:])))
            yield Static(Text("y n 0-9 ↑ ↓ enter esc: sent as you press them · q: done",
                              style="dim"))

    def on_key(self, event: events.Key) -> None:
        key = REPLY_KEYS.get(event.key)
        if key is not None:
            event.stop()
            self._send(key)
