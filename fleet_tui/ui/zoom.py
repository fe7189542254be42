"""The zoom view (``z``): one agent's pane full-screen, with its scrollback.

``PaneView`` is a Line-API ScrollView over captured rows (scrollback then screen) in the agent's
own colours. It opens at the latest row, follows the bottom while scrolled there and stays put
while the user reads back with PgUp/PgDn/arrows/home/end. ``ZoomScreen`` asks its ``fetch``
callable for the rows every ``REFRESH_SECONDS`` in a thread worker (live: ``tmux capture-pane``
with history; replay: the pane as it was at the replay time). The agent keys of ``AGENT_KEYS``
work there too, on the zoomed agent, through the app's own actions (its ``act``); its footer
shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from fleet_tui.core.sanitize import safe_line
from fleet_tui.ui import keys
from fleet_tui.ui.ansi import AnsiRenderer
from fleet_tui.ui.footer import KeyFooter

REFRESH_SECONDS = 0.5
#: The app's agent keys (their ids, which are their actions) that also act on the zoomed agent.
AGENT_KEYS = ("prompt", "pause")


class PaneView(ScrollView, can_focus=True):
    DEFAULT_CSS = "PaneView { height: 1fr; background: $surface; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._renderer = AnsiRenderer()
        self._rows: tuple[str, ...] = ()
        self._strips: list[Strip] = []
        #: A scroll to the bottom waits for the layout that makes the new rows scrollable.
        self._end_pending = False

    @property
    def rows(self) -> tuple[str, ...]:
        return self._rows

    def set_rows(self, rows: Sequence[str]) -> None:
        """Show ``rows``; the first ones open at the bottom, later ones keep it there unless
        the user has scrolled up."""
        rows = tuple(rows)
        if rows == self._rows:
            return
        following = not self._rows or self._end_pending or self.scroll_y >= self.max_scroll_y - 1
        self._rows = rows
        self._strips, _ = self._renderer.render(rows)
        self.virtual_size = Size(0, len(rows))  # rows are cropped to the width: no sideways scroll
        self.refresh()
        if following and not self._end_pending:
            self._end_pending = True
            self.call_after_refresh(self._scroll_to_end)

    def _scroll_to_end(self) -> None:
        self._end_pending = False
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= len(self._strips):
            return Strip.blank(width, self.rich_style)
        return self._strips[index].crop_extend(0, width, self.rich_style)


class ZoomScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ZoomScreen { background: $background; }
    ZoomScreen > #zoom-title { height: 1; background: $panel; }
    """
    BINDINGS = [Binding("escape,z,q", "dismiss", "Back"),
                Binding("pageup", "page(-1)", "PgUp", show=False),
                Binding("pagedown", "page(1)", "PgDn", show=False),
                *(b for b in keys.BINDINGS if b.id in AGENT_KEYS)]  # the same ids: keymap applies

    def __init__(self, agent: str, fetch: Callable[[], Sequence[str]], title: str = "",
                 act: Callable[[str], None] | None = None) -> None:
        """``act(action)`` runs one of ``AGENT_KEYS`` on this agent; without it (a replay) those
        keys are off and not shown."""
        super().__init__()
        self.agent = agent
        self._fetch = fetch
        self._title = title or agent
        self._act = act

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {safe_line(self._title)}  (PgUp/PgDn scroll, escape returns)"),
                     id="zoom-title")
        yield PaneView(id="pane")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(PaneView).focus()
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in AGENT_KEYS or self._act is not None

    def action_prompt(self) -> None:
        if self._act:
            self._act("prompt")

    def action_pause(self) -> None:
        if self._act:
            self._act("pause")

    def action_page(self, direction: int) -> None:
        view = self.query_one(PaneView)
        view.scroll_page_down() if direction > 0 else view.scroll_page_up()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        try:
            rows = self._fetch()
        except Exception as exc:  # the pane went away: say so, keep what was shown
            self.app.call_from_thread(self.notify, f"zoom {self.agent}: {exc}", severity="warning")
            return
        self.app.call_from_thread(self.query_one(PaneView).set_rows, rows)
