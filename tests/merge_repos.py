"""Real git repositories for the overlap and merge-queue tests: a repository on ``main`` with
a small project, agents' worktrees on ``fleet/<task>`` branches, and the ``workspace.*``
events the workspace watcher would record for them."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters.git import run_git
from fleet_tui.core import events as ev

#: An identity for commits made by the tests (the machine may have none).
IDENTITY = ["-c", "user.name=fleet test", "-c", "user.email=test@example.invalid"]
LINES = "".join(f"line {i}\n" for i in range(1, 21))


def git(cwd: Path | str, *args: str) -> str:
    return run_git(cwd, [*IDENTITY, *args]).stdout.strip()


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A repository at ``path`` on ``main`` with one commit of ``files`` (default: app.py and
    util.py of 20 lines each)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in (files or {"app.py": LINES, "util.py": LINES}).items():
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "start")
    return path


def worktree(repo: Path, where: Path, task: str, base: str = "main") -> Path:
    """An agent's worktree at ``where`` on a new branch ``fleet/<task>`` from ``base``."""
    git(repo, "worktree", "add", "-q", "-b", f"fleet/{task}", str(where), base)
    return where


def commit(tree: Path, files: dict[str, str], message: str = "work") -> str:
    """Write ``files`` in ``tree``, commit them; the new head."""
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", message)
    return git(tree, "rev-parse", "HEAD")


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
