"""The one-line header: fleet name, agents by status (lost apart from exited), alerts not yet
seen, open tasks, approvals waiting, cost, and the event log's trouble (disk full) while it
lasts."""

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
}


def header_text(state: FleetState, unseen_alerts: int = 0) -> Text:
    """``unseen_alerts``: alerts raised since the user last looked at the timeline (the UI
    keeps that; see ``FleetApp.refresh_view``)."""
    counts = state.status_counts()
    parts = [Text(f" {safe_line(state.fleet) or 'fleet'} ", style="bold reverse")]
    for status, style in STATUS_STYLE.items():
        count = counts.get(status, 0)
        if count:
            parts.append(Text(f" {count} {status}", style=style))
    if unseen_alerts > 0:
        plural = "s" if unseen_alerts > 1 else ""
        parts.append(Text(f"  ⚠ {unseen_alerts} alert{plural}", style="bold white on red"))
    parts.append(Text(f"  {state.open_tasks()} open tasks"))
    approvals = len(state.pending_approvals())
    if approvals:
        parts.append(Text(f"  ⚑ {approvals} to approve", style="bold yellow"))
    parts.append(Text(f"  ${state.cost.usd:.2f}", style="bold"))
    if state.log_problem:
        parts.append(Text(f"  ⚠ {state.log_problem.split(':', 1)[0]}: log not written",
                          style="bold white on red"))
    return Text.assemble(*parts)
