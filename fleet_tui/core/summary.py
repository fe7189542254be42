"""One-line, human summaries of events, for the timeline and for reports; safe to draw
(``fleet_tui.core.sanitize.safe_line``)."""

from __future__ import annotations

from collections.abc import Callable

from fleet_tui.core import events as ev
from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.workspace_events import FileChange


def _short(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def files_summary(files: list[FileChange]) -> str:
    """``3 files +12 -4`` (binary files count as files, not lines); ``1 file +2 -0``."""
    added = sum(f.added for f in files if f.added > 0)
    removed = sum(f.removed for f in files if f.removed > 0)
    return f"{len(files)} file{'' if len(files) == 1 else 's'} +{added} -{removed}"


_SUMMARIES: dict[type, Callable[[ev.Event], str]] = {
    ev.LogHeader: lambda e: f"session {e.session} of fleet {e.fleet} started on {e.host}",
    ev.ConfigLoaded: lambda e: f"loaded {e.path}: {len(e.agents)} agents, {e.tasks} tasks",
    ev.DaemonStopped: lambda e: "the fleet was stopped" + (" with its agents" if e.agents_killed else
                                                            ", its agents left running"),
    ev.Error: lambda e: f"{e.kind}: {_short(e.message)}",
    ev.Alert: lambda e: f"{e.kind}{' cleared' if e.cleared else ''}: {_short(e.message, 240)}",
    ev.HostUnreachable: lambda e: f"host {e.host} unreachable: {_short(e.reason, 60)}",
    ev.HostReachable: lambda e: f"host {e.host} back after a gap of {elapsed(e.gap)} "
                                "(its agents' screens captured again)",
    ev.AgentSpawned: lambda e: ("adopted running session" if e.adopted
                                else f"spawned: {_short(' '.join(e.command), 60)}"),
    ev.AgentStarted: lambda e: f"started (pid {e.pid}, pane {e.pane})",
    ev.AgentOutput: lambda e: f"{len(e.changes)} rows changed",
    ev.AgentStatus: lambda e: f"{'says ' if e.explicit else 'screen shows '}{e.status}"
    + (f" ({_short(e.reason, 50)})" if e.reason else ""),
    ev.AgentSession: lambda e: f"{e.tool} session {e.session_id}" + (f" ({e.model})" if e.model else ""),
    ev.AgentTouched: lambda e: f"edited {_short(e.path, 70)}",
    ev.AgentPaused: lambda e: f"paused: {e.reason}" if e.reason else "paused",
    ev.AgentResumed: lambda e: "resumed",
    ev.AgentPrompted: lambda e: f"prompt{'' if e.delivered else ' NOT delivered'}: {_short(e.text, 60)}",
    ev.AgentExited: lambda e: f"exited with code {e.code}" + (f" ({e.signal})" if e.signal else ""),
    ev.AgentRestarting: lambda e: e.reason or f"restarting (attempt {e.attempt}/{e.limit})",
    ev.AgentKilled: lambda e: f"killed ({e.how or 'kill'}): {e.reason}",
    ev.AgentLost: lambda e: f"lost: {e.reason}",
    ev.TaskCreated: lambda e: f"created '{_short(e.title, 50)}' in {e.column}",
    ev.TaskUpdated: lambda e: "updated",
    ev.TaskAssigned: lambda e: e.reason or (f"assigned to {e.agent}" if e.agent else "unassigned"),
    ev.TaskMoved: lambda e: f"{e.from_column or '?'} → {e.column}" + (f": {e.reason}" if e.reason else ""),
    ev.TaskReported: lambda e: f"reported {e.outcome}" + (f": {_short(e.note, 60)}" if e.note else ""),
    ev.TaskNote: lambda e: f"{e.kind}: {_short(e.text, 70)}",
    ev.ApprovalRequested: lambda e: f"approval needed for {e.transition} ({e.reason})",
    ev.ApprovalGranted: lambda e: f"approved {e.approval}" + (f": {e.comment}" if e.comment else ""),
    ev.ApprovalDenied: lambda e: f"denied {e.approval}" + (f": {e.comment}" if e.comment else ""),
    ev.CostReported: lambda e: f"{e.input_tokens}+{e.output_tokens} tokens"
    + (f" (+{e.cache_creation_tokens + e.cache_read_tokens} cached)"
       if e.cache_creation_tokens or e.cache_read_tokens else "")
    + f", ${e.usd:.4f} ({e.model})",
    # workspaces
    ev.WorkspaceCreated: lambda e: f"{'adopted' if e.adopted else 'made'} worktree {e.path} (base {e.base})",
    ev.WorkspaceSwitched: lambda e: (f"on {e.branch}, " + ("new from" if e.created else "back, base")
                                     + f" {e.base_commit[:10]}") if e.task else "left its branch",
    ev.WorkspaceChanged: lambda e: f"{e.branch or 'detached'}: {files_summary(e.files)}"
    + (" (uncommitted changes)" if e.dirty else "") + f" at {e.head[:10]}",
    ev.WorkspaceRemoved: lambda e: f"worktree {e.path} removed" + (f": {e.reason}" if e.reason else ""),
    ev.MergeQueued: lambda e: f"{e.branch} queued to merge" + (f": {e.reason}" if e.reason else ""),
    ev.MergeStarted: lambda e: f"merging {e.branch} onto {e.base_commit[:12]}"
    + (f", checks in {e.runner}" if e.runner else ""),
    ev.MergeChecked: lambda e: f"check {'passed' if e.ok else 'FAILED'}: {_short(' '.join(e.check), 50)}"
    + (" (timed out)" if e.code is None else f" (exit {e.code}, {e.seconds:.1f}s)"),
    ev.MergeMerged: lambda e: f"{e.branch} merged into {e.base} at {e.commit[:12]}"
    + (", pushed" if e.pushed else "") + (", branch deleted" if e.branch_deleted else ""),
    ev.MergeFailed: lambda e: f"merge failed ({e.reason}): {_short(e.message, 70)}",
}


def summarize(event: ev.Event) -> str:
    render = _SUMMARIES.get(type(event))
    return safe_line(render(event)) if render else event.type_name


def subject(event: ev.Event) -> str:
    """The agent and/or task an event is about, e.g. ``dev-1 T3``, or the remote host."""
    parts = [getattr(event, "agent", None), getattr(event, "task", None), host_of(event)]
    return safe_line(" ".join(p for p in parts if p))


def host_of(event: ev.Event) -> str:
    """The remote host an event is about: its link dropping or coming back, its alert ("" for
    any other event)."""
    if isinstance(event, ev.HostUnreachable | ev.HostReachable):
        return event.host
    if isinstance(event, ev.Alert) and event.kind == ev.ALERT_HOST:
        return event.key
    return ""


def elapsed(seconds: float) -> str:
    """A short duration: 45s, 3m12s, 2h05m, 3d04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
