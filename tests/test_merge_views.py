"""What the person sees of overlaps and the merge queue: the header (overlaps, conflicts, the
queue's length), the board (queued tasks first, in order, a merged column), the timeline's
summaries and the cards' label."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.overlaps import pair_key
from fleet_tui.core.summary import summarize
from fleet_tui.ui.agent_grid import AgentGrid
from fleet_tui.ui.board import BoardColumn, TaskBoard
from fleet_tui.ui.card_overlap import overlap_label
from fleet_tui.ui.header import header_text
from tests.helpers import pilot_until


def _state():
    tasks = [ev.TaskCreated(task=t, title=f"task {t}", column="done") for t in ("T1", "T2", "T3", "T4")]
    changes = [ev.WorkspaceChanged(agent=a, task=t, branch=f"fleet/{t}", head="h" * 40,
                                   files=[ev.FileChange(path="app.py")])
               for a, t in (("dev-1", "T1"), ("dev-2", "T2"), ("dev-3", "T3"))]
    return fold_all([
        ev.LogHeader(fleet="crew"), *tasks, *changes,
        ev.Alert(kind=ev.ALERT_OVERLAP, key=pair_key("T1", "T2"), message="overlap", files=["app.py"]),
        ev.Alert(kind=ev.ALERT_CONFLICT, key=pair_key("T1", "T3"), message="conflict", files=["app.py"]),
        ev.MergeQueued(task="T4", branch="fleet/T4"),
        ev.MergeQueued(task="T2", branch="fleet/T2"),
        ev.MergeQueued(task="T3", branch="fleet/T3"),
        ev.MergeStarted(task="T3", branch="fleet/T3"),
    ])


def test_the_header_counts_overlaps_conflicts_and_the_merge_queue() -> None:
    state = _state()
    text = header_text(state).plain
    assert "✖ 1 conflict " in text and "⚠ 1 overlap " in text and "⇅ 3 to merge" in text
    cleared = fold_all([ev.Alert(kind=ev.ALERT_CONFLICT, key=pair_key("T1", "T3"), cleared=True,
                                 message="over"), ev.MergeMerged(task="T3", branch="fleet/T3",
                                                                 base="main", commit="c" * 40)], state)
    text = header_text(cleared).plain
    assert "conflict" not in text and "⚠ 1 overlap" in text and "⇅ 2 to merge" in text


def test_cards_name_the_other_side_worst_first() -> None:
    state = _state()
    assert overlap_label(state, "dev-1") == "✖ T3@dev-3 +1"
    assert overlap_label(state, "dev-2") == "⚠ T1@dev-1"
    assert overlap_label(state, "nobody") == ""


def test_the_timeline_says_what_each_merge_step_did() -> None:
    said = [summarize(e) for e in (
        ev.MergeQueued(task="T1", branch="fleet/T1", reason="T1 reached done"),
        ev.MergeStarted(task="T1", branch="fleet/T1", base_commit="a" * 40, runner="merge-queue"),
        ev.MergeChecked(task="T1", check=["make", "test"], ok=False, code=2, seconds=1.5),
        ev.MergeMerged(task="T1", branch="fleet/T1", base="main", commit="b" * 40, branch_deleted=True),
        ev.MergeFailed(task="T1", reason="conflict", message="fleet/T1 conflicts with main in a.py"),
        ev.Alert(kind="overlap", key="k", cleared=True, message="T1 and T2 no longer change the same files"),
    )]
    assert said == [
        "fleet/T1 queued to merge: T1 reached done",
        "merging fleet/T1 onto aaaaaaaaaaaa, checks in merge-queue",
        "check FAILED: make test (exit 2, 1.5s)",
        "fleet/T1 merged into main at bbbbbbbbbbbb, branch deleted",
        "merge failed (conflict): fleet/T1 conflicts with main in a.py",
        "overlap cleared: T1 and T2 no longer change the same files",
    ]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Board(App):
    def compose(self) -> ComposeResult:
        yield TaskBoard(["backlog", "done", "merged"])


@pytest.mark.anyio
async def test_the_board_shows_the_queue_in_order_and_merged_tasks_apart() -> None:
    state = fold_all([ev.TaskMoved(task="T1", column="merged")], _state())
    app = _Board()
    async with app.run_test() as pilot:
        board = app.query_one(TaskBoard)
        board.sync(state.tasks, merging=[state.merge.current, *state.merge.queue])
        done = app.query_one("#col-done", BoardColumn)
        await pilot_until(pilot, lambda: done.option_count == 3, message="the done column filled")
        rows = [str(done.get_option_at_index(i).prompt) for i in range(3)]
        assert rows == ["T3 task T3 ⇅ merging", "T4 task T4 ⇅ #1 to merge", "T2 task T2 ⇅ #2 to merge"]
        assert app.query_one("#col-merged", BoardColumn).get_option_at_index(0).id == "T1"


class _Grid(App):
    def compose(self) -> ComposeResult:
        yield AgentGrid()


@pytest.mark.anyio
async def test_both_cards_name_the_other_side_of_their_overlap() -> None:
    state = fold_all([*(ev.AgentSpawned(agent=a, roles=["developer"]) for a in ("dev-1", "dev-2", "dev-3")),
                      *(ev.TaskAssigned(task=t, agent=a) for a, t in (("dev-1", "T1"), ("dev-3", "T3")))],
                     _state())
    async with _Grid().run_test(size=(120, 30)) as pilot:
        grid = pilot.app.query_one(AgentGrid)
        grid.sync(state, state.last_ts)
        await pilot.pause()
        titles = {name: card.render_line(0).text for name, card in grid.cards.items()}
        assert "✖ T3@dev-3 +1" in titles["dev-1"] and "⚠ T1@dev-1" in titles["dev-2"]
        assert "✖ T1@dev-1" in titles["dev-3"]
