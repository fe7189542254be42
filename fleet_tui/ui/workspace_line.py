"""What the cards and the board say about worktrees, as plain text (made safe by the widget
drawing it): an agent's branch and ``N files +A -D`` against the base, a task's file count."""

from __future__ import annotations

from fleet_tui.core.state import FleetState
from fleet_tui.core.summary import files_summary


def workspace_summary(state: FleetState, agent_name: str) -> str:
    """The agent's card: its task's branch and what it changes (``fleet/T1 3 files +12 -4``);
    "" when it has no worktree or its worktree is on no branch and changed nothing."""
    workspace = state.workspaces.get(agent_name)
    if workspace is None or not (workspace.branch or workspace.files):
        return ""
    return f"{workspace.branch or 'detached'} {files_summary(workspace.files)}"


def task_files(state: FleetState) -> dict[str, str]:
    """The board's count on each task whose branch changes files: ``3 files``, by task id."""
    return {task: f"{len(b.files)} file{'' if len(b.files) == 1 else 's'}"
            for task, b in state.branches.items() if b.files}
