"""Real git repositories for tests (and bench scripts): made in ``tmp_path`` through
``run_git`` like the product, with a fixed identity and no user hooks or signing, whatever the
machine's git config says; commits in them or in their worktrees."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters.git import run_git

#: Options for every git call of the tests: an identity (the machine may have none), no signing,
#: no hooks of the user's.
IDENTITY = ["-c", "user.name=fleet test", "-c", "user.email=test@fleet.invalid",
            "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
#: The default project: ``app.py`` (3 lines) and a ``.gitignore`` ignoring ``*.log`` and ``build/``.
PROJECT = {"app.py": "one\ntwo\nthree\n", ".gitignore": "*.log\nbuild/\n"}


def git(cwd: str | Path, *args: str) -> str:
    """``git args`` in ``cwd`` with :data:`IDENTITY`; its stripped output."""
    return run_git(cwd, [*IDENTITY, *args]).stdout.strip()


def make_repo(path: Path, files: dict[str, str | bytes] | None = None,
              branch: str = "main") -> tuple[Path, str]:
    """A repository at ``path`` on ``branch`` with one commit of ``files`` (default
    :data:`PROJECT`); returns it and the commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    return path, commit(path, PROJECT if files is None else files, "start")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())


def commit(root: Path, files: dict[str, str | bytes], message: str = "work") -> str:
    """Write ``files`` in ``root`` (a repository or a worktree), commit everything; the new
    commit's id."""
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


def add_worktree(repo: Path, path: Path, branch: str, base: str = "main") -> Path:
    """A worktree at ``path`` on a new ``branch`` from ``base`` (as the daemon makes them)."""
    git(repo, "worktree", "add", "-q", "-b", branch, str(path), base)
    return path
