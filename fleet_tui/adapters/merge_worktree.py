"""The merge queue's git work, in a merge worktree of its own (never an agent's, never the
user's): bring a task branch up to date with the base (merge the base in, or rebase onto it),
then move the base branch to the result.

Moving the base: if the base branch is checked out in a worktree (the user's repository,
typically), that worktree is fast-forwarded with ``git merge --ff-only`` only when it has no
uncommitted changes; otherwise the merge fails with a reason saying so. Elsewhere the ref is
moved with a compare-and-swap from the commit the merge was based on (``BaseMoved`` if
someone moved it meanwhile).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from fleet_tui.adapters.git import GitError, run_git
from fleet_tui.adapters.paths import make_private_dirs

#: The committer of merge commits and rebased commits when the repository names none.
FALLBACK_IDENTITY = ["-c", "user.name=fleet-tui merge queue", "-c", "user.email=fleet-tui@localhost"]
#: Paths named in a message before "and N more".
NAMED = 8


class MergeRefused(Exception):
    """The merge cannot go on; the message is the reason given to the task's implementer,
    ``files`` the conflicting paths (if a conflict)."""

    def __init__(self, message: str, files: list[str] | None = None) -> None:
        super().__init__(message)
        self.files = files or []


class BaseMoved(Exception):
    """The base branch moved while the task was being merged: bring it up to date again."""


def _names(paths: list[str]) -> str:
    more = len(paths) - NAMED
    return ", ".join(paths[:NAMED]) + (f" and {more} more" if more > 0 else "")


def merge_path(root: Path, repo: str) -> Path:
    """Where the merge worktree of ``repo`` lives under ``root`` (one per repository)."""
    return root / hashlib.sha256(str(Path(repo).resolve()).encode()).hexdigest()[:12]


def _identity(repo: str | Path) -> list[str]:
    named = run_git(repo, ["config", "--get", "user.email"], check=False)
    return [] if named.stdout.strip() else FALLBACK_IDENTITY


def commit_of(repo: str | Path, ref: str) -> str:
    return run_git(repo, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]).stdout.strip()


def prepare(repo: str, path: Path, base: str) -> str:
    """The merge worktree at ``path``, clean and detached at the base branch's commit, which
    is returned. Made on first use (a worktree of ``repo``)."""
    base_commit = commit_of(repo, f"refs/heads/{base}")
    if (path / ".git").exists():
        try:
            for leftover in (["rebase", "--abort"], ["merge", "--abort"]):  # a run cut short
                run_git(path, leftover, check=False)
            run_git(path, ["checkout", "--quiet", "--detach", "--force", base_commit])
            run_git(path, ["reset", "--quiet", "--hard"])
            run_git(path, ["clean", "-fdq"])
            return base_commit
        except GitError:  # no longer a worktree git knows (pruned, or of another repository)
            shutil.rmtree(path)
    run_git(repo, ["worktree", "prune"])
    make_private_dirs(path.parent)
    run_git(repo, ["worktree", "add", "--detach", "--force", str(path), base_commit])
    return base_commit


def uncommitted(tree: str | Path, untracked: bool = True) -> list[str]:
    """The paths with uncommitted changes in ``tree`` (untracked ones too, unless told)."""
    more = [] if untracked else ["--untracked-files=no"]
    status = run_git(tree, ["status", "--porcelain", "-z", *more], check=False)
    return [entry[3:] for entry in status.stdout.split("\0") if len(entry) > 3]


def _conflicted(path: Path) -> list[str]:
    listed = run_git(path, ["diff", "--name-only", "-z", "--diff-filter=U"], check=False)
    return [p for p in listed.stdout.split("\0") if p]


def integrate(path: Path, branch: str, base: str, base_commit: str, strategy: str) -> str:
    """Bring ``branch`` up to date with ``base_commit`` in the merge worktree; the commit to
    land. Raises ``MergeRefused`` (conflicting files in ``.files``) on a conflict or when the
    branch has nothing to merge."""
    head = commit_of(path, f"refs/heads/{branch}")
    if run_git(path, ["merge-base", "--is-ancestor", head, base_commit], check=False).returncode == 0:
        raise MergeRefused(f"{branch} has no commits that are not in {base} already: commit the work")
    who = _identity(path)
    if strategy == "rebase":
        run_git(path, ["checkout", "--quiet", "--detach", "--force", head])
        done = run_git(path, [*who, "rebase", "--quiet", base_commit], check=False)
        undo = ["rebase", "--abort"]
    else:
        done = run_git(path, [*who, "merge", "--quiet", "--no-edit", "-m",
                              f"Merge {branch} into {base}", head], check=False)
        undo = ["merge", "--abort"]
    if done.returncode != 0:
        files = _conflicted(path)
        run_git(path, undo, check=False)
        if not files:
            raise GitError(f"git {undo[0]}: " + (done.stderr.strip().splitlines() or ["failed"])[0])
        raise MergeRefused(f"{branch} conflicts with {base} in {_names(files)}: bring it up to "
                           f"date with {base} (git merge {base}), resolve, commit, and report done "
                           "again", files)
    return commit_of(path, "HEAD")


def _checked_out(repo: str, base: str) -> str | None:
    """The worktree that has ``base`` checked out, if any."""
    listed = run_git(repo, ["worktree", "list", "--porcelain", "-z"]).stdout.split("\0")
    tree = None
    for field in listed:
        if field.startswith("worktree "):
            tree = field[len("worktree "):]
        elif field == f"branch refs/heads/{base}":
            return tree
    return None


def land(repo: str, base: str, base_commit: str, commit: str) -> list[str]:
    """Move ``base`` from ``base_commit`` to ``commit`` (a descendant); the commits that went
    in, oldest first. ``BaseMoved`` if the base is no longer at ``base_commit``;
    ``MergeRefused`` if it is checked out in a worktree with uncommitted changes."""
    commits = run_git(repo, ["rev-list", "--reverse", f"{base_commit}..{commit}"]).stdout.split()
    tree = _checked_out(repo, base)
    if tree is not None:
        if commit_of(tree, "HEAD") != base_commit:
            raise BaseMoved(base)
        dirty = uncommitted(tree, untracked=False)
        if dirty:
            raise MergeRefused(f"{base} is checked out in {tree}, which has uncommitted changes "
                               f"({_names(dirty)}): commit or stash them there; the task was not "
                               "merged")
        done = run_git(tree, ["merge", "--quiet", "--ff-only", commit], check=False)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["failed"])[0]
            raise MergeRefused(f"{base} could not be fast-forwarded in {tree}: {why}")
        return commits
    moved = run_git(repo, ["update-ref", f"refs/heads/{base}", commit, base_commit], check=False)
    if moved.returncode != 0:
        raise BaseMoved(base)
    return commits


def delete_branch(repo: str, branch: str) -> bool:
    """Delete the task's branch; False when git refuses (it is checked out somewhere)."""
    return run_git(repo, ["branch", "--quiet", "-D", branch], check=False).returncode == 0


def push(repo: str, remote: str, base: str) -> None:
    run_git(repo, ["push", "--quiet", remote, f"refs/heads/{base}:refs/heads/{base}"])
