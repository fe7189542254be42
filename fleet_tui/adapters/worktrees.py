"""The agents' git worktrees on disk: finding the fleet's repository and base branch, adding,
listing and removing worktrees, putting one on a task's branch, and reading what it changed.

Everything goes through ``run_git`` (argv lists). A worktree is never switched while it has
uncommitted or untracked changes, and never removed with ``--force``: nothing here can lose
work. ``inspect`` reads a worktree in three git calls: ``status --porcelain=v2 -z`` (head,
branch, dirty, untracked files), ``merge-base`` with the base branch, and ``diff --numstat -z``
against that commit (committed and uncommitted changes); untracked files are counted here,
line by line, as git would count an added file.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from fleet_tui.adapters import paths
from fleet_tui.adapters.demo_repo import ensure_demo_repo
from fleet_tui.adapters.git import GitError, run_git
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.schema import DEMO_REPO
from fleet_tui.core.workspace_events import FileChange

#: Untracked files bigger than this are not read to count their lines (counted as binary).
COUNT_LIMIT = 8 * 1024 * 1024
#: git's own test for a binary file: a NUL byte within the first 8000 bytes.
_BINARY_PROBE = 8000


class Repo(msgspec.Struct, frozen=True):
    """The repository agents get worktrees of (its top folder) and the branch tasks start from."""

    root: str
    base: str


class Worktree(msgspec.Struct):
    """One entry of ``git worktree list``."""

    path: str
    head: str = ""
    branch: str = ""


class Snapshot(msgspec.Struct):
    """What a worktree holds now against the base."""

    head: str = ""
    branch: str = ""
    base_commit: str = ""
    dirty: bool = False
    files: list[FileChange] = []


def fleet_repo(loaded: LoadedConfig, fleet_key: str) -> Repo | None:
    """The repository of the fleet ``fleet_key`` (its tmux socket name): ``repo:`` of its
    fleet.yaml (``"@demo"``: the demo project, made in the state folder the first time), else
    the one holding fleet.yaml, if any. Raises GitError as ``find_repo``."""
    config = loaded.config
    if config.repo == DEMO_REPO:
        return find_repo(ensure_demo_repo(paths.demo_repo_dir(fleet_key)), "", config.base)
    return find_repo(loaded.base_dir, config.repo, config.base)


def find_repo(folder: str | Path, repo: str = "", base: str = "") -> Repo | None:
    """The repository ``repo`` names (relative to ``folder``), else the one holding ``folder``;
    None when there is none. The base is ``base``, else the repository's current branch.
    Raises GitError when ``repo`` is set but is no repository, or no base can be found."""
    where = Path(folder) / repo if repo else Path(folder)
    if not where.is_dir():
        if repo:
            raise GitError(f"repo {repo}: no such folder")
        return None
    done = run_git(where, ["rev-parse", "--show-toplevel"], check=False)
    if done.returncode != 0 or not done.stdout.strip():
        if repo:
            raise GitError(f"repo {repo}: not a git repository")
        return None
    root = done.stdout.strip()
    if not base:
        base = run_git(root, ["symbolic-ref", "--short", "-q", "HEAD"], check=False).stdout.strip()
        if not base:
            raise GitError(f"{root}: HEAD is detached; set base: in fleet.yaml")
    if not branch_exists(root, base):
        raise GitError(f"{root}: no branch {base!r} (base: in fleet.yaml)")
    return Repo(root=root, base=base)


def commit_of(repo: str, ref: str) -> str:
    return run_git(repo, ["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"]).stdout.strip()


def list_worktrees(repo: str) -> list[Worktree]:
    out = run_git(repo, ["worktree", "list", "--porcelain", "-z"]).stdout
    found: list[Worktree] = []
    for field in out.split("\0"):
        key, _, value = field.partition(" ")
        if key == "worktree":
            found.append(Worktree(path=value))
        elif found and key == "HEAD":
            found[-1].head = value
        elif found and key == "branch":
            found[-1].branch = value.removeprefix("refs/heads/")
    return found


def worktree_at(repo: str, path: str | Path) -> Worktree | None:
    real = os.path.realpath(path)
    return next((w for w in list_worktrees(repo) if os.path.realpath(w.path) == real), None)


def add_worktree(repo: Repo, path: Path) -> None:
    """A new worktree at ``path``, detached at the base branch's commit (the task's branch comes
    when a task does). Registrations of worktrees whose folders are gone are pruned first."""
    run_git(repo.root, ["worktree", "prune"])
    run_git(repo.root, ["worktree", "add", "--detach", "--quiet", str(path), repo.base])


def remove_worktree(repo: str, path: str) -> None:
    """Remove a clean worktree (git itself refuses a dirty one: never ``--force``)."""
    run_git(repo, ["worktree", "remove", path])


def git_dir(path: str | Path) -> str:
    """The worktree's own git folder (``.git/worktrees/<name>`` of the main repository): its
    HEAD, index and HEAD's log change when it commits or switches."""
    return run_git(path, ["rev-parse", "--absolute-git-dir"]).stdout.strip()


def branch_exists(repo: str, branch: str) -> bool:
    return run_git(repo, ["rev-parse", "--verify", "-q", f"refs/heads/{branch}"], check=False).returncode == 0


def switch(path: str | Path, branch: str, start: str = "") -> None:
    """Put the worktree on ``branch``: a new one from ``start``, or the existing one. The caller
    has checked the tree is clean (git also refuses to overwrite changes)."""
    args = ["switch", "--quiet", "--no-guess"]
    run_git(path, [*args, "-c", branch, start] if start else [*args, branch])


def detach(path: str | Path) -> None:
    """Leave the branch (so another worktree may take it), staying at the same commit."""
    run_git(path, ["switch", "--quiet", "--detach"])


