"""What happened while a person was away: the few lines a UI shows when it comes back.

From the timeline events after the last one that person saw: tasks moved and finished,
approvals waiting now, alerts and errors, agents that exited or were lost.
"""

from __future__ import annotations

from fleet_tui.core import events as ev
from fleet_tui.core.state import FleetState
from fleet_tui.core.summary import subject, summarize

#: Lines listed per kind before "and N more".
PER_KIND = 5
_KINDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("tasks", (ev.TaskMoved, ev.TaskReported)),
    ("alerts", (ev.Alert, ev.Error)),
    ("agents", (ev.AgentExited, ev.AgentLost, ev.AgentRestarting)),
)


def away_lines(state: FleetState, seen_seq: int) -> list[str]:
    """[] when nothing is new since ``seen_seq`` (or this person was never here)."""
    if not seen_seq or state.last_seq <= seen_seq:
        return []
    gap = [e for e in state.timeline if e.seq > seen_seq]
    lines = [f"{state.last_seq - seen_seq} events since you last looked"]
    for name, kinds in _KINDS:
        found = [e for e in gap if isinstance(e, kinds)]
        if not found:
            continue
        lines.append(f"{name}:")
        lines += [f"  {subject(e)}: {summarize(e)}" for e in found[-PER_KIND:]]
        if len(found) > PER_KIND:
            lines.append(f"  … and {len(found) - PER_KIND} more (the timeline has them all)")
    waiting = state.pending_approvals()
    if waiting:
        lines.append(f"{len(waiting)} approvals waiting for you (board: a / D)")
    return lines
