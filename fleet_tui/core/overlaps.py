"""Overlaps between task branches, caught before they become conflicts: pure rules over the
state (``state.branches``: what each task's branch changes, from ``workspace.changed``).

Two *live* branches (their tasks not merged) that change the same path overlap. ``on_event``
runs after each event that can start or end an overlap (``workspace.changed``,
``merge.merged``, ``task.moved``, ``workspace.switched``):

- an overlap not alerted yet (or alerted as a plain overlap, when one side changed again) asks
  for a conflict check: a ``CheckOverlap`` command, which the daemon carries out with ``git
  merge-tree`` on both heads (``adapters/merge_tree.py``) without touching any worktree;
- ``checked`` turns the result into the alert: kind ``overlap`` naming both agents, both tasks
  and the files, or ``conflict`` saying where a merge of the two would conflict. Once per
  episode; an overlap alerted as plain is alerted once more if it comes to conflict;
- an alerted overlap that is gone (one side merged, or dropped the files) is cleared: an
  alert with ``cleared`` set and the same key.

The key of an overlap's alerts names the pair of tasks (``pair_key``).
"""

from __future__ import annotations

import msgspec

from fleet_tui.core import events as ev
from fleet_tui.core.state import MERGED, FleetState
from fleet_tui.core.workspace_state import OverlapSeen, TaskBranch

#: How many paths an alert's message names before "and N more".
NAMED_FILES = 5


class Conflict(msgspec.Struct, frozen=True):
    """A path a merge would conflict in, and the line ranges of its conflict hunks (in the
    merged file, as ``git merge-tree`` writes it with markers)."""

    path: str
    hunks: tuple[tuple[int, int], ...] = ()


class Overlap(msgspec.Struct, frozen=True):
    key: str
    tasks: tuple[str, str]
    agents: tuple[str, str]
    heads: tuple[str, str]
    files: tuple[str, ...]


class CheckOverlap(msgspec.Struct, frozen=True, kw_only=True):
    """A command: would ``heads`` (the branches of ``tasks``) conflict if merged? ``repo``:
    where to ask git (empty: unknown, the alert is raised unchecked)."""

    key: str
    repo: str
    heads: tuple[str, str]


def pair_key(a: str, b: str) -> str:
    """The alert key of the overlap of tasks ``a`` and ``b`` (either order): unambiguous
    whatever the ids hold."""
    return msgspec.json.encode(sorted((a, b))).decode()


def pair_of(key: str) -> tuple[str, str] | None:
    try:
        pair = msgspec.json.decode(key, type=tuple[str, str])
    except msgspec.DecodeError:
        return None
    return pair


def _merged(state: FleetState, task_id: str) -> bool:
    branch, task = state.branches.get(task_id), state.tasks.get(task_id)
    return bool(branch and branch.merged_commit) or (task is not None and task.column == MERGED)


def _live(state: FleetState) -> dict[str, TaskBranch]:
    """Branches whose work is not in the base yet and that change something."""
    return {task_id: branch for task_id, branch in state.branches.items()
            if branch.files and not _merged(state, task_id)}


def find_overlaps(state: FleetState) -> dict[str, Overlap]:
    """Every pair of live branches changing a path in common, by key."""
    live = _live(state)
    by_path: dict[str, list[str]] = {}
    for task_id in sorted(live):
        for change in live[task_id].files:
            by_path.setdefault(change.path, []).append(task_id)
    shared: dict[tuple[str, str], list[str]] = {}
    for path, tasks in by_path.items():
        for i, a in enumerate(tasks):
            for b in tasks[i + 1:]:
                shared.setdefault((a, b), []).append(path)
    found = {}
    for (a, b), files in shared.items():
        key = pair_key(a, b)
        found[key] = Overlap(key=key, tasks=(a, b), agents=(live[a].agent, live[b].agent),
                             heads=(live[a].head, live[b].head), files=tuple(sorted(files)))
    return found


