"""Real git repositories for tests: made in ``tmp_path`` through ``run_git``, with a fixed
identity and no user hooks or signing, whatever the machine's git config says."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters.git import run_git

_IDENTITY = ["-c", "user.name=fleet test", "-c", "user.email=test@fleet.invalid",
             "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]


def git(cwd: str | Path, *args: str) -> str:
    return run_git(cwd, [*_IDENTITY, *args]).stdout.strip()


def make_repo(path: Path, files: dict[str, str | bytes] | None = None) -> tuple[Path, str]:
    """A repository on branch ``main`` with ``files`` committed; returns it and the commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path, commit(path, files or {"README.md": "hello\n"}, "start")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())


def commit(root: Path, files: dict[str, str | bytes], message: str) -> str:
    """Write ``files``, commit everything; the new commit's id."""
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


def add_worktree(repo: Path, path: Path, branch: str, base: str) -> Path:
    """A worktree at ``path`` on a new ``branch`` from ``base`` (as the daemon makes them)."""
    git(repo, "worktree", "add", "-q", "-b", branch, str(path), base)
    return path
