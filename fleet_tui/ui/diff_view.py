"""The diff screen (``d``): a task's changes against its base, one file at a time.

A title row (what is diffed, files and counts), the file list (one row per file: status,
``+A -D``, path; above the diff, at most ``LIST_ROWS`` rows, on narrow terminals such as
80x24; a column on its left from ``WIDE`` columns), a bar naming the shown file, and the file's
unified diff: code coloured by its language, added and removed lines on the theme's success
and error tints. ``n``/``p`` next/previous file, PgUp/PgDn/arrows/home/end scroll, ``/``
searches every file as you type (``enter`` or ``down`` next match, ``up`` previous, ``escape``
ends the search and keeps the matches marked), ``r`` reloads, ``escape``/``q`` go back.

git runs in a thread worker (``load_diff`` in ``adapters/git_diff.py``) while a loading
indicator shows; its failure is one line in the screen. Everything drawn has gone through
``safe_code``/``safe_line`` (``diff_lines.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from fleet_tui.adapters.diff_parse import Diff
from fleet_tui.adapters.git_diff import DiffRequest, load_diff
from fleet_tui.core.sanitize import safe_line
from fleet_tui.ui.diff_lines import (
    Highlighted,
    Line,
    counts,
    file_label,
    file_lines,
    file_row,
    find_matches,
    lexer_for,
)

#: Rows of the file list above the diff on a narrow terminal.
LIST_ROWS = 5
#: From this width the file list is a column beside the diff.
WIDE = 120
_MARKERS = {"+": "+", "-": "-", " ": " ", "\\": "\\", "hunk": "", "meta": ""}
_KIND_CLASSES = {"+": "diff--added", "-": "diff--removed", "hunk": "diff--hunk", "meta": "diff--meta",
                 "\\": "diff--meta"}


class DiffPane(ScrollView, can_focus=True):
    """A Line-API view of one file's diff lines, with search matches marked."""

    COMPONENT_CLASSES = {"diff--added", "diff--removed", "diff--hunk", "diff--meta", "diff--match",
                         "diff--current"}
    DEFAULT_CSS = """
    DiffPane { height: 1fr; background: $surface; scrollbar-size-vertical: 1; }
    DiffPane > .diff--added { background: $success-muted; }
    DiffPane > .diff--removed { background: $error-muted; }
    DiffPane > .diff--hunk { color: $text-accent; text-style: bold; }
    DiffPane > .diff--meta { color: $text-muted; text-style: italic; }
    DiffPane > .diff--match { background: $warning-muted; }
    DiffPane > .diff--current { background: $warning; color: $background; }
    """
    BINDINGS = [Binding("pagedown", "page_down", "Page", key_display="PgUp/PgDn"),
                Binding("j", "scroll_down", show=False), Binding("k", "scroll_up", show=False)]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines: list[Line] = []
        self._texts: Sequence[Text] = []
        #: Search matches by line: columns; the match that is the current one; the query length.
        self._matches: dict[int, list[int]] = {}
        self._current: tuple[int, int] | None = None
        self._match_length = 0
        self._cache: dict[int, Strip] = {}

    def set_lines(self, lines: list[Line], texts: Sequence[Text]) -> None:
        """Show ``lines``, drawn as ``texts`` (the same lines, coloured: ``Highlighted``)."""
        self.lines, self._texts = lines, texts
        width = max((cell_len(line.text) + 2 for line in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        self._matches, self._current = {}, None
        self._cache.clear()
        self.refresh()

    def set_matches(self, matches: dict[int, list[int]], length: int,
                    current: tuple[int, int] | None) -> None:
        self._matches, self._match_length, self._current = matches, length, current
        self._cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # a new theme: new tints

    def _strip(self, index: int) -> Strip:
        strip = self._cache.get(index)
        if strip is not None:
            return strip
        line = self.lines[index]
        text = Text(_MARKERS[line.kind]) + self._texts[index]
        offset = len(_MARKERS[line.kind])
        for column in self._matches.get(index, ()):
            name = "diff--current" if self._current == (index, column) else "diff--match"
            text.stylize(self.get_component_rich_style(name), offset + column,
                         offset + column + self._match_length)
        base = self.get_component_rich_style(_KIND_CLASSES[line.kind]) if line.kind in _KIND_CLASSES \
            else Style()
        strip = Strip(list(text.render(self.app.console, end=""))).apply_style(base)
        self._cache[index] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        line = self.lines[index]
        style = self.rich_style
        if line.kind in ("+", "-"):
            style += self.get_component_rich_style(_KIND_CLASSES[line.kind])
        x = int(self.scroll_offset.x)
        return self._strip(index).crop_extend(x, x + width, style).apply_style(self.rich_style)

    def show_line(self, index: int, column: int = 0, length: int = 0) -> None:
        """Scroll so that line ``index`` sits in the upper third, its ``column`` in view."""
        height, width = max(1, self.size.height), max(1, self.size.width)
        right = 1 + column + length
        x = 0 if right <= width else right - width + 8
        self.scroll_to(x=x, y=max(0, index - height // 3), animate=False, immediate=True)


class FileList(OptionList, can_focus=False):
    """The diff's files; the highlighted one is shown (a click picks one)."""


class SearchBar(Input):
    BINDINGS = [Binding("enter", "screen.next_match(1)", "Next match"),
                Binding("down", "screen.next_match(1)", "Next match", show=False),
                Binding("up", "screen.next_match(-1)", "Previous match"),
                Binding("escape", "screen.end_search", "Done")]


class DiffScreen(ModalScreen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    DEFAULT_CSS = f"""
    DiffScreen {{ background: $background; }}
    DiffScreen #diff-title {{ height: 1; background: $panel; color: $text; }}
    DiffScreen #diff-body {{ layout: vertical; height: 1fr; }}
    DiffScreen.-wide #diff-body {{ layout: horizontal; }}
    DiffScreen #diff-files {{ height: auto; max-height: {LIST_ROWS}; scrollbar-size-vertical: 1; }}
    DiffScreen.-wide #diff-files {{ width: 40%; max-width: 60; height: 1fr; max-height: 100%;
                                   border-right: vkey $panel-lighten-2; }}
    DiffScreen #diff-file {{ height: 1; background: $boost; color: $text-primary; text-style: bold; }}
    DiffScreen #diff-search {{ height: 1; border: none; padding: 0 1; display: none; }}
    DiffScreen #diff-search.-open {{ display: block; }}
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Back"),
        Binding("q", "dismiss", "Back", show=False),
        Binding("n", "file(1)", "Next file"),
        Binding("p", "file(-1)", "Prev file"),
        Binding("slash", "search", "Search"),
        Binding("pagedown", "page(1)", "PgDn", show=False),
        Binding("pageup", "page(-1)", "PgUp", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, request: DiffRequest, loader: Callable[[DiffRequest], Diff] = load_diff) -> None:
        super().__init__()
        self.request = request
        self._loader = loader
        self.diff: Diff | None = None
        self._lines: list[list[Line]] = []
        self._texts: dict[tuple[int, bool], Highlighted] = {}
        self.file = -1
        self.query_text = ""
        self.matches: list[tuple[int, int, int]] = []
        self.match = -1
        self._search_origin = (0, 0)

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {safe_line(self.request.title)}", no_wrap=True, overflow="ellipsis"),
                     id="diff-title")
        with Container(id="diff-body"):
            yield FileList(id="diff-files", compact=True)
            with Vertical(id="diff-main"):
                yield Static(" loading the diff…", id="diff-file")
                yield DiffPane(id="diff-pane")
        yield SearchBar(placeholder="search every file (enter: next match)", id="diff-search")
        yield Footer(compact=True)

    @property
    def pane(self) -> DiffPane:
        return self.query_one(DiffPane)

    def on_mount(self) -> None:
        self.pane.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        self.app.call_from_thread(setattr, self.pane, "loading", True)
        try:
            diff = self._loader(self.request)
            lines = [file_lines(f) for f in diff.files]
            for file in diff.files[:1]:
                lexer_for(file.path)  # the first lookup loads pygments' tables: not on the UI thread
        except Exception as exc:  # DiffError, or anything else: one line, not a traceback
            self.app.call_from_thread(self._failed, str(exc) or type(exc).__name__)
            return
        self.app.call_from_thread(self._loaded, diff, lines)

    def _done_loading(self) -> None:
        self.pane.loading = False
        self.refresh_bindings()  # the pane's own keys (PgUp/PgDn) are active again: the footer

    def _failed(self, message: str) -> None:
        self._done_loading()
        self.query_one("#diff-file", Static).update(Text(" cannot show this diff", no_wrap=True))
        self.pane.set_lines([Line("meta", safe_line(message))], [Text(safe_line(message))])

    def _loaded(self, diff: Diff, lines: list[list[Line]]) -> None:
        self.diff, self._lines, self._texts = diff, lines, {}
        self._done_loading()
        files = f"{len(diff.files)} file{'' if len(diff.files) == 1 else 's'}"
        title = f" {safe_line(self.request.title)} · {files} +{diff.added} -{diff.removed}"
        if diff.truncated:
            title += " · diff truncated"
        self.query_one("#diff-title", Static).update(Text(title, no_wrap=True, overflow="ellipsis"))
        file_list = self.query_one(FileList)
        file_list.clear_options()
        file_list.add_options([Option(file_row(f)) for f in diff.files])
        if not diff.files:
            self.query_one("#diff-file", Static).update(" no change against the base")
            self.pane.set_lines([], [])
            return
        shown, self.file = self.file, -1  # a reload stays on the same file
        self.show_file(min(max(shown, 0), len(diff.files) - 1))
        if self.query_text:
            self._search(self.query_text, (self.file, 0))

    # --- files ----------------------------------------------------------------------------

    def _file_texts(self, index: int) -> Highlighted:
        dark = self.app.current_theme.dark
        texts = self._texts.get((index, dark))
        if texts is None:
            assert self.diff is not None
            path = self.diff.files[index].path
            texts = self._texts[index, dark] = Highlighted(path, self._lines[index], dark)
        return texts

    def show_file(self, index: int) -> None:
        if self.diff is None or not 0 <= index < len(self.diff.files):
            return
        if index != self.file:
            self.file = index
            self.pane.set_lines(self._lines[index], self._file_texts(index))
            self.pane.scroll_to(0, 0, animate=False, immediate=True)
            self._mark_matches()
        file_list = self.query_one(FileList)
        if file_list.highlighted != index:
            file_list.highlighted = index
        self._update_file_bar()

    def _update_file_bar(self) -> None:
        assert self.diff is not None
        file = self.diff.files[self.file]
        bar = Text(no_wrap=True, overflow="ellipsis")
        bar.append(f" {self.file + 1}/{len(self.diff.files)} ")
        bar.append(file_label(file))
        bar.append(f"  {counts(file)}")
        if self.matches:
            bar.append(f"   match {self.match + 1}/{len(self.matches)}", style="reverse")
        elif self.query_text:
            bar.append("   no match", style="reverse")
        self.query_one("#diff-file", Static).update(bar)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_file(event.option_index)

    def action_file(self, step: int) -> None:
        self.show_file(self.file + step)

    def action_page(self, direction: int) -> None:
        self.pane.scroll_page_down() if direction > 0 else self.pane.scroll_page_up()

    def action_reload(self) -> None:
        self.load()

    # --- search ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a search, the screen's letter keys are text (the footer drops them).
        return not (action in ("search", "file", "dismiss") and isinstance(self.focused, SearchBar))

    def action_search(self) -> None:
        bar = self.query_one(SearchBar)
        self._search_origin = (max(self.file, 0), int(self.pane.scroll_offset.y))
        bar.add_class("-open")
        bar.value = self.query_text
        bar.focus()

    def action_end_search(self) -> None:
        self.query_one(SearchBar).remove_class("-open")
        self.pane.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._search(event.value, self._search_origin)

    def _search(self, query: str, origin: tuple[int, int]) -> None:
        self.query_text = query
        self.matches = find_matches(self._lines, query)
        self.match = next((i for i, m in enumerate(self.matches) if m[:2] >= origin),
                          0 if self.matches else -1)
        self._go_to_match()

    def action_next_match(self, step: int) -> None:
        if self.matches:
            self.match = (self.match + step) % len(self.matches)
            self._go_to_match()

    def _go_to_match(self) -> None:
        if self.match >= 0:
            file, line, column = self.matches[self.match]
            self.show_file(file)
            self._mark_matches()
            self.pane.show_line(line, column, len(self.query_text))
        else:
            self._mark_matches()
        if self.diff is not None and self.diff.files:
            self._update_file_bar()

    def _mark_matches(self) -> None:
        by_line: dict[int, list[int]] = {}
        for file, line, column in self.matches:
            if file == self.file:
                by_line.setdefault(line, []).append(column)
        current = None
        if self.match >= 0 and self.matches[self.match][0] == self.file:
            current = self.matches[self.match][1:]
        self.pane.set_matches(by_line, len(self.query_text), current)