def _repo(state: FleetState, overlap: Overlap) -> str:
    for agent in overlap.agents:
        workspace = state.workspaces.get(agent)
        if workspace is not None and (workspace.repo or workspace.path):
            return workspace.repo or workspace.path
    return ""


_TRIGGERS = (ev.WorkspaceChanged, ev.WorkspaceSwitched, ev.MergeMerged, ev.TaskMoved)


def on_event(state: FleetState, event: ev.Event) -> tuple[list[ev.Event], list[CheckOverlap]]:
    """Clear the overlaps that ended; ask for checks of those starting or changing."""
    if not isinstance(event, _TRIGGERS):
        return [], []
    current = find_overlaps(state)
    alerts: list[ev.Event] = []
    for key, seen in state.overlaps.items():
        if key not in current:
            a, b = seen.tasks
            gone = [t for t in seen.tasks if _merged(state, t)]
            why = f"{gone[0]} is merged" if gone else f"{a} and {b} no longer change the same files"
            alerts.append(ev.Alert(kind=ev.ALERT_CONFLICT if seen.conflicts else ev.ALERT_OVERLAP,
                                   key=key, cleared=True, task=a, message=f"over: {why}"))
    changed = event.task if isinstance(event, ev.WorkspaceChanged) else None
    checks = []
    for key, overlap in current.items():
        seen = state.overlaps.get(key)
        if seen is None or (not seen.conflicts and changed in overlap.tasks):
            checks.append(CheckOverlap(key=key, repo=_repo(state, overlap), heads=overlap.heads))
    return alerts, checks


def _names(paths: list[str]) -> str:
    named = ", ".join(paths[:NAMED_FILES])
    more = len(paths) - NAMED_FILES
    return f"{named} and {more} more" if more > 0 else named


def _where(conflict: Conflict) -> str:
    if not conflict.hunks:
        return conflict.path
    lines = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in conflict.hunks[:3])
    return f"{conflict.path} (lines {lines})"


def checked(state: FleetState, check: CheckOverlap, conflicts: list[Conflict] | None,
            problem: str = "") -> ev.Alert | None:
    """The alert for a check's result (``conflicts`` None: not checked, ``problem`` says
    why), or None when the overlap is gone or already alerted as it stands."""
    overlap = find_overlaps(state).get(check.key)
    if overlap is None:
        return None
    seen = state.overlaps.get(check.key)
    if seen is not None and (seen.conflicts or not conflicts):
        return None
    (a, b), (agent_a, agent_b) = overlap.tasks, overlap.agents
    files = list(overlap.files)
    message = f"{agent_a} ({a}) and {agent_b} ({b}) both change {_names(files)}"
    if conflicts:
        where = [_where(c) for c in conflicts]
        named = "; ".join(where[:NAMED_FILES]) + (f" and {len(where) - NAMED_FILES} more"
                                                  if len(where) > NAMED_FILES else "")
        return ev.Alert(kind=ev.ALERT_CONFLICT, key=check.key, agent=agent_a, task=a,
                        files=[c.path for c in conflicts],
                        message=f"{message}: merging them would conflict in {named}")
    if conflicts is None:
        message += f" (conflicts not checked: {problem})" if problem else ""
    else:
        message += " (their commits merge cleanly so far)"
    return ev.Alert(kind=ev.ALERT_OVERLAP, key=check.key, agent=agent_a, task=a, files=files,
                    message=message)


def fold_alert(state: FleetState, e: ev.Alert) -> None:
    """Remember an overlap alerted until it clears (``fold._on_alert``)."""
    if e.cleared:
        state.overlaps.pop(e.key, None)
        return
    tasks = pair_of(e.key)
    if tasks is not None:
        conflicts = list(e.files) if e.kind == ev.ALERT_CONFLICT else []
        state.overlaps[e.key] = OverlapSeen(tasks=tasks, conflicts=conflicts, message=e.message)
