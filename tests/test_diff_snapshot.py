"""The diff screen at 80x24 as a picture (pytest-textual-snapshot): the snapshot fleet's app
with the diff of a fixed change (a modified Python file, a rename, a binary file, a hostile
name) on top, after the diff has loaded. The title is fixed (no commit ids) and nothing drawn
depends on the repository's path or dates.

Update after an intended change with ``pytest tests/test_diff_snapshot.py --snapshot-update``
and look at the picture before committing."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._footer import FooterKey

from fleet_tui.adapters.git_diff import DiffRequest
from fleet_tui.config.loader import load_config
from fleet_tui.core.state import FleetState
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.diff_view import DiffScreen
from fleet_tui.ui.recorded import RecordedFleet
from tests.gitrepo import commit, make_repo
from tests.helpers import pilot_until

CONFIG = Path(__file__).parent / "data" / "snapshot" / "fleet.yaml"
SESSION = '''"""Sessions: who is logged in."""

import time


def login(user: str, password: str) -> bool:
    """Check the password; remember the user."""
    if not check(user, password):
        return False
    SESSIONS[user] = time.time()
    return True
'''


def test_diff_80x24(snap_compare, tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path / "repo", {"src/session.py": SESSION, "docs/old.md": "# Old\n\ntext\n",
                                               "logo.png": b"\x89PNG\0\0\x01"})
    (repo / "docs" / "old.md").unlink()
    head = commit(repo, {"src/session.py": SESSION.replace("time.time()", "time.monotonic()")
                         .replace("    return True\n", "    log(user)\n    return True\n"),
                         "docs/new.md": "# Old\n\ntext\n", "logo.png": b"\x89PNG\0\0\x02",
                         "esc\x1b[2J.txt": "\x1b[31mred\x1b[0m\n"}, "work")
    app = FleetApp(RecordedFleet(load_config(CONFIG).config, FleetState()), clock=lambda: 0.0)

    async def open_diff(pilot) -> None:
        app.push_screen(DiffScreen(DiffRequest("T2 · fleet/T2 · dev-1", str(repo), base, head)))
        await pilot_until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.diff is not None
                          and not app.screen.pane.loading, message="the diff loaded")
        await pilot.press("n", "n", "n")
        await pilot_until(pilot, lambda: app.screen.file == 3, message="the fourth file")

        def footer_ready() -> bool:  # the footer follows focus a refresh later
            return any(key.action == "page_down" for key in app.screen.query(FooterKey))

        await pilot_until(pilot, footer_ready, message="the footer with the focused pane's keys")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_diff)
