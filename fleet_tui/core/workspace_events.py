"""Workspace and merge-queue events: each agent's git worktree, the task branch it is on, what
it changed against the base, and each step of the merge queue. Part of ``events.EVENT_TYPES``.

Branches are named ``fleet/<task>``. Commits are full hex ids. ``files`` list what the branch
(committed and not) changes against its base, as ``git diff --numstat`` counts them; a binary
file counts ``-1`` added and removed.
"""

from __future__ import annotations

import msgspec

from fleet_tui.core.event_base import Event

#: Why a merge failed (``MergeFailed.reason``).
MERGE_CONFLICT = "conflict"
MERGE_CHECK = "check"
MERGE_ERROR = "error"
#: The alert kind for a worktree that holds an assignment back (``alert.key``: ``dirty``).
ALERT_WORKSPACE = "workspace"


class FileChange(msgspec.Struct, array_like=True, omit_defaults=True):
    """One changed path and its line counts (``-1`` each for a binary file)."""

    path: str
    added: int = 0
    removed: int = 0


# --- worktrees -------------------------------------------------------------------------------


class WorkspaceCreated(Event, tag="workspace.created"):
    """The agent got its own worktree at ``path``, of the repository ``repo``, based on the
    ``base`` branch."""

    agent: str
    path: str
    repo: str
    base: str
    #: Found on disk (made in an earlier session), not made now.
    adopted: bool = False


class WorkspaceSwitched(Event, tag="workspace.switched"):
    """The agent's worktree was put on ``branch`` for ``task``: a new branch from the base's
    ``base_commit``, or (``created`` false) the task's existing branch."""

    agent: str
    task: str
    branch: str
    base_commit: str
    created: bool = True


class WorkspaceChanged(Event, tag="workspace.changed"):
    """What the agent's branch changes against its base now (``files``, committed or not), and
    the branch's ``head`` commit. Logged only when it differs from the last one."""

    agent: str
    task: str = ""
    branch: str = ""
    head: str = ""
    base_commit: str = ""
    files: list[FileChange] = []
    #: The tree has uncommitted changes or untracked files (it cannot be switched).
    dirty: bool = False


class WorkspaceRemoved(Event, tag="workspace.removed"):
    """The agent's worktree was removed (``workspaces prune``: its branch merged, its tree clean)."""

    agent: str
    path: str
    reason: str = ""


# --- merge queue -------------------------------------------------------------------------------


class MergeQueued(Event, tag="merge.queued"):
    """``task``'s branch joined the merge queue (at its end), saying why."""

    task: str
    branch: str
    agent: str = ""
    reason: str = ""


class MergeStarted(Event, tag="merge.started"):
    """The queue took ``task``: its branch is brought up to date with the base (``base_commit``)
    in the merge worktree ``path``; the checks run in the pane of ``runner`` (a card)."""

    task: str
    branch: str
    base_commit: str = ""
    path: str = ""
    runner: str = ""


class MergeChecked(Event, tag="merge.checked"):
    """One check ran for ``task``: its argv, exit ``code`` (``None``: timed out), seconds taken
    and the last lines it printed."""

    task: str
    check: list[str]
    ok: bool
    code: int | None = None
    seconds: float = 0.0
    tail: list[str] = []


class MergeMerged(Event, tag="merge.merged"):
    """``task``'s branch is in the base branch, which now points at ``commit``."""

    task: str
    branch: str
    base: str
    commit: str
    #: The commits of the branch that went in, oldest first.
    commits: list[str] = []
    branch_deleted: bool = False
    pushed: bool = False


class MergeFailed(Event, tag="merge.failed"):
    """``task`` left the queue without merging: ``reason`` is ``conflict`` (``files`` conflict),
    ``check`` (a check failed; ``tail`` holds its last lines) or ``error``; the task goes back
    to its implementer with a note holding ``message``."""

    task: str
    reason: str
    message: str = ""
    files: list[str] = []
    tail: list[str] = []
