"""Would two commits conflict if merged? ``git merge-tree --write-tree`` (git >= 2.38) answers
from the object store alone: no worktree, index or ref is touched. The merged tree it writes
holds conflict markers, which give the line ranges of each conflicting hunk."""

from __future__ import annotations

import functools
from pathlib import Path

from fleet_tui.adapters.git import MERGE_TREE_VERSION, GitError, git_version, run_git
from fleet_tui.core.overlaps import Conflict

#: Files whose hunks are read (the rest are named without line ranges).
HUNK_FILES = 5


@functools.cache
def _supported() -> bool:
    return git_version() >= MERGE_TREE_VERSION


def _hunks(repo: str | Path, tree: str, path: str) -> tuple[tuple[int, int], ...]:
    shown = run_git(repo, ["cat-file", "-p", f"{tree}:{path}"], check=False)
    if shown.returncode != 0:
        return ()  # deleted on one side: no merged file to point into
    hunks, start = [], 0
    for number, line in enumerate(shown.stdout.splitlines(), 1):
        if line.startswith("<<<<<<<"):
            start = number
        elif line.startswith(">>>>>>>") and start:
            hunks.append((start, number))
            start = 0
    return tuple(hunks)


def merge_conflicts(repo: str | Path, ours: str, theirs: str) -> list[Conflict]:
    """The paths (with their hunks) a merge of ``theirs`` into ``ours`` would conflict in;
    empty when it merges cleanly. Raises ``GitError`` when it cannot tell (git too old, an
    unknown commit, unrelated histories)."""
    if not _supported():
        raise GitError(f"git {'.'.join(map(str, git_version()))} has no merge-tree --write-tree "
                       f"(needs {'.'.join(map(str, MERGE_TREE_VERSION))})")
    done = run_git(repo, ["merge-tree", "--write-tree", "--name-only", "-z", ours, theirs],
                   check=False)
    if done.returncode not in (0, 1):
        first = next((line for line in done.stderr.splitlines() if line.strip()),
                     f"exit {done.returncode}")
        raise GitError(f"git merge-tree: {first.strip()}")
    if done.returncode == 0:
        return []
    tree, *rest = done.stdout.split("\0")
    paths = []
    for path in rest:
        if not path:
            break  # the informational messages follow an empty entry
        paths.append(path)
    return [Conflict(path=p, hunks=_hunks(repo, tree, p) if i < HUNK_FILES else ())
            for i, p in enumerate(paths)]
