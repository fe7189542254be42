"""The diff screen at 80x24 through Textual's Pilot, over real repositories and worktrees: the
file list, ``n``/``p``, PgDn, ``/`` search; ``d`` in the app (the focused agent's worktree live,
the board's task, nothing to show) and in replay (the commits recorded at the cursor); a commit
that is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_tui.adapters.eventlog import open_log
from fleet_tui.adapters.git_diff import DiffRequest
from fleet_tui.config.schema import FleetConfig
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.workspace_events import FileChange
from fleet_tui.replay.cursor import ReplayCursor
from fleet_tui.replay.index import open_index
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.diff_view import DiffScreen, FileList, SearchBar
from fleet_tui.ui.recorded import RecordedFleet
from fleet_tui.ui.replay_app import ReplayApp, ReplayFleet
from tests.gitrepo import add_worktree, commit, make_repo, write
from tests.helpers import app_drawn, pilot_until

pytestmark = pytest.mark.anyio
T0 = 1_790_000_000.0
LONG = "".join(f"value_{n} = {n}\n" for n in range(120))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class World:
    """A repository, dev-1's worktree on ``fleet/T1`` with one commit and work not committed,
    and the events the daemon logs for it."""

    def __init__(self, tmp_path: Path) -> None:
        self.repo, self.base = make_repo(tmp_path / "repo", {"app.py": "def main():\n    return 1\n",
                                                             "notes.md": "# Notes\n"})
        self.tree = add_worktree(self.repo, tmp_path / "worktrees" / "dev-1", "fleet/T1", self.base)
        self.first = commit(self.tree, {"app.py": "def main():\n    return 2\n"}, "first")
        self.head = commit(self.tree, {"data.py": LONG, "notes.md": "# Notes\n\nsearch me\n"}, "second")
        write(self.tree, {"app.py": "def main():\n    return 3  # not committed\n",
                          "scratch.txt": "untracked search me\n"})

    def events(self) -> list[ev.Event]:
        out: list[ev.Event] = [ev.LogHeader(fleet="t", session="s", started=T0),
                               ev.AgentSpawned(agent="dev-1", role="developer", roles=["developer"]),
                               ev.AgentSpawned(agent="idle", role="developer", roles=["developer"]),
                               ev.TaskCreated(task="T1", title="Do it", column="in_progress",
                                              role="developer"),
                               ev.TaskCreated(task="T2", title="Later", column="backlog", role="developer"),
                               ev.TaskAssigned(task="T1", agent="dev-1"),
                               ev.WorkspaceCreated(agent="dev-1", path=str(self.tree), repo=str(self.repo),
                                                   base="main"),
                               ev.WorkspaceSwitched(agent="dev-1", task="T1", branch="fleet/T1",
                                                    base_commit=self.base)]
        for head, files in [(self.first, [FileChange("app.py", 1, 1)]),
                            (self.head, [FileChange("app.py", 1, 1), FileChange("data.py", 120, 0),
                                         FileChange("notes.md", 2, 0)])]:
            out.append(ev.WorkspaceChanged(agent="dev-1", task="T1", branch="fleet/T1", head=head,
                                           base_commit=self.base, files=files))
        for i, event in enumerate(out):
            event.ts = T0 + i
        return out


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def live_app(world: World) -> FleetApp:
    app = FleetApp(RecordedFleet(FleetConfig(fleet="t"), fold_all(world.events())), clock=lambda: T0 + 60)
    app.read_only = False  # what a live fleet's app does with the same state
    return app


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def diff_loaded(pilot) -> DiffScreen:
    await pilot_until(pilot, lambda: isinstance(pilot.app.screen, DiffScreen) and pilot.app.screen.diff
                      is not None and not pilot.app.screen.pane.loading, message="the diff loaded")
    await pilot.pause()
    return pilot.app.screen


async def diff_of(pilot, agent: str) -> DiffScreen:
    """``d`` on ``agent``'s tile; its diff screen once loaded."""
    pilot.app.focus_agent(agent)
    await pilot.press("d")
    return await diff_loaded(pilot)


def shown_paths(screen: DiffScreen) -> list[str]:
    assert screen.diff is not None
    return [f.path for f in screen.diff.files]


