"""The audit report's workspace section: per task, the branch, the commits it reached (and
where it was merged) and the files it changes against its base, with line counts; per agent,
its worktree, the tasks it worked on a branch, the files and commits it made. Built from the
``workspace.*`` and ``merge.merged`` events, so a replay reports what the live fleet saw."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleet_tui.core import events as ev
from fleet_tui.core.state import FleetState

Table = Callable[[tuple[str, ...], Iterable[tuple[object, ...]]], list[str]]


class WorkspaceAudit:
    """The commits each agent reached on each task's branch, in order, once each."""

    def __init__(self) -> None:
        self.commits: dict[tuple[str, str], list[str]] = {}
        self.files: dict[tuple[str, str], set[str]] = {}

    def add(self, e: ev.Event) -> None:
        if isinstance(e, ev.WorkspaceChanged) and e.task:
            key = (e.agent, e.task)
            heads = self.commits.setdefault(key, [])
            if e.head and e.head != e.base_commit and e.head not in heads:
                heads.append(e.head)
            self.files.setdefault(key, set()).update(f.path for f in e.files)

    def task_commits(self, task: str) -> list[str]:
        return [c for (_, t), heads in self.commits.items() if t == task for c in heads]


def _short(commit: str) -> str:
    return commit[:10]


def workspace_lines(state: FleetState, audit: WorkspaceAudit, table: Table,
                    md: Callable[[object], str]) -> list[str]:
    """The report's Workspaces section; none for a session whose agents had no worktrees."""
    if not state.branches and not state.workspaces:
        return []
    lines = ["## Workspaces", "", "### Per task", ""]
    if not state.branches:
        lines += ["(none)", ""]
    for task, branch in state.branches.items():
        commits = branch.commits or audit.task_commits(task)
        merged = f", merged at `{_short(branch.merged_commit)}`" if branch.merged_commit else ""
        lines += [f"#### {md(task)} on `{md(branch.branch)}`", "",
                  f"Last worked by {md(branch.agent) or 'nobody'}, base `{_short(branch.base_commit)}`"
                  f"{merged}; commits: {', '.join(f'`{_short(c)}`' for c in commits) or 'none'}.", ""]
        lines += table(("File", "Added", "Removed"),
                       ((f.path, *(n if n >= 0 else "binary" for n in (f.added, f.removed)))
                        for f in branch.files))
        lines.append("")
    lines += ["### Per agent", ""]
    rows = []
    for agent, workspace in state.workspaces.items():
        keys = [k for k in audit.commits if k[0] == agent]
        files = set().union(*(audit.files[k] for k in keys)) if keys else set()
        rows.append((agent, workspace.path, ", ".join(t for _, t in keys),
                     len(files), sum(len(audit.commits[k]) for k in keys)))
    lines += table(("Agent", "Worktree", "Tasks", "Files changed", "Commits"), rows)
    return [*lines, ""]