def dirty_paths(path: str | Path) -> int:
    """How many paths have uncommitted changes or are untracked (ignored files do not count):
    0 for a clean tree."""
    return run_git(path, ["status", "--porcelain", "-z"]).stdout.count("\0")


def is_merged(path: str | Path, base: str) -> bool:
    """Whether the worktree's HEAD is in the base branch (nothing committed that is not)."""
    return run_git(path, ["merge-base", "--is-ancestor", "HEAD", f"refs/heads/{base}"],
                   check=False).returncode == 0


def ignored(path: str | Path, names: list[str]) -> set[str]:
    """Which of ``names`` (relative to the worktree) git ignores."""
    if not names:
        return set()
    done = run_git(path, ["check-ignore", "-z", "--stdin"], check=False, input="\0".join(names) + "\0")
    return {n for n in done.stdout.split("\0") if n}


def inspect(path: str | Path, base: str) -> Snapshot:
    """What the worktree changes against where it left ``base`` (committed or not)."""
    status = run_git(path, ["status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all"]).stdout
    snap = Snapshot()
    untracked: list[str] = []
    fields = iter(status.split("\0"))
    for field in fields:
        if field.startswith("# branch.oid "):
            snap.head = field.split(" ", 2)[2].removeprefix("(initial)")
        elif field.startswith("# branch.head "):
            snap.branch = field.split(" ", 2)[2].replace("(detached)", "")
        elif field.startswith("? "):
            untracked.append(field[2:])
            snap.dirty = True
        elif field[:2] in ("1 ", "2 ", "u "):
            snap.dirty = True
            if field.startswith("2 "):
                next(fields, None)  # a rename's original path
    if not snap.head:
        return snap
    snap.base_commit = run_git(path, ["merge-base", f"refs/heads/{base}", "HEAD"],
                               check=False).stdout.strip()
    diff = run_git(path, ["diff", "--numstat", "-z", "--no-renames", snap.base_commit or "HEAD"])
    files = _numstat(diff.stdout)
    for name in untracked:
        lines = _count_lines(Path(path) / name)
        files.append(FileChange(path=name, added=lines, removed=-1 if lines < 0 else 0))
    snap.files = sorted(files, key=lambda f: f.path)
    return snap


def _numstat(out: str) -> list[FileChange]:
    files = []
    for record in out.split("\0"):
        added, _, rest = record.partition("\t")
        removed, _, name = rest.partition("\t")
        if name:
            binary = added == "-"
            files.append(FileChange(path=name, added=-1 if binary else int(added),
                                    removed=-1 if binary else int(removed)))
    return files


def _count_lines(path: Path) -> int:
    """Lines of an untracked file as ``numstat`` counts an added one (-1: binary or unreadable)."""
    try:
        if path.is_symlink():
            return 1  # git stores the link's target as one line
        if path.stat().st_size > COUNT_LIMIT:
            return -1
        data = path.read_bytes()
    except OSError:
        return -1
    if b"\0" in data[:_BINARY_PROBE]:
        return -1
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# --- the fleet's worktrees as a whole (``fleet-tui workspaces``) --------------------------------


class Listed(msgspec.Struct):
    """One of the fleet's worktrees, as ``workspaces`` lists it."""

    agent: str
    path: str
    branch: str
    files: int
    added: int
    removed: int
    dirty: bool


def agent_tree(folder: Path, agent: str) -> Path | None:
    """Where ``agent``'s worktree goes in the fleet's folder; None for a name that is not a
    plain file name (``..``, a slash), or that starts with a dot (kept for the fleet's own
    worktrees, such as a merge queue's, which are no agent's)."""
    if not agent or agent.startswith(".") or os.sep in agent or "\0" in agent:
        return None
    return folder / agent


def fleet_worktrees(repo: Repo, folder: Path) -> list[Worktree]:
    """The repository's worktrees that are agents' in the fleet's worktree folder, by path."""
    inside = os.path.realpath(folder) + os.sep
    return sorted((w for w in list_worktrees(repo.root) if os.path.realpath(w.path).startswith(inside)
                   and agent_tree(folder, Path(w.path).name) is not None), key=lambda w: w.path)


def list_fleet(repo: Repo, folder: Path) -> list[Listed]:
    rows = []
    for tree in fleet_worktrees(repo, folder):
        snap = inspect(tree.path, repo.base)
        rows.append(Listed(agent=Path(tree.path).name, path=tree.path, branch=snap.branch,
                           files=len(snap.files), added=sum(max(0, f.added) for f in snap.files),
                           removed=sum(max(0, f.removed) for f in snap.files), dirty=snap.dirty))
    return rows


def prune_fleet(repo: Repo, folder: Path, busy: set[str]) -> tuple[list[Worktree], list[tuple[str, str]]]:
    """Remove the fleet's worktrees whose HEAD is in the base branch and whose trees are clean;
    keep every other one (uncommitted or untracked files, commits not in the base, an agent
    running in it). Returns the removed worktrees and ``(agent, why kept)`` for the rest."""
    removed: list[Worktree] = []
    kept: list[tuple[str, str]] = []
    for tree in fleet_worktrees(repo, folder):
        agent = Path(tree.path).name
        if agent in busy:
            kept.append((agent, "its agent is running in it"))
        elif changes := dirty_paths(tree.path):
            kept.append((agent, f"uncommitted changes or untracked files ({changes} paths)"))
        elif not is_merged(tree.path, repo.base):
            kept.append((agent, f"{tree.branch or 'its HEAD'} has commits not in {repo.base}"))
        else:
            remove_worktree(repo.root, tree.path)
            removed.append(tree)
    return removed, kept
