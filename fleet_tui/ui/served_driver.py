"""The Textual driver of a browser tab's client (``fleet-tui run --client web``, which
``fleet-tui serve`` starts through textual-serve for each tab): Textual's web driver, except
that the app ends when its input ends.

textual-serve writes a tab's keys to its client's stdin and says "quit" when the tab closes.
When serve itself goes away first (stopped, killed, crashed), the client's stdin just ends:
Textual's driver then lets the app run on, orphaned, drawing for nobody (one was found an
hour later at 63 % CPU).
"""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver


class ServedDriver(WebDriver):
    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # the input ended, not the app: its server is gone
            self._app.post_message(messages.ExitApp())
