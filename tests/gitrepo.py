"""Real git repositories for tests: a small one made in ``tmp_path``, and commits in it or in
its worktrees (with a fixed identity, through ``run_git`` like the product)."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters.git import run_git

IDENTITY = ["-c", "user.name=fleet test", "-c", "user.email=test@fleet.invalid", "-c", "commit.gpgsign=false"]


def make_repo(folder: Path, branch: str = "main") -> Path:
    """A repository at ``folder`` on ``branch`` with one commit: ``app.py`` (3 lines) and a
    ``.gitignore`` ignoring ``*.log`` and ``build/``."""
    folder.mkdir(parents=True, exist_ok=True)
    run_git(folder, ["init", "-q", "-b", branch])
    (folder / "app.py").write_text("one\ntwo\nthree\n")
    (folder / ".gitignore").write_text("*.log\nbuild/\n")
    commit(folder, "init")
    return folder


def commit(folder: Path, message: str) -> str:
    """Commit everything in ``folder`` (a repository or a worktree); the new commit."""
    run_git(folder, ["add", "-A"])
    run_git(folder, [*IDENTITY, "commit", "-q", "-m", message])
    return run_git(folder, ["rev-parse", "HEAD"]).stdout.strip()
