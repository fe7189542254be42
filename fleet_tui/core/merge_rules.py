"""The merge queue's rules (pure): which tasks join it, what follows each step's outcome.

- a task moved into the feeding stage (``MergePolicy.stage``: done, after its approval) whose
  branch holds work not merged yet joins the queue: ``merge.queued`` with its reason;
- whenever the queue may advance (a task joined it, or the current one left it), a
  ``MergeNext`` command asks the daemon's merge worker to take the next task
  (``daemon/merge_queue.py`` does the git work and records ``merge.started``/``checked``/
  ``merged``/``failed``);
- ``merge.merged`` moves the task to the ``merged`` column, with the commit in the reason;
- ``merge.failed`` sends the task back to its implementer (the agent whose branch it is, in
  the work stage it worked the task in) exactly like a reviewer's send-back: a ``blocked`` note
  holding the conflicting files or the failing check's last lines, the move, the assignment
  and the prompt that carries the note.
"""

from __future__ import annotations

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.routing import Prompt, RoutingPolicy, resend, send_back_to
from fleet_tui.core.state import MERGED, FleetState, Note, TaskState

#: Who the merge queue's notes are from.
AUTHOR = "merge queue"
#: The pseudo-agent whose pane runs the checks (its card): no agent of the fleet may take it.
RUNNER = "merge-queue"
#: Lines of a failing check's output kept in the note.
NOTE_TAIL = 15


class MergePolicy(msgspec.Struct, frozen=True):
    """The stage whose tasks join the queue."""

    stage: str


class MergeNext(msgspec.Struct, frozen=True):
    """A command: take the queue's next task if none is being merged."""


def _queueable(state: FleetState, task_id: str) -> ev.MergeQueued | None:
    branch = state.branches.get(task_id)
    merge = state.merge
    if branch is None or not branch.branch or branch.merged_commit:
        return None
    if task_id in merge.queue or task_id == merge.current:
        return None
    if not branch.files and (not branch.head or branch.head == branch.base_commit):
        return None  # nothing on it to merge
    return ev.MergeQueued(task=task_id, branch=branch.branch, agent=branch.agent)


def _note(e: ev.MergeFailed) -> str:
    text = e.message or f"the merge failed ({e.reason})"
    if e.files:
        text += "\nconflicting files: " + ", ".join(e.files)
    if e.tail:
        text += "\nlast lines of the check:\n" + "\n".join(e.tail[-NOTE_TAIL:])
    return text


def _implementer_stage(policy: RoutingPolicy, task: TaskState, agent: str) -> str:
    """The work stage ``agent`` worked ``task`` in; else the first work stage."""
    work = [s.name for s in policy.stages if s.roles]
    return next((c for c in work if task.owners.get(c) == agent), work[0] if work else "")


def _send_back(state: FleetState, routing: RoutingPolicy, e: ev.MergeFailed
               ) -> tuple[list[ev.Event], list[Prompt]]:
    task = state.tasks.get(e.task)
    branch = state.branches.get(e.task)
    if task is None:
        return [], []
    text = _note(e)
    note = ev.TaskNote(task=task.id, text=text, kind="blocked")
    column = _implementer_stage(routing, task, branch.agent if branch else "")
    if not column:
        return [note], []
    moves = send_back_to(state, task, column, f"the merge failed ({e.reason})")
    # The prompt carries the note, as a reviewer's does (the note is folded after this).
    noted = msgspec.structs.replace(task, notes=[*task.notes, Note(text=text, kind="blocked",
                                                                    author=AUTHOR)])
    return [note, *moves], resend(routing, noted, moves)


def on_event(state: FleetState, routing: RoutingPolicy, policy: MergePolicy | None,
             event: ev.Event) -> tuple[list[ev.Event], list[Prompt | MergeNext]]:
    """The merge queue's reaction to one event already folded into ``state``."""
    if policy is None:
        return [], []
    if isinstance(event, ev.TaskMoved):
        if event.column != policy.stage or event.from_column == policy.stage:
            return [], []
        queued = _queueable(state, event.task)
        if queued is None:
            return [], []
        queued.reason = f"{event.task} reached {policy.stage}"
        return [queued], []
    if isinstance(event, ev.MergeQueued):
        return [], [MergeNext()]
    if isinstance(event, ev.MergeMerged):
        task = state.tasks.get(event.task)
        moved: list[ev.Event] = []
        if task is not None and task.column != MERGED:
            moved.append(ev.TaskMoved(task=event.task, column=MERGED, from_column=task.column,
                                      reason=f"merged into {event.base} at {event.commit[:12]}"))
        return moved, [MergeNext()]
    if isinstance(event, ev.MergeFailed):
        events, prompts = _send_back(state, routing, event)
        return events, [*prompts, MergeNext()]
    return [], []
