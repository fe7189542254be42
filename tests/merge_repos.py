"""For the overlap and merge-queue tests on real git repositories (made with tests/gitrepo.py):
their small project, its files edited, and the ``workspace.*`` events the workspace watcher
would record for agents' worktrees on ``fleet/<task>`` branches."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.core import events as ev
from tests.gitrepo import git

LINES = "".join(f"line {i}\n" for i in range(1, 21))
#: The project of these tests: app.py and util.py of 20 lines each.
PROJECT = {"app.py": LINES, "util.py": LINES}


def edited(line: int, text: str) -> str:
    """The 20-line file with ``line`` replaced by ``text``."""
    rows = LINES.splitlines(keepends=True)
    rows[line - 1] = text + "\n"
    return "".join(rows)


def created(agent: str, repo: Path, tree: Path) -> ev.WorkspaceCreated:
    return ev.WorkspaceCreated(agent=agent, path=str(tree), repo=str(repo), base="main")


def changed(agent: str, task: str, tree: Path, paths: list[str]) -> ev.WorkspaceChanged:
    """What the watcher records for ``tree`` on ``fleet/<task>`` changing ``paths``."""
    return ev.WorkspaceChanged(agent=agent, task=task, branch=f"fleet/{task}",
                               head=git(tree, "rev-parse", "HEAD"),
                               base_commit=git(tree, "merge-base", "HEAD", "main"),
                               files=[ev.FileChange(path=p, added=1, removed=1) for p in paths])
