"""What cards and the board say about worktrees: the agent's branch and ``N files +A -D``, the
task's file count; drawn safely on the card's title row and the board's task row."""

from __future__ import annotations

import pytest

from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.state import AgentState, FleetState, TaskState
from fleet_tui.core.summary import files_summary, summarize
from fleet_tui.core.workspace_events import FileChange
from fleet_tui.ui.agent_card import BRANCH_ROW_HEIGHT
from fleet_tui.ui.board import task_row
from fleet_tui.ui.workspace_line import task_files, workspace_summary
from tests.test_agent_grid import NOW, GridApp, make_state, start

pytestmark = pytest.mark.anyio

FILES = [FileChange("app.py", 10, 4), FileChange("logo.png", -1, -1), FileChange("new.py", 2, 0)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _state() -> FleetState:
    return fold_all([
        ev.WorkspaceCreated(agent="dev", path="/w/dev", repo="/r", base="main", seq=1, ts=1),
        ev.WorkspaceCreated(agent="rev", path="/w/rev", repo="/r", base="main", seq=2, ts=1),
        ev.WorkspaceSwitched(agent="dev", task="T1", branch="fleet/T1", base_commit="b" * 40, seq=3, ts=2),
        ev.WorkspaceChanged(agent="dev", task="T1", branch="fleet/T1", head="c" * 40, files=FILES,
                            seq=4, ts=3),
    ])


def test_the_summaries() -> None:
    state = _state()
    assert files_summary(FILES) == "3 files +12 -4"
    assert files_summary([FileChange("a", 1, 0)]) == "1 file +1 -0"
    assert workspace_summary(state, "dev") == "fleet/T1 3 files +12 -4"
    assert workspace_summary(state, "rev") == ""  # detached at the base, nothing changed
    assert workspace_summary(state, "nobody") == ""
    assert task_files(state) == {"T1": "3 files"}
    summaries = [summarize(e) for e in state.timeline if e.type_name.startswith("workspace.")]
    assert summaries == ["made worktree /w/dev (base main)", "made worktree /w/rev (base main)",
                         f"on fleet/T1, new from {'b' * 10}", f"fleet/T1: 3 files +12 -4 at {'c' * 10}"]
    row = task_row(TaskState(id="T1", title="Login", assignee="dev"), "3 files")
    assert row.plain == "T1 Login @dev 3 files"


async def test_the_card_shows_the_branch_and_files_on_a_row_of_its_own_and_never_raw_escapes() -> None:
    state = make_state(2)
    state.workspaces = _state().workspaces
    state.agents["dev"] = AgentState(name="dev", role="dev", model="opus", status="working",
                                     status_since=NOW - 5, tasks=["T1"], screen=["$ make", "ok"])
    state.workspaces["dev"].branch = "fleet/\x1b[2JT1"
    async with GridApp().run_test(size=(160, 40)) as pilot:
        grid = await start(pilot, state)
        card = grid.cards["dev"]
        assert card.size.height >= BRANCH_ROW_HEIGHT
        rows = [card.render_line(y).text for y in range(4)]
        assert "files" not in rows[0]  # the title keeps its room
        assert rows[1].startswith("fleet/\\x1b[2JT1 3 files +12 -4")
        assert [r.strip() for r in rows[2:]] == ["$ make", "ok"]  # the pane under it
        assert "\x1b" not in "".join(rows)
        assert "files" not in grid.cards["agent-00"].render_line(1).text
        # the branch row goes when the worktree leaves its branch and changes nothing
        state.workspaces["dev"].branch, state.workspaces["dev"].files = "", []
        state.events += 1  # as the fold counts the event that did it
        grid.sync(state, NOW)
        assert [card.render_line(y).text.strip() for y in range(3)][1:] == ["$ make", "ok"]
