"""The ``d`` key: which diff to show, from the fleet's state, and the screen that shows it.

On the board: the selected task's branch; elsewhere: the focused agent's workspace (its task's
branch). Live, a branch checked out in an agent's worktree is diffed as the worktree is now
(uncommitted and untracked changes included); otherwise, and always in replay, the commits the
events recorded: the branch's base and head at the replay's time, or for a merged task the
commits that went into the base. When there is nothing to show, one line says why (for an
agent on another host: that its files are there, not "no worktree").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import ContentSwitcher

from fleet_tui.adapters.git_diff import DiffRequest
from fleet_tui.core.state import FleetState
from fleet_tui.core.workspace_events import FileChange
from fleet_tui.ui.diff_view import DiffScreen

if TYPE_CHECKING:
    from fleet_tui.ui.app import FleetApp

    _Base = FleetApp
else:
    _Base = object


def _short(commit: str) -> str:
    return commit[:8]


def _recorded(title: str, repo: str, base: str, head: str, files: list[FileChange]) -> DiffRequest | str:
    if not base:
        return f"{title}: no base commit recorded"
    if not head or head == base:
        pending = f" ({len(files)} files changed, not committed then)" if files else ""
        return f"{title}: no commits yet{pending}"
    return DiffRequest(f"{title} · {_short(base)}..{_short(head)}", repo, base, head)


#: Why an agent on another host (``host:``) has no diff here: it has no worktree on this machine.
ELSEWHERE = "its files are there; diffs are shown for agents on this machine"


def agent_diff(state: FleetState, agent: str, live: bool) -> DiffRequest | str:
    """The diff of ``agent``'s task branch, or why there is none."""
    known = state.agents.get(agent)
    if known is not None and known.host:
        return f"{agent} runs on host {known.host}: {ELSEWHERE}"
    workspace = state.workspaces.get(agent)
    if workspace is None or not workspace.path:
        return f"{agent} has no worktree of its own (no repository, or workspace: shared)"
    if not workspace.task or not workspace.base_commit:
        return f"{agent} is not on a task branch yet"
    title = f"{workspace.task} · {workspace.branch} · {agent}"
    if live:
        return DiffRequest(f"{title} · worktree vs {_short(workspace.base_commit)}", workspace.path,
                           workspace.base_commit)
    return _recorded(title, workspace.repo or workspace.path, workspace.base_commit, workspace.head,
                     workspace.files)


def task_diff(state: FleetState, task: str, live: bool) -> DiffRequest | str:
    """The diff of ``task``'s branch, or why there is none."""
    branch = state.branches.get(task)
    if branch is None or not branch.branch:
        holder = state.agents.get(state.tasks[task].assignee or "") if task in state.tasks else None
        if holder is not None and holder.host:
            return f"{task} is with {holder.name} on host {holder.host}: {ELSEWHERE}"
        return f"{task} has no branch yet"
    workspace = state.workspaces.get(branch.agent)
    if live and workspace is not None and workspace.task == task and not branch.merged_commit:
        return agent_diff(state, branch.agent, live)
    repo = next((w.repo for w in ([workspace] if workspace else []) + list(state.workspaces.values())
                 if w.repo), "")
    if not repo:
        return f"{task}: no repository recorded for its branch"
    title = f"{task} · {branch.branch}" + (f" · {branch.agent}" if branch.agent else "")
    if branch.merged_commit and branch.commits:
        return _recorded(f"{title} · merged", repo, branch.commits[0] + "^", branch.commits[-1], [])
    return _recorded(title, repo, branch.base_commit, branch.head, branch.files)


class DiffActions(_Base):
    def action_diff(self) -> None:
        live = not (self.read_only and self.fleet.read_only)  # a replay diffs recorded commits
        if self.main.query_one(ContentSwitcher).current == "board":
            if (task := self._selected_task()) is None:
                return
            target = task_diff(self.fleet.state, task, live)
        else:
            if (agent := self.focused_agent()) is None:
                return
            target = agent_diff(self.fleet.state, agent, live)
        if isinstance(target, str):
            self.notify(target, severity="warning")
            return
        self.push_screen(DiffScreen(target))
