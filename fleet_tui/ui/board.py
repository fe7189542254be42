"""The task board: one column per pipeline stage (``merged`` after them when the fleet has a
merge queue) plus ``blocked``, a row per task.

Each column is an OptionList (keyboard navigable, one highlighted task); a row shows the task
id, title, assignee (made safe to draw), a ``⚑`` when an approval is pending, and its place in
the merge queue (those tasks first, in the queue's order). ``sync`` rebuilds only the columns
whose tasks changed; ``selected_task`` is the highlighted task of the focused column.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import BLOCKED, MERGED, TaskState

COLUMN_TITLES = {"in_progress": "in progress"}
#: Longer titles are cut (with …): a row wraps in its column, and a title of any length must
#: not fill the board.
TITLE_LIMIT = 160


class BoardColumn(OptionList):
    DEFAULT_CSS = """
    BoardColumn { width: 1fr; height: 1fr; border: round $panel-lighten-2; }
    BoardColumn:focus-within, BoardColumn:focus { border: round $primary; }
    """

    def __init__(self, column: str) -> None:
        super().__init__(id=f"col-{column}")
        self.column = column
        self.border_title = Text(COLUMN_TITLES.get(column, safe_line(column)))
        self._shown: tuple[object, ...] = ()


def task_row(task: TaskState, files: str = "", place: int = -1) -> Text:
    """``files``: what its branch changes; ``place``: 0 being merged, N the Nth in the merge
    queue, -1 not in it."""
    title = safe_line(task.title)
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1] + "…"
    row = Text.assemble((safe_line(task.id)[:TITLE_LIMIT], "bold"), " ", title)
    if task.assignee:
        row.append(f" @{safe_line(task.assignee)}", style="cyan")
    if files:  # what its branch changes (``workspace_line.task_files``)
        row.append(f" {files}", style="dim")
    if task.pending_approvals:
        row.append(" ⚑ approve?", style="bold yellow")
    if place >= 0:
        row.append(" ⇅ merging" if place == 0 else f" ⇅ #{place} to merge", style="bold cyan")
    return row


class TaskBoard(Horizontal):
    DEFAULT_CSS = """
    TaskBoard { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        names = list(columns)
        if BLOCKED not in names:
            names.append(BLOCKED)
        self.columns = names

    def compose(self) -> ComposeResult:
        for name in self.columns:
            yield BoardColumn(name)

    def sync(self, tasks: dict[str, TaskState], files: dict[str, str] | None = None,
             merging: Sequence[str] = ()) -> None:
        """``files``: the count shown on each task (by id) that has one; ``merging``: the task
        being merged (or "") then the merge queue, in order."""
        files = files or {}
        by_column: dict[str, list[TaskState]] = {c: [] for c in self.columns}
        place = {t: i for i, t in enumerate(merging) if t}
        # Merged tasks sit in the last stage on a board without a merged column (replays).
        fallback = {MERGED: by_column[self.columns[-2]]} if len(self.columns) > 1 else {}
        for task in sorted(tasks.values(), key=lambda t: place.get(t.id, len(place))):
            by_column.get(task.column, fallback.get(task.column, by_column[BLOCKED])).append(task)
        for column in self.query(BoardColumn):
            items = by_column.get(column.column, [])
            key = tuple((t.id, t.title, t.assignee, bool(t.pending_approvals), files.get(t.id, ""),
                         place.get(t.id, -1))
                        for t in items)
            if key == column._shown:
                continue
            column._shown = key
            highlighted = column.highlighted_option.id if column.highlighted_option else None
            column.clear_options()
            column.add_options([Option(task_row(t, files.get(t.id, ""), place.get(t.id, -1)), id=t.id)
                                for t in items])
            column.border_subtitle = str(len(items)) if items else ""
            if highlighted is not None and highlighted in {t.id for t in items}:
                column.highlighted = column.get_option_index(highlighted)

    def selected_task(self) -> str | None:
        focused = self.screen.focused if self.is_attached else None
        columns = [focused] if isinstance(focused, BoardColumn) else list(self.query(BoardColumn))
        for column in columns:
            option = column.highlighted_option
            if option is not None and option.id:
                return option.id
        return None
