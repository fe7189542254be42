"""The one-line header: fleet name, the event log's trouble (disk full) while it lasts, agents
needing you, alerts not yet seen, remote hosts unreachable, approvals waiting, branches that
overlap or would conflict, the merge queue's length, agents by status (lost apart from
exited), open tasks and cost."""

from __future__ import annotations

from rich.text import Text

from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import FleetState

STATUS_STYLE = {
    "working": "bold green",
    "idle": "cyan",
    "waiting": "bold black on yellow",
    "stalled": "bold white on red",
    "paused": "magenta",
    "exited": "dim",
    "lost": "bold red",
    "unreachable": "bold yellow",
}


def header_text(state: FleetState, unseen_alerts: int = 0, needing_you: int = 0,
                flash: bool = False) -> Text:
    """What needs the person comes first, so it stays on screen at 80 columns: the log's
    trouble, agents needing you (``flash``: reversed after a new call), alerts not yet seen
    (the UI keeps that; see ``FleetApp.refresh_view``), approvals waiting; then agents by
    status, open tasks and cost."""
    counts = state.status_counts()
    parts = [Text(f" {safe_line(state.fleet) or 'fleet'} ", style="bold reverse")]
    if state.log_problem:
        parts.append(Text(f" ⚠ {state.log_problem.split(':', 1)[0]}: log not written",
                          style="bold white on red"))
    if needing_you:
        parts.append(Text(f" ⚠ {needing_you} need you (w)",
                          style="bold reverse yellow" if flash else "bold yellow"))
    if unseen_alerts > 0:
        plural = "s" if unseen_alerts > 1 else ""
        parts.append(Text(f" ⚠ {unseen_alerts} alert{plural}", style="bold white on red"))
    if state.hosts_down:  # (their agents are not started: no card says so; the alert says why)
        down = list(state.hosts_down)
        what = f"host {safe_line(down[0])}" if len(down) == 1 else f"{len(down)} hosts"
        parts.append(Text(f" ⚠ {what} unreachable", style="bold yellow"))
    approvals = len(state.pending_approvals())
    if approvals:
        parts.append(Text(f" ⚑ {approvals} to approve", style="bold yellow"))
    parts += _branches(state)
    for status, style in STATUS_STYLE.items():
        count = counts.get(status, 0)
        if count:
            parts.append(Text(f" {count} {status}", style=style))
    parts.append(Text(f"  {state.open_tasks()} open tasks"))
    parts.append(Text(f"  ${state.cost.usd:.2f}", style="bold"))
    return Text.assemble(*parts)


def _branches(state: FleetState) -> list[Text]:
    """Overlaps alerted and not cleared (conflicts apart), and the merge queue's length (the
    task being merged included)."""
    parts = []
    conflicts = sum(1 for o in state.overlaps.values() if o.conflicts)
    if conflicts:
        parts.append(Text(f" ✖ {conflicts} conflict{'s' if conflicts > 1 else ''}", style="bold red"))
    if overlaps := len(state.overlaps) - conflicts:
        parts.append(Text(f" ⚠ {overlaps} overlap{'s' if overlaps > 1 else ''}", style="yellow"))
    queued = len(state.merge.queue) + bool(state.merge.current)
    if queued:
        parts.append(Text(f" ⇅ {queued} to merge", style="bold cyan"))
    return parts