async def test_d_on_an_agent_shows_its_worktree_with_uncommitted_and_untracked_work(world: World) -> None:
    app = live_app(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        screen = await diff_of(pilot, "dev-1")
        assert screen.request.live and screen.request.cwd == str(world.tree)
        assert shown_paths(screen) == ["app.py", "data.py", "notes.md", "scratch.txt"]
        assert "    return 3  # not committed" in [line.text for line in screen.pane.lines]  # first file
        assert screen.query_one(FileList).option_count == 4
        title = str(screen.query_one("#diff-title").render())
        assert "T1 · fleet/T1 · dev-1" in title and "4 files +124 -1" in title

        # n / p move between files, and stop at the ends
        await pilot.press("p")
        assert screen.file == 0
        await pilot.press("n")
        assert screen.file == 1 and screen.query_one(FileList).highlighted == 1
        await pilot.press("pagedown")
        await pilot_until(pilot, lambda: screen.pane.scroll_offset.y > 0, message="PgDn scrolled")
        await pilot.press("n", "n", "n")
        assert screen.file == 3
        assert [line.kind for line in screen.pane.lines][:2] == ["meta", "hunk"]  # untracked, then its lines

        # / searches every file as you type; enter and up walk the matches; escape keeps them
        await pilot.press("slash")
        assert isinstance(app.focused, SearchBar)
        await pilot.press(*"search me")
        assert len(screen.matches) == 2
        assert screen.matches[screen.match][0] == 3  # from where the search started: scratch.txt
        await pilot.press("enter")
        assert screen.file == 2 and screen.matches[screen.match][0] == 2  # wrapped round to notes.md
        await pilot.press("up")
        assert screen.file == 3
        await pilot.press("escape")
        assert not isinstance(app.focused, SearchBar) and screen.query_text == "search me"
        await pilot.press("slash", "enter")
        assert screen.file == 2
        await pilot.press("escape", "escape")
        await pilot_until(pilot, lambda: not isinstance(app.screen, DiffScreen), message="back to the grid")


async def test_a_search_scrolls_its_match_into_view(world: World) -> None:
    app = live_app(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        screen = await diff_of(pilot, "dev-1")
        await pilot.press("slash", *"value_100 ")
        file, line, _ = screen.matches[screen.match]
        assert shown_paths(screen)[file] == "data.py"
        pane = screen.pane

        def in_view() -> bool:
            return pane.scroll_offset.y <= line < pane.scroll_offset.y + pane.size.height

        await pilot_until(pilot, in_view, message="the match in view")


async def test_d_on_the_board_and_when_there_is_nothing_to_show(world: World) -> None:
    app = live_app(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        app.focus_agent("idle")
        await pilot.press("d")
        assert "idle has no worktree of its own" in notices(app)[-1]
        await pilot.press("2")  # the board: T2 has no branch
        app.query_one("#col-backlog").focus()
        await pilot.press("down", "d")
        assert notices(app)[-1] == "T2 has no branch yet"
        app.query_one("#col-in_progress").focus()
        await pilot.press("down", "d")
        screen = await diff_loaded(pilot)
        assert screen.request.live  # T1's branch is checked out in dev-1's worktree: as it is now
        assert "scratch.txt" in shown_paths(screen)


async def test_replay_shows_the_commits_recorded_at_the_cursor(world: World, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    writer = open_log(log)
    for event in world.events():
        writer.append(event)
    writer.close()
    index = open_index(log)
    try:
        cursor = ReplayCursor(index)
        cursor.end()
        cursor.step(-1)  # before the second commit was recorded
        app = ReplayApp(ReplayFleet(FleetConfig(fleet="t"), cursor, session_id="s"))
        async with app.run_test(size=(80, 24)) as pilot:
            await app_drawn(pilot)
            screen = await diff_of(pilot, "dev-1")
            assert (screen.request.base, screen.request.head) == (world.base, world.first)
            assert shown_paths(screen) == ["app.py"]
            assert "+    return 2" in [line.kind + line.text for line in screen.pane.lines]
            await pilot.press("q")
            await pilot.press("end")
            await pilot.press("d")
            screen = await diff_loaded(pilot)
            assert screen.request.head == world.head
            assert shown_paths(screen) == ["app.py", "data.py", "notes.md"]  # committed only
            await pilot.press("escape")
            cursor.seek(6)  # the agents are there, dev-1's worktree not yet
            app.refresh_view()
            app.focus_agent("dev-1")
            await pilot.press("d")
            assert "dev-1 has no worktree of its own" in notices(app)[-1]
    finally:
        index.close()


async def test_a_commit_that_is_gone_is_one_line_in_the_screen(world: World) -> None:
    events = world.events()
    gone = "0123456789abcdef0123456789abcdef01234567"
    changed = events[-1]
    assert isinstance(changed, ev.WorkspaceChanged)
    changed.head = gone
    app = FleetApp(RecordedFleet(FleetConfig(fleet="t"), fold_all(events)), clock=lambda: T0 + 60)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        app.focus_agent("dev-1")
        await pilot.press("d")
        await pilot_until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.pane.lines,
                          message="the error shown")
        lines = app.screen.pane.lines
        assert len(lines) == 1 and lines[0].text.startswith("commit 0123456789ab is gone from")
        assert str(app.screen.query_one("#diff-file").render()).strip() == "cannot show this diff"


async def test_an_empty_diff_says_so_and_keys_do_nothing(world: World) -> None:
    app = FleetApp(RecordedFleet(FleetConfig(fleet="t"), fold_all(world.events())), clock=lambda: T0 + 60)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_drawn(pilot)
        app.push_screen(DiffScreen(DiffRequest("t", str(world.repo), world.base, world.base)))
        screen = await diff_loaded(pilot)
        assert shown_paths(screen) == [] and str(screen.query_one("#diff-file").render()).strip() == \
            "no change against the base"
        await pilot.press("n", "p", "pagedown", "slash", "x", "enter", "escape")
        assert screen.file == -1 and screen.matches == []
