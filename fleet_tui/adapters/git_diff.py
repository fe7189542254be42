"""Loading a task's diff from git (through ``run_git``), parsed by ``diff_parse``.

- live: a worktree against its base commit, with what is not committed yet: ``git diff BASE``
  in the worktree (staged and unstaged changes to tracked files) plus the untracked files
  (``git ls-files --others --exclude-standard``), read here as added files, regular files and
  symlinks only, at most ``MAX_UNTRACKED_BYTES`` each (a FIFO or a huge file cannot block).
- recorded: ``git diff BASE HEAD`` in the repository, two commits from the event log (replay,
  or a task whose branch is not checked out).

Commits come from events, which are input like any other: anything but a hex id is refused
before it reaches git's argv, and a commit git no longer has is a one-line ``DiffError``.
git runs with a fixed set of diff options, whatever the user's git config says (colours,
external diff drivers and textconv, prefixes, unquoted paths, an fsmonitor hook).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters.diff_parse import (
    MAX_FILE_LINES,
    MAX_TOTAL_LINES,
    UNTRACKED,
    Diff,
    DiffFile,
    Hunk,
    parse_diff,
)
from fleet_tui.adapters.git import GitError, run_git

#: Bytes of one untracked file read for display.
MAX_UNTRACKED_BYTES = 256 * 1024
#: Bytes of one untracked file read at most to count its lines.
MAX_COUNT_BYTES = 16 * 1024 * 1024
#: Untracked files read at most (the others are listed without content).
MAX_UNTRACKED_FILES = 500
#: git's own test for a binary file: a NUL byte in its first 8000 bytes.
BINARY_PROBE = 8000

_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}\^?")
_DIFF = ["-c", "core.quotePath=true", "-c", "core.fsmonitor=false", "diff", "--no-color", "--no-ext-diff",
         "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "--find-renames", "--no-relative"]


class DiffError(Exception):
    """The diff cannot be shown: one line saying why."""


@dataclass(frozen=True)
class DiffRequest:
    """What to diff: ``base`` against ``head`` in the repository ``cwd``, or (``head`` empty)
    against the worktree ``cwd`` as it is now. ``title`` says what it is."""

    title: str
    cwd: str
    base: str
    head: str = ""

    @property
    def live(self) -> bool:
        return not self.head


def load_diff(request: DiffRequest) -> Diff:
    """The parsed diff, or ``DiffError``."""
    if not Path(request.cwd).is_dir():
        raise DiffError(f"{request.cwd} is gone")
    commits = [request.base] + ([request.head] if request.head else [])
    for commit in commits:
        if not _COMMIT.fullmatch(commit):
            raise DiffError(f"not a commit id: {commit[:40]!r}")
        if run_git(request.cwd, ["cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode:
            raise DiffError(f"commit {commit[:12]} is gone from {request.cwd}"
                            " (its branch deleted and pruned, or another clone)")
    try:
        diff = parse_diff(run_git(request.cwd, [*_DIFF, *commits, "--"]).stdout)
        if request.live:
            _add_untracked(request.cwd, diff)
    except GitError as exc:
        raise DiffError(str(exc).replace("git -c core.quotePath=true", "git diff")) from None
    return diff


def _add_untracked(worktree: str, diff: Diff) -> None:
    listed = run_git(worktree, ["ls-files", "--others", "--exclude-standard", "-z"]).stdout
    names = [name for name in listed.split("\0") if name]
    budget = MAX_TOTAL_LINES - sum(f.shown_lines for f in diff.files)
    for index, name in enumerate(names):
        file = DiffFile(path=name, status=UNTRACKED)
        if index < MAX_UNTRACKED_FILES:
            _read_untracked(Path(worktree, name), file, budget)
            budget -= file.shown_lines
        else:
            file.truncated = True
        diff.truncated |= file.truncated
        diff.files.append(file)
    diff.files.sort(key=lambda f: f.path)


def _read_untracked(path: Path, file: DiffFile, budget: int) -> None:
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            file.notes.append("symlink")
            file.hunks.append(Hunk("@@ -0,0 +1 @@", ["+" + os.readlink(path),
                                                     "\\ No newline at end of file"]))
            file.added = 1
            return
        if not stat.S_ISREG(info.st_mode):
            file.notes.append("not a regular file: not shown")
            return
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        file.notes.append(f"cannot read: {exc.strerror or exc}")
        return
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since lstat
            file.notes.append("not a regular file: not shown")
            return
        head = handle.read(MAX_UNTRACKED_BYTES)
        newlines = head.count(b"\n")
        rest_read = len(head)
        while rest_read < MAX_COUNT_BYTES and (chunk := handle.read(1 << 20)):
            newlines += chunk.count(b"\n")
            rest_read += len(chunk)
        more = bool(handle.read(1))
    if b"\0" in head[:BINARY_PROBE]:
        file.binary = True
        return
    lines = head.decode("utf-8", "replace").split("\n")
    ends_in_newline = lines[-1] == ""
    if ends_in_newline:
        lines.pop()
    file.added = newlines + (0 if ends_in_newline or rest_read > len(head) else 1)
    if not lines:
        return
    keep = max(0, min(len(lines), MAX_FILE_LINES, budget - 1))
    body = ["+" + line for line in lines[:keep]]
    if not ends_in_newline and keep == len(lines) and rest_read == len(head):
        body.append("\\ No newline at end of file")
    file.hunks.append(Hunk(f"@@ -0,0 +1,{file.added} @@", body))
    file.truncated = keep < len(lines) or rest_read > len(head) or more
