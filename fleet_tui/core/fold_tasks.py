"""How task and approval events change the state (``FleetState.tasks``): created, edited,
assigned, moved, reported on, noted, and approvals asked for and decided; ``fold.HANDLERS``
includes ``HANDLERS`` below."""

from __future__ import annotations

from collections.abc import Callable

from fleet_tui.core import events as ev
from fleet_tui.core.state import ApprovalState, FleetState, Note, TaskState


def _on_task_created(state: FleetState, e: ev.TaskCreated) -> None:
    state.tasks[e.task] = TaskState(
        id=e.task,
        title=e.title,
        description=e.description,
        role=e.role,
        column=e.column,
        depends_on=list(e.depends_on),
        acceptance=list(e.acceptance),
        tags=list(e.tags),
        parent=e.parent,
        created_at=e.ts,
        updated_at=e.ts,
    )


def _on_task_updated(state: FleetState, e: ev.TaskUpdated) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    if e.title is not None:
        task.title = e.title
    if e.description is not None:
        task.description = e.description
    if e.role is not None:
        task.role = e.role
    if e.tags is not None:
        task.tags = list(e.tags)
    if e.depends_on is not None:
        task.depends_on = list(e.depends_on)
    task.updated_at = e.ts


def _on_task_assigned(state: FleetState, e: ev.TaskAssigned) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    previous = state.agents.get(task.assignee) if task.assignee else None
    if previous is not None and e.task in previous.tasks:
        previous.tasks = [t for t in previous.tasks if t != e.task]
    task.assignee = e.agent
    task.updated_at = e.ts
    agent = state.agents.get(e.agent) if e.agent else None
    if agent is not None and e.task not in agent.tasks:
        agent.tasks = [*agent.tasks, e.task]
    if e.agent is not None:
        task.owners = {**task.owners, task.column: e.agent}


def _on_task_moved(state: FleetState, e: ev.TaskMoved) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    task.column = e.column
    task.updated_at = e.ts


def _on_task_reported(state: FleetState, e: ev.TaskReported) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    if e.note:
        author = e.agent or e.source
        kind = "handoff" if e.outcome == "done" else e.outcome
        task.notes = [*task.notes, Note(text=e.note, kind=kind, author=author, ts=e.ts, seq=e.seq)]
    task.updated_at = e.ts


def _on_task_note(state: FleetState, e: ev.TaskNote) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    author = e.agent or e.source
    task.notes = [*task.notes, Note(text=e.text, kind=e.kind, author=author, ts=e.ts, seq=e.seq)]
    task.updated_at = e.ts


def _on_approval_requested(state: FleetState, e: ev.ApprovalRequested) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    approval = ApprovalState(
        id=e.approval,
        task=e.task,
        transition=e.transition,
        to_column=e.to_column,
        reason=e.reason,
        requested_at=e.ts,
    )
    task.pending_approvals = [a for a in task.pending_approvals if a.id != e.approval]
    task.pending_approvals.append(approval)
    task.updated_at = e.ts


def _on_approval_decided(state: FleetState, e: ev.ApprovalGranted | ev.ApprovalDenied) -> None:
    task = state.tasks.get(e.task)
    if task is None:
        return
    task.pending_approvals = [a for a in task.pending_approvals if a.id != e.approval]
    task.updated_at = e.ts


HANDLERS: dict[type, Callable] = {
    ev.TaskCreated: _on_task_created,
    ev.TaskUpdated: _on_task_updated,
    ev.TaskAssigned: _on_task_assigned,
    ev.TaskMoved: _on_task_moved,
    ev.TaskReported: _on_task_reported,
    ev.TaskNote: _on_task_note,
    ev.ApprovalRequested: _on_approval_requested,
    ev.ApprovalGranted: _on_approval_decided,
    ev.ApprovalDenied: _on_approval_decided,
}
