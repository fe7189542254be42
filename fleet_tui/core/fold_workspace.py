"""How ``workspace.*`` and ``merge.*`` events change the state (``FleetState.workspaces``,
``branches`` and ``merge``); ``fold.HANDLERS`` includes ``HANDLERS`` below."""

from __future__ import annotations

from collections.abc import Callable

from fleet_tui.core import workspace_events as wev
from fleet_tui.core.state import FleetState
from fleet_tui.core.workspace_state import TaskBranch, WorkspaceState


def _workspace(state: FleetState, agent: str) -> WorkspaceState:
    workspace = state.workspaces.get(agent)
    if workspace is None:
        workspace = state.workspaces[agent] = WorkspaceState(agent=agent)
    return workspace


def _branch(state: FleetState, task: str) -> TaskBranch:
    branch = state.branches.get(task)
    if branch is None:
        branch = state.branches[task] = TaskBranch()
    return branch


def _on_created(state: FleetState, e: wev.WorkspaceCreated) -> None:
    workspace = _workspace(state, e.agent)
    workspace.path, workspace.repo, workspace.base = e.path, e.repo, e.base


def _on_switched(state: FleetState, e: wev.WorkspaceSwitched) -> None:
    workspace = _workspace(state, e.agent)
    workspace.task, workspace.branch, workspace.base_commit = e.task, e.branch, e.base_commit
    workspace.head, workspace.files, workspace.dirty = "", [], False
    if not e.task:
        return  # left its branch (another worktree takes it)
    branch = _branch(state, e.task)
    branch.branch, branch.agent = e.branch, e.agent
    branch.base_commit = e.base_commit
    if e.created:
        branch.head, branch.files = "", []
    else:
        workspace.head, workspace.files = branch.head, list(branch.files)


def _on_changed(state: FleetState, e: wev.WorkspaceChanged) -> None:
    workspace = _workspace(state, e.agent)
    workspace.head, workspace.files, workspace.changed_at = e.head, list(e.files), e.ts
    agent = state.agents.get(e.agent)
    if workspace.dirty and not e.dirty and agent is not None:
        agent.prompt_failed = False  # the tree that held a task back is clean: it may get one
    workspace.dirty = e.dirty
    if e.base_commit:
        workspace.base_commit = e.base_commit
    if e.task:
        branch = _branch(state, e.task)
        branch.branch, branch.agent = e.branch or branch.branch, e.agent
        branch.head, branch.files = e.head, list(e.files)
        if e.base_commit:
            branch.base_commit = e.base_commit


def _on_removed(state: FleetState, e: wev.WorkspaceRemoved) -> None:
    state.workspaces.pop(e.agent, None)


def _on_queued(state: FleetState, e: wev.MergeQueued) -> None:
    merge = state.merge
    if e.task not in merge.queue and e.task != merge.current:
        merge.queue.append(e.task)
    merge.failures.pop(e.task, None)


def _on_started(state: FleetState, e: wev.MergeStarted) -> None:
    merge = state.merge
    if e.task in merge.queue:
        merge.queue.remove(e.task)
    merge.current, merge.runner, merge.checks = e.task, e.runner, []


def _on_checked(state: FleetState, e: wev.MergeChecked) -> None:
    if state.merge.current == e.task:
        state.merge.checks.append((" ".join(e.check), e.ok))


def _leave(state: FleetState, task: str) -> None:
    merge = state.merge
    if task in merge.queue:
        merge.queue.remove(task)
    if merge.current == task:
        merge.current, merge.runner, merge.checks = "", "", []


def _on_merged(state: FleetState, e: wev.MergeMerged) -> None:
    _leave(state, e.task)
    branch = _branch(state, e.task)
    branch.branch = e.branch
    branch.merged_commit, branch.commits = e.commit, list(e.commits)


def _on_failed(state: FleetState, e: wev.MergeFailed) -> None:
    _leave(state, e.task)
    state.merge.failures[e.task] = e.reason


HANDLERS: dict[type, Callable] = {
    wev.WorkspaceCreated: _on_created,
    wev.WorkspaceSwitched: _on_switched,
    wev.WorkspaceChanged: _on_changed,
    wev.WorkspaceRemoved: _on_removed,
    wev.MergeQueued: _on_queued,
    wev.MergeStarted: _on_started,
    wev.MergeChecked: _on_checked,
    wev.MergeMerged: _on_merged,
    wev.MergeFailed: _on_failed,
}
