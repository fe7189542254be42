"""Workspace and merge-queue state, built by folding ``workspace.*`` and ``merge.*`` events
(``fold_workspace.py``): each agent's worktree, the task branch it is on and what it changed,
the merge queue in order, and the overlaps between branches alerted so far."""

from __future__ import annotations

import msgspec

from fleet_tui.core.workspace_events import FileChange


class WorkspaceState(msgspec.Struct):
    """One agent's worktree."""

    agent: str
    path: str = ""
    repo: str = ""
    base: str = ""
    task: str = ""
    branch: str = ""
    base_commit: str = ""
    head: str = ""
    files: list[FileChange] = []
    changed_at: float = 0.0
    dirty: bool = False

    def copy(self) -> WorkspaceState:
        return msgspec.structs.replace(self, files=list(self.files))


class TaskBranch(msgspec.Struct):
    """What a task's branch holds, kept when the agent moves on (board counts, reports, diffs
    in replay): the last ``workspace.changed`` seen for the task, and the merge outcome."""

    branch: str = ""
    agent: str = ""
    base_commit: str = ""
    head: str = ""
    files: list[FileChange] = []
    #: The base commit the branch went into (empty until merged).
    merged_commit: str = ""
    commits: list[str] = []

    def copy(self) -> TaskBranch:
        return msgspec.structs.replace(self, files=list(self.files), commits=list(self.commits))


class MergeQueueState(msgspec.Struct):
    """The merge queue: tasks waiting in order, the one being merged now, and why the last
    attempt of each task failed (until it is queued again)."""

    queue: list[str] = []
    current: str = ""
    runner: str = ""
    #: The current task's checks so far: (argv joined, passed).
    checks: list[tuple[str, bool]] = []
    failures: dict[str, str] = {}

    def copy(self) -> MergeQueueState:
        return msgspec.structs.replace(self, queue=list(self.queue), checks=list(self.checks),
                                       failures=dict(self.failures))


class OverlapSeen(msgspec.Struct):
    """An overlap between two task branches that was alerted and has not cleared yet (an
    ``alert`` of kind ``overlap``; see ``core/overlaps.py``): the tasks, and the files a merge
    of their heads would conflict in (empty: none, or not known)."""

    tasks: tuple[str, str]
    conflicts: list[str] = []
    message: str = ""

    def copy(self) -> OverlapSeen:
        return msgspec.structs.replace(self, conflicts=list(self.conflicts))
