"""The demo fleet's throwaway git repository: a tiny project (a route table, its tests and a
check the merge queue runs), made once per session in the session's folder, never in the
user's repository. The demo agents (``demo_agent.py --git``) edit and commit it in their
worktrees."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters.git import run_git
from fleet_tui.adapters.paths import make_private_dirs

#: The branch the demo project starts on (the fleet's base branch).
DEMO_BASE = "main"
#: What the merge queue runs in the demo project.
DEMO_CHECK = ["python", "-m", "unittest", "discover", "-s", "tests", "-t", "."]

_FILES = {
    "README.md": "# demo-app\n\nA tiny web app that fleet-tui's demo agents work on.\n",
    ".gitignore": "__pycache__/\n",
    "src/__init__.py": "",
    "src/app.py": '''"""The app's routes: each task adds its own (at its marker line)."""

ROUTES = {
    "/": "index",
    # T2: login form
    "/health": "health",
    # T3: session cookies
    "/about": "about",
}


def route(path: str) -> str:
    return ROUTES.get(path, "not_found")
''',
    "tests/__init__.py": "",
    "tests/test_app.py": '''import unittest

from src.app import route


class RouteTest(unittest.TestCase):
    def test_index(self) -> None:
        self.assertEqual(route("/"), "index")

    def test_unknown(self) -> None:
        self.assertEqual(route("/nope"), "not_found")
''',
}


def ensure_demo_repo(path: Path) -> Path:
    """The demo repository at ``path``, made (one commit on ``main``) unless it is there."""
    if (path / ".git").exists():
        return path
    make_private_dirs(path)
    for name, text in _FILES.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    run_git(path, ["init", "-q", "-b", DEMO_BASE])
    run_git(path, ["add", "-A"])
    run_git(path, ["-c", "user.name=fleet-tui demo", "-c", "user.email=demo@fleet-tui.invalid",
                   "commit", "-q", "-m", "demo-app: routes and their tests"])
    return path
