"""KeyFooter: Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes on every focus change (each arrow press between agents), which
makes thousands of objects per key press and, with 30 busy cards, garbage-collection pauses
that show as slow keys (``bench/ui.py``). The keys shown are the same for every card, so this
footer compares what it would show and skips the rebuild when nothing changed.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    _shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        shown = tuple(
            (key, binding.action, binding.description, enabled)
            for key, (_node, binding, enabled, _tooltip) in screen.active_bindings.items()
            if binding.show
        )
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)
